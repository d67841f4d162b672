// Test instrumentation, not app code: counts what the page opened and what is
// still open (RTCPeerConnection, WebSocket), the token requests and connect()
// calls made, and the Reactor listeners attached, for
// tests/consumers/consumers.test.mjs (window.probe()).
import { Reactor } from "@reactor-wasm/sdk";

const peers = [];
const sockets = [];
const NativePeer = window.RTCPeerConnection;
const NativeSocket = window.WebSocket;
window.RTCPeerConnection = class extends NativePeer {
  constructor(...args) {
    super(...args);
    peers.push(this);
  }
};
window.WebSocket = class extends NativeSocket {
  constructor(...args) {
    super(...args);
    sockets.push(this);
  }
};

let tokenRequests = 0;
const nativeFetch = window.fetch;
window.fetch = function (input, init) {
  if (new URL(input instanceof Request ? input.url : String(input), location.href).pathname === "/tokens") tokenRequests++;
  return nativeFetch.call(this, input, init);
};

let listeners = 0;
let connects = 0;
const { on, off, connect } = Reactor.prototype;
Reactor.prototype.connect = function () {
  connects++;
  return connect.call(this);
};
const attached = new WeakMap(); // reactor -> Set of "event handler" pairs, as the SDK dedupes them
const key = (event, handler) => `${event}\u0000${handlersId(handler)}`;
const ids = new WeakMap();
let nextId = 0;
const handlersId = (h) => ids.get(h) ?? (ids.set(h, ++nextId), nextId);
Reactor.prototype.on = function (event, handler) {
  on.call(this, event, handler);
  const set = attached.get(this) ?? attached.set(this, new Set()).get(this);
  if (!set.has(key(event, handler))) (set.add(key(event, handler)), listeners++);
};
Reactor.prototype.off = function (event, handler) {
  off.call(this, event, handler);
  if (attached.get(this)?.delete(key(event, handler))) listeners--;
};

window.probe = () => ({
  peersCreated: peers.length,
  peersOpen: peers.filter((p) => p.connectionState !== "closed" && p.signalingState !== "closed").length,
  socketsCreated: sockets.length,
  socketsOpen: sockets.filter((s) => s.readyState !== NativeSocket.CLOSED).length,
  listeners,
  connects,
  tokenRequests,
});
