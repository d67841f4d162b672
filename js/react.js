// React bindings: `import { ReactorProvider, useReactor, ... } from "@reactor-wasm/sdk/react"`.
//
// A separate entry, so that apps without React never download it; React 18
// or 19 is a peer dependency and nothing else is needed.
//
// Ownership: a <ReactorProvider> owns one Reactor per set of options. The
// Reactor's listeners are attached once, by the provider, into a small store
// that every hook reads with useSyncExternalStore; hooks add no listeners of
// their own. Connecting and disconnecting go through a lease whose release is
// deferred by one task: StrictMode's simulated unmount/remount happens within
// one task, so it cancels the pending release and the connection is opened
// once and kept; a real unmount lets the release run, which disconnects and
// detaches every listener.
import { createContext, createElement, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { Reactor } from "./index.js";

const EVENTS = ["statusChanged", "waitingInfoChanged", "error", "schemaReceived", "streamChanged", "fps", "newMessage"];

/** The state the hooks read; a new object on every change, so React sees changes by identity. */
function snapshotOf(reactor, previous, patch) {
  return {
    ...previous,
    status: reactor.getStatus(),
    waitingInfo: reactor.getWaitingInfo(),
    lastError: reactor.getLastError(),
    schema: reactor.getSchema(),
    ...patch,
  };
}

/**
 * One Reactor's store and lease. `acquire`/`release` count the providers
 * holding it (1, or briefly 2→1 under StrictMode).
 */
function bind(reactor, autoConnect) {
  // autoConnect() reads the provider's current prop
  const subscribers = new Set();
  const handlers = [];
  let holders = 0;
  let timer;
  let snapshot = snapshotOf(reactor, { reactor, track: null, stats: undefined, message: undefined }, {});

  const update = (patch) => {
    snapshot = snapshotOf(reactor, snapshot, patch);
    for (const notify of [...subscribers]) notify();
  };
  const patchFor = {
    streamChanged: (track) => ({ track }),
    // Issue 11's richer `stats` event, when the SDK has it, merges in here.
    fps: (fps) => ({ stats: { ...snapshot.stats, fps } }),
    stats: (stats) => ({ stats: { ...snapshot.stats, ...stats } }),
    newMessage: (message) => ({ message: { value: message } }),
  };
  const attach = () => {
    const names = [...EVENTS];
    if (typeof reactor.getStats === "function") names.push("stats");
    for (const name of names) {
      const handler = (payload) => update(patchFor[name]?.(payload) ?? {});
      reactor.on(name, handler);
      handlers.push([name, handler]);
    }
  };
  const detach = () => {
    for (const [name, handler] of handlers.splice(0)) reactor.off(name, handler);
  };
  const later = (fn) => {
    clearTimeout(timer);
    timer = setTimeout(fn, 0);
  };

  return {
    subscribe(notify) {
      subscribers.add(notify);
      return () => subscribers.delete(notify);
    },
    get: () => snapshot,
    acquire() {
      if (holders++ === 0 && handlers.length === 0) attach();
      later(() => {
        if (holders > 0 && autoConnect() && reactor.getStatus() === "disconnected") {
          // The error is in lastError (and the `error` event); nothing else to do here.
          reactor.connect().catch(() => {});
        }
      });
    },
    release() {
      holders -= 1;
      later(() => {
        if (holders > 0) return;
        // disconnect() emits its events at once; then nothing of ours stays attached.
        reactor.disconnect().catch(() => {});
        update({});
        detach();
      });
    },
  };
}

const Context = createContext(null);

function useBinding() {
  const binding = useContext(Context);
  if (!binding) throw new Error("@reactor-wasm/sdk/react: this hook or component needs a <ReactorProvider> above it");
  return binding;
}

/** Options the Reactor is built from; a change of any of them makes a new Reactor. */
const OPTION_KEYS = ["modelName", "insecureApiKey", "queueing", "coordinatorUrl", "development", "local", "validateMessages"];

/**
 * Owns one Reactor for its options, connects it while mounted when
 * `autoConnect` is set, and disconnects it on unmount.
 */
export function ReactorProvider({ children, autoConnect = false, ...props }) {
  const auto = useRef(autoConnect);
  auto.current = autoConnect;
  const key = JSON.stringify(OPTION_KEYS.map((k) => props[k]));
  // Building a Reactor has no side effect (nothing connects before acquire),
  // so a render React throws away costs only the object.
  const binding = useMemo(() => {
    const options = {};
    for (const k of OPTION_KEYS) if (props[k] !== undefined) options[k] = props[k];
    return bind(new Reactor(options), () => auto.current);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` stands for the options
  }, [key]);
  useEffect(() => {
    binding.acquire();
    return binding.release;
  }, [binding]);
  return createElement(Context.Provider, { value: binding }, children);
}

/**
 * `selector(state)` re-rendering only when its result changes (Object.is);
 * state is `{ reactor, status, waitingInfo, lastError, schema, track, stats, message }`.
 * Without a selector: the Reactor itself, to call its methods.
 */
export function useReactor(selector) {
  const binding = useBinding();
  const memo = useRef(null);
  const select = selector ?? ((state) => state.reactor);
  const get = () => {
    const state = binding.get();
    const m = memo.current;
    if (!m || m.state !== state || m.select !== select) memo.current = { state, select, value: select(state) };
    return memo.current.value;
  };
  return useSyncExternalStore(binding.subscribe, get, get);
}

export const useReactorStatus = () => useReactor((s) => s.status);
export const useWaitingInfo = () => useReactor((s) => s.waitingInfo);
export const useLastError = () => useReactor((s) => s.lastError);
export const useSchema = () => useReactor((s) => s.schema);
export const useStats = () => useReactor((s) => s.stats);
export const useModelTrack = () => useReactor((s) => s.track);

/**
 * With a handler: calls it with every message from the model while mounted
 * (the latest handler; no re-render). Without: the latest message, or
 * undefined before the first.
 */
export function useReactorMessage(handler) {
  const binding = useBinding();
  const latest = useRef(handler);
  latest.current = handler;
  const wanted = typeof handler === "function";
  useEffect(() => {
    if (!wanted) return undefined;
    let seen = binding.get().message;
    return binding.subscribe(() => {
      const { message } = binding.get();
      if (message !== seen && message) {
        seen = message;
        latest.current?.(message.value);
      }
    });
  }, [binding, wanted]);
  const box = useReactor(wanted ? ignore : (s) => s.message);
  return wanted ? undefined : box?.value;
}

const ignore = () => undefined;

/** A <video> showing the model's track (muted, inline, autoplay); other props go to the element. */
export function ReactorView({ videoRef, ...props }) {
  const track = useModelTrack();
  const own = useRef(null);
  const ref = videoRef ?? own;
  useEffect(() => {
    const video = ref.current;
    if (!video) return undefined;
    video.srcObject = track ? new MediaStream([track]) : null;
    return () => {
      video.srcObject = null;
    };
  }, [track, ref]);
  return createElement("video", { autoPlay: true, playsInline: true, muted: true, ...props, ref });
}

/**
 * Publishes the camera (getUserMedia with `constraints`) to the model while
 * mounted and ready; on unmount unpublishes it and stops the camera.
 * Returns `{ stream, published, error }`.
 */
export function useWebcamStream(constraints = { video: true }) {
  const reactor = useReactor();
  const status = useReactorStatus();
  const [stream, setStream] = useState(null);
  const [published, setPublished] = useState(false);
  const [error, setError] = useState(undefined);
  const wanted = JSON.stringify(constraints);
  useEffect(() => {
    let live = true;
    let got = null;
    navigator.mediaDevices.getUserMedia(JSON.parse(wanted)).then(
      (s) => {
        got = s;
        if (live) setStream(s);
        else s.getTracks().forEach((t) => t.stop());
      },
      (e) => live && setError(e),
    );
    return () => {
      live = false;
      got?.getTracks().forEach((t) => t.stop());
      setStream(null);
    };
  }, [wanted]);
  useEffect(() => {
    if (!stream || status !== "ready") return undefined;
    let live = true;
    reactor.publishVideoStream(stream).then(
      () => live && setPublished(true),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
      setPublished(false);
      if (reactor.getStatus() === "ready") reactor.unpublishVideoStream().catch(() => {});
    };
  }, [reactor, stream, status]);
  return { stream, published, error };
}

/** useWebcamStream as a component; renders nothing, or `children(result)` when a function. */
export function WebcamStream({ constraints, children }) {
  const result = useWebcamStream(constraints);
  return typeof children === "function" ? children(result) : null;
}
