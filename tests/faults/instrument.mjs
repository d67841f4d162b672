// The one page instrumentation of the fault tests (an init script, before
// any of the page's own): it counts what the SDK could leave behind after a
// fault (peer connections and WebSockets not closed, listeners on them and
// on data channels, SDK timers not yet run or cleared) and records every
// coordinator frame in both directions.
//
// Page-side, it defines:
//   __leaks()     { peersMade, peersOpen, socketsOpen, listeners, sdkTimers }
//   __newestPeer() the newest peer connection not closed
//   __peerStates  each peer's connectionState changes, timed (Date.now)
//   __frames      every coordinator frame: { url, in } or { url, out }

const instrument = () => {
  const NativePeer = window.RTCPeerConnection;
  const NativeSocket = window.WebSocket;
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  const peers = [];
  const sockets = [];
  window.__peerStates = [];
  window.__frames = [];

  window.RTCPeerConnection = class extends NativePeer {
    constructor(...args) {
      super(...args);
      peers.push(this);
      const n = peers.length;
      // The native add: the instrument's own listeners are not counted.
      add.call(this, "connectionstatechange", () =>
        window.__peerStates.push({ at: Date.now(), name: "peer", e: `#${n} ${this.connectionState}` }),
      );
    }
  };
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
      add.call(this, "message", (e) => window.__frames.push({ url: this.url, in: JSON.parse(e.data) }));
    }
    send(data) {
      window.__frames.push({ url: this.url, out: JSON.parse(data) });
      super.send(data);
    }
  };

  // Listeners on peers, channels and sockets: the SDK's only ones there.
  let listeners = 0;
  const registry = new WeakMap();
  const watched = (t) => t instanceof NativePeer || t instanceof RTCDataChannel || t instanceof NativeSocket;
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    if (watched(this) && fn) {
      const byType = registry.get(this) ?? new Map();
      registry.set(this, byType);
      const fns = byType.get(type) ?? new Set();
      byType.set(type, fns);
      if (!fns.has(fn)) {
        fns.add(fn);
        listeners++;
      }
    }
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    if (registry.get(this)?.get(type)?.delete(fn)) listeners--;
    return remove.call(this, type, fn, options);
  };

  // Timers the SDK set (told apart by the caller's stack) and that have neither run nor been cleared.
  const timers = new Set();
  const set = window.setTimeout;
  const clear = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...rest) {
    const sdk = /reactor_sdk/.test(new Error().stack);
    const id = set.call(window, (...a) => {
      timers.delete(id);
      return typeof fn === "function" ? fn(...a) : undefined;
    }, ms, ...rest);
    if (sdk) timers.add(id);
    return id;
  };
  window.clearTimeout = function (id) {
    timers.delete(id);
    return clear.call(window, id);
  };

  const open = () => peers.filter((pc) => pc.signalingState !== "closed");
  window.__newestPeer = () => open().at(-1);
  window.__leaks = () => ({
    peersMade: peers.length,
    peersOpen: open().length,
    socketsOpen: sockets.filter((s) => s.readyState <= NativeSocket.OPEN).length,
    listeners,
    sdkTimers: timers.size,
  });
};

/** For `page.addInitScript`. */
export const INSTRUMENT = `(${instrument})();`;

/** What the page holds now (see `__leaks`). */
export const leaks = (page) => page.evaluate(() => window.__leaks());

/** Waits until the page holds nothing of any session: no peer, socket, listener or SDK timer. */
export async function assertNothingLeft(page, timeout = 10_000) {
  await page
    .waitForFunction(() => {
      const l = window.__leaks();
      return l.peersOpen === 0 && l.socketsOpen === 0 && l.listeners === 0 && l.sdkTimers === 0;
    }, null, { timeout })
    .catch(async (e) => {
      throw new Error(`left behind: ${JSON.stringify(await leaks(page))}`, { cause: e });
    });
}
