// Remaining time, from the server's deadline and the measured clock offset
// (docs/architecture.md "The server owns the clock"). Warnings at 15 and 5 minutes left.

const WARNINGS = [
  [15 * 60, "Attention : il reste 15 minutes."],
  [5 * 60, "Attention : il reste 5 minutes."],
  [0, "Le temps est écoulé. Restez à votre place : votre surveillant va terminer votre test."],
];

/** "1 h 05 min", "12 min", "4 min 09 s". */
export function formatRemaining(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (s >= 10 * 60) return `${m} min`;
  return `${m} min ${String(sec).padStart(2, "0")} s`;
}

/** The same, for screen readers: "1 heure 5 minutes". */
export function spokenRemaining(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.ceil((s % 3600) / 60);
  const parts = [];
  if (h) parts.push(`${h} heure${h > 1 ? "s" : ""}`);
  if (m || !h) parts.push(`${m} minute${m > 1 ? "s" : ""}`);
  return parts.join(" ");
}

export class Countdown {
  /** now(): server time in seconds; render(remaining); warn(text) for the live region. */
  constructor({ now, render, warn }) {
    this.now = now;
    this.render = render;
    this.warn = warn;
    this.deadline = null;
    this.warned = new Set();
    this.interval = 0;
  }

  setDeadline(deadline) {
    if (typeof deadline !== "number") return;
    this.deadline = deadline;
    // Time granted may bring the remaining time back above a threshold: warn again then.
    const left = deadline - this.now();
    for (const [threshold] of WARNINGS) if (left > threshold) this.warned.delete(threshold);
    if (!this.interval) this.interval = setInterval(() => this.tick(), 1000);
    this.tick();
  }

  tick() {
    if (this.deadline === null) return;
    const left = this.deadline - this.now();
    this.render(left);
    // Several thresholds crossed at once (a page opening late, a clock jump): one warning,
    // the most urgent.
    let urgent = null;
    for (const [threshold, text] of WARNINGS) {
      if (left <= threshold && !this.warned.has(threshold)) {
        this.warned.add(threshold);
        urgent = text;
      }
    }
    if (urgent) this.warn(urgent);
  }

  stop() {
    clearInterval(this.interval);
    this.interval = 0;
  }
}
