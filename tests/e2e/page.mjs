// Helpers that run inside the page (passed to page.evaluate as source), so
// every e2e test loads the SDK and records events the same way.

/** Page-side: loads the SDK once; records every event of each Reactor made with `make`. */
export const installRecorder = async () => {
  if (window.__sdk) return;
  const mod = await import("/pkg/reactor_sdk.js");
  window.__wasm = await mod.default();
  window.__sdk = mod;
  window.make = (options, name = "r") => {
    const rec = { statuses: [], waiting: [], messages: [], errors: [], fps: [], streams: [], stats: [], quality: [] };
    const reactor = new mod.Reactor(options);
    reactor.on("statusChanged", (s) => rec.statuses.push(s));
    reactor.on("waitingInfoChanged", (i) => rec.waiting.push(i));
    reactor.on("newMessage", (m) => rec.messages.push(m));
    reactor.on("error", (e) => rec.errors.push(e));
    reactor.on("fps", (f) => rec.fps.push(f));
    // Stamped with the page's clock: the cadence is checked against it.
    reactor.on("stats", (s) => rec.stats.push({ ...s, seenAt: Date.now() }));
    reactor.on("connectionQuality", (q) => rec.quality.push({ ...q, seenAt: Date.now() }));
    reactor.on("streamChanged", (t) => {
      rec.streams.push(t ? t.kind : null);
      rec.track = t;
    });
    window[name] = reactor;
    window[`${name}Rec`] = rec;
    return reactor;
  };
  /** A rejection's fields, or "resolved". */
  window.outcome = async (promise) => {
    try {
      await promise;
      return "resolved";
    } catch (e) {
      return { code: e.code, message: e.message, recoverable: e.recoverable, component: e.component, retryAfter: e.retryAfter, isError: e instanceof Error };
    }
  };
  /** Mean luma of the next frame of `track`, read with WebCodecs (no canvas). */
  window.meanLuma = async (track) => {
    const reader = new MediaStreamTrackProcessor({ track: track.clone() }).readable.getReader();
    try {
      const { value: frame } = await reader.read();
      const { visibleRect, format } = frame;
      const rect = { x: visibleRect.x, y: visibleRect.y, width: visibleRect.width & ~1, height: visibleRect.height & ~1 };
      const buffer = new Uint8Array(frame.allocationSize({ rect }));
      await frame.copyTo(buffer, { rect });
      frame.close();
      const pixels = rect.width * rect.height;
      let sum = 0;
      if (/^(I4|NV12)/.test(format)) {
        // Planar YUV: the first plane, tightly packed, is luma.
        for (let i = 0; i < pixels; i++) sum += buffer[i];
      } else {
        // RGBA/BGRA-like: approximate luma from the three colour bytes.
        for (let i = 0; i < pixels; i++) sum += (buffer[4 * i] + buffer[4 * i + 1] + buffer[4 * i + 2]) / 3;
      }
      return sum / pixels;
    } finally {
      reader.cancel().catch(() => {});
    }
  };
  /** Frames the track delivers in `ms`, counted with WebCodecs. */
  window.countFrames = async (track, ms) => {
    const reader = new MediaStreamTrackProcessor({ track: track.clone() }).readable.getReader();
    const end = performance.now() + ms;
    let frames = 0;
    while (performance.now() < end) {
      const timeout = new Promise((r) => setTimeout(() => r({ timedOut: true }), end - performance.now()));
      const next = await Promise.race([reader.read(), timeout]);
      if (next.timedOut || next.done) break;
      next.value.close();
      frames++;
    }
    reader.cancel().catch(() => {});
    return frames;
  };
};
