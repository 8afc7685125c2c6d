// The board's WebSocket to the hub: login, requests answered by id, server clock offset,
// and reconnection with exponential backoff and full jitter. After a reconnect it logs in
// again with its last (epoch, seq), so the hub sends exactly the missing events (or a
// fresh snapshot when it no longer keeps them): see docs/protocol.md, "Invigilator".

const SUBPROTOCOL = "vigie.json.v1";
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15000;
const REQUEST_TIMEOUT_MS = 10000;
const PING_INTERVAL_MS = 20000;
// The hub pushes `presence` every 5 s: three missed pushes mean a half-open socket.
const SILENCE_LIMIT_MS = 16000;

export class Connection extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.credentials = null; // {session, password}: memory only, never stored
    this.position = null; // {epoch, seq} of the last applied event or snapshot
    this.state = "idle";
    this.attempt = 0;
    this.nextId = 1;
    this.pending = new Map();
    this.offset = 0; // server clock minus local clock, in seconds
    this.bestRoundTrip = Infinity;
    this.timers = { retry: 0, ping: 0, watchdog: 0 };
    this.lastFrameAt = 0;
    window.addEventListener("offline", () => this._wentOffline());
    window.addEventListener("online", () => this._cameOnline());
  }

  /** Server time now, in epoch seconds. */
  now() {
    return Date.now() / 1000 + this.offset;
  }

  /** First login: resolves with the snapshot, rejects with the error frame. */
  login(session, password) {
    this.credentials = { session, password };
    this.position = null;
    return new Promise((resolve, reject) => {
      this._loginWaiter = { resolve, reject };
      this._open();
    });
  }

  logout() {
    this.credentials = null;
    this.position = null;
    this._clearTimers();
    this._setState("idle");
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  /** Remember how far the board has applied the log (after each snapshot or event). */
  setPosition(epoch, seq) {
    this.position = { epoch, seq };
  }

  /** Ask the hub to resend from our position: used when a gap in seq is seen. */
  resync() {
    if (this.ws) this.ws.close(4000, "gap");
  }

  /** Send an action; resolves with the ack, rejects with an error frame {code, message}. */
  request(message) {
    if (this.state !== "online" || !this.ws) {
      return Promise.reject({ code: navigator.onLine ? "connection_lost" : "offline" });
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject({ code: "timeout" });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this._send({ ...message, id });
    });
  }

  // --- internals -------------------------------------------------------------------

  _open() {
    this._clearTimers();
    if (!navigator.onLine) {
      this._setState("offline");
      return;
    }
    this._setState(this.position ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url, SUBPROTOCOL);
    } catch {
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this._sendLogin();
    };
    ws.onmessage = (msg) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(msg.data);
      } catch {
        return;
      }
      this._received(frame);
    };
    ws.onclose = () => {
      if (ws !== this.ws) return;
      this.ws = null;
      this._failPending("connection_lost");
      if (this.credentials) this._scheduleRetry();
    };
  }

  _sendLogin() {
    const login = { type: "login", ...this.credentials };
    if (this.position) Object.assign(login, this.position);
    this._loginStarted = performance.now();
    this._send(login);
    this._watch();
  }

  _send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  _received(frame) {
    this.lastFrameAt = performance.now();
    switch (frame.type) {
      case "hello":
        this.offset = frame.server_time - Date.now() / 1000;
        return;
      case "pong":
        this._clock(frame);
        return;
      case "snapshot":
      case "caught_up":
        this._loggedIn();
        this._emit(frame.type, frame);
        if (this._loginWaiter && frame.type === "snapshot") {
          this._loginWaiter.resolve(frame);
          this._loginWaiter = null;
        }
        return;
      case "ack":
      case "error":
        if (frame.id !== undefined && this.pending.has(frame.id)) {
          const { resolve, reject, timer } = this.pending.get(frame.id);
          clearTimeout(timer);
          this.pending.delete(frame.id);
          (frame.type === "ack" ? resolve : reject)(frame);
          return;
        }
        if (frame.type === "error" && this.state !== "online") this._loginFailed(frame);
        return;
      case "presence":
        // A pushed server_time far from our estimate means a clock jump on either side
        // (laptop asleep, server time corrected): measure the offset again at once.
        if (Math.abs(frame.server_time - this.now()) > 2) {
          this.bestRoundTrip = Infinity;
          this._ping();
        }
        this._emit(frame.type, frame);
        return;
      default:
        this._emit(frame.type, frame);
    }
  }

  _loggedIn() {
    if (this.state === "online") return;
    this.attempt = 0;
    this._setState("online");
    this._ping();
  }

  _loginFailed(error) {
    if (this._loginWaiter) {
      this._loginWaiter.reject(error);
      this._loginWaiter = null;
      this.credentials = null;
      this._clearTimers();
      this._setState("idle");
      const ws = this.ws;
      this.ws = null;
      if (ws) ws.close(1000);
      return;
    }
    if (error.code === "rate_limited" || error.code === "store_unavailable") {
      this.ws?.close(1000);
      return; // onclose retries later (the hub's store is restarting: not a wrong password)
    }
    // The password no longer works (session closed, changed): back to the login form.
    this.credentials = null;
    this._emit("logged_out", error);
    this.logout();
  }

  _ping() {
    clearTimeout(this.timers.ping);
    this._pingSentAt = Date.now() / 1000;
    this._send({ type: "ping", client_time: this._pingSentAt });
    this.timers.ping = setTimeout(() => this._ping(), PING_INTERVAL_MS);
  }

  _clock(pong) {
    // Cristian's algorithm: the server read its clock halfway through the round trip;
    // keep the estimate from the fastest round trip seen.
    const received = Date.now() / 1000;
    const sent = typeof pong.client_time === "number" ? pong.client_time : this._pingSentAt;
    const roundTrip = received - sent;
    if (roundTrip < 0 || roundTrip > 5) return;
    if (roundTrip <= this.bestRoundTrip * 1.5) {
      this.bestRoundTrip = Math.min(this.bestRoundTrip, roundTrip);
      this.offset = pong.server_time - (sent + roundTrip / 2);
    }
  }

  _watch() {
    clearInterval(this.timers.watchdog);
    this.lastFrameAt = performance.now();
    this.timers.watchdog = setInterval(() => {
      if (performance.now() - this.lastFrameAt > SILENCE_LIMIT_MS && this.ws) {
        this.ws.close(4000, "silent");
        this.ws = null;
        this._failPending("connection_lost");
        this._scheduleRetry();
      }
    }, 2000);
  }

  _scheduleRetry() {
    this._clearTimers();
    if (!this.credentials) return;
    if (!navigator.onLine) {
      this._setState("offline");
      return;
    }
    this._setState("reconnecting");
    // Exponential backoff with full jitter: twenty boards of a school whose Wi-Fi comes
    // back do not all knock at the same instant.
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    this.timers.retry = setTimeout(() => this._open(), Math.random() * ceiling);
  }

  _wentOffline() {
    if (!this.credentials) return;
    const ws = this.ws;
    this.ws = null;
    this._clearTimers();
    this._failPending("offline");
    if (ws) ws.close(4000, "offline");
    this._setState("offline");
  }

  _cameOnline() {
    if (!this.credentials || this.ws) return;
    this.attempt = 0;
    this._open();
  }

  _failPending(code) {
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject({ code });
    }
    this.pending.clear();
  }

  _clearTimers() {
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.ping);
    clearInterval(this.timers.watchdog);
  }

  _setState(state) {
    if (state === this.state) return;
    this.state = state;
    this._emit("state", { state });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
