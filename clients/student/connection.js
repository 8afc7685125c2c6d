// The candidate's WebSocket: vigie.json.v1, heartbeat, clock offset, reconnection.
//
// Reconnects with exponential backoff and full jitter (AWS architecture blog, "Exponential
// Backoff And Jitter"), so a room of 20 pages does not hammer a restarted hub at once.
// A connection silent for longer than SILENCE_LIMIT (no pong to our pings) is treated as
// dead: a cut network cable often leaves the socket open for minutes otherwise.

const SUBPROTOCOL = "vigie.json.v1";
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15000;
const SILENCE_LIMIT_MS = 12000;
const CLOSE_REPLACED = 4001;

export class Connection extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.attempt = 0;
    this.nextId = 0;
    this.stopped = false;
    this.ready = false; // hello received on the current socket
    this.heartbeatMs = 5000;
    this.offset = 0; // server clock minus local clock, in seconds
    this.bestRtt = Infinity;
    this.lastFrameAt = 0;
    this.timers = { beat: 0, retry: 0 };
    window.addEventListener("offline", () => this.drop());
    window.addEventListener("online", () => this.reconnectNow());
  }

  /** Server time now, in seconds since the epoch, from the measured offset. */
  serverNow() {
    return Date.now() / 1000 + this.offset;
  }

  open() {
    if (this.stopped || this.ws) return;
    let ws;
    try {
      ws = new WebSocket(this.url, SUBPROTOCOL);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.ready = false;
    ws.onmessage = (event) => this.received(ws, event.data);
    ws.onclose = (event) => this.closed(ws, event.code);
    ws.onerror = () => {}; // onclose follows and handles it
  }

  received(ws, data) {
    if (ws !== this.ws) return;
    this.lastFrameAt = Date.now();
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "hello") {
      this.bestRtt = Infinity; // a new path: measure again
      this.sample(message.server_time, Date.now() / 1000, 0);
      this.heartbeatMs = (message.heartbeat_interval || 5) * 1000;
      this.ready = true;
      this.attempt = 0;
      this.startBeat();
      this.ping();
      this.emit("ready");
      return;
    }
    if (message.type === "pong") {
      const now = Date.now() / 1000;
      if (typeof message.client_time === "number") {
        this.sample(message.server_time, now, now - message.client_time);
      }
      return;
    }
    this.emit("message", message);
  }

  /** Keep the offset measured with the shortest round trip: it has the least error. */
  sample(serverTime, localNow, rtt) {
    if (typeof serverTime !== "number") return;
    if (rtt === 0 && this.bestRtt !== Infinity) return; // hello has no round trip
    if (rtt > 0 && rtt > this.bestRtt * 1.5 + 0.05) return;
    if (rtt > 0) this.bestRtt = Math.min(this.bestRtt, rtt);
    this.offset = serverTime + rtt / 2 - localNow;
  }

  startBeat() {
    clearInterval(this.timers.beat);
    this.timers.beat = setInterval(() => {
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        this.drop();
        return;
      }
      this.send({ type: "heartbeat" });
      this.ping();
    }, this.heartbeatMs);
  }

  ping() {
    this.send({ type: "ping", client_time: Date.now() / 1000 });
  }

  /** Send a message; returns its id, or null when the socket is not ready. */
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return null;
    const id = ++this.nextId;
    this.ws.send(JSON.stringify({ id, ...message }));
    return id;
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.ready = false;
    clearInterval(this.timers.beat);
    if (code === CLOSE_REPLACED) {
      this.stop();
      this.emit("replaced");
      return;
    }
    if (this.stopped) return;
    this.emit("lost");
    this.scheduleRetry();
  }

  /** Abandon the current socket (network gone or silent) and reconnect. */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.closed(ws, 1006);
    try {
      ws.close();
    } catch {
      // already closing
    }
  }

  scheduleRetry() {
    clearTimeout(this.timers.retry);
    if (this.stopped) return;
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = Math.random() * ceiling; // full jitter
    this.timers.retry = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timers.retry);
    this.open();
  }

  /** The test is over: no more reconnection. */
  stop() {
    this.stopped = true;
    clearInterval(this.timers.beat);
    clearTimeout(this.timers.retry);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}
