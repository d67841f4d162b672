// What the machine-link fault tests share: a Reactor whose every event is
// recorded with its time, on a page instrumented to count what the SDK
// leaves behind (instrument.mjs), and the measurements the README's "When
// the network fails" table is made of.
import assert from "node:assert/strict";
import { waitFor } from "../e2e/harness.mjs";
import { installRecorder } from "../e2e/page.mjs";
import { assertNothingLeft } from "./instrument.mjs";

export { INSTRUMENT, leaks } from "./instrument.mjs";

/**
 * Loads the SDK, makes `r` with `options`, connects it and publishes the
 * fake camera (the models here are video-to-video); every event recorded
 * with its time (Date.now).
 */
export async function connectRecorded(page, options) {
  await page.evaluate(installRecorder);
  return page.evaluate(
    async (options) => {
      const r = make(options);
      const rec = rRec;
      rec.timeline = [];
      for (const name of ["statusChanged", "reconnecting", "reconnected", "error", "streamChanged", "schemaReceived"]) {
        r.on(name, (e) => rec.timeline.push({ at: Date.now(), name, e: name === "streamChanged" || name === "schemaReceived" ? !!e : name === "error" ? { code: e.code, message: e.message } : e }));
      }
      await r.connect();
      window.camera = await navigator.mediaDevices.getUserMedia({ video: true });
      await r.publishVideoStream(camera);
    },
    options,
  );
}

/** `connectRecorded` for the simulated `echo` model through the coordinator at `coordinatorUrl`. */
export const connectEcho = (page, coordinatorUrl, options = {}) =>
  connectRecorded(page, { modelName: "echo", insecureApiKey: "dev-key", coordinatorUrl, ...options });

/** The SDK's events, and the peer connections' states, in time order. */
export const timeline = (page) =>
  page.evaluate(() => [...rRec.timeline, ...window.__peerStates].sort((a, b) => a.at - b.at));
export const status = (page) => page.evaluate(() => r.getStatus());

/** The counters of the newest peer's inbound video that the fault tests read (zeros before any). */
const inboundVideo = (page) =>
  page.evaluate(async () => {
    const pc = window.__newestPeer();
    const reports = pc ? [...(await pc.getStats()).values()] : [];
    const video = reports.find((r) => r.type === "inbound-rtp" && r.kind === "video") ?? {};
    return { framesDecoded: video.framesDecoded ?? 0, keyframeRequests: (video.pliCount ?? 0) + (video.firCount ?? 0) };
  });

/** Frames the newest peer has decoded. */
export const framesDecoded = async (page) => (await inboundVideo(page)).framesDecoded;

/**
 * Keyframe requests (PLI and FIR) the newest peer has sent for the model's
 * video. Chromium asks 3 s into a stall and again every 3 s; a request sent
 * while the path is down is lost, so a machine whose video comes back after
 * a fault without a second one sent its keyframe unasked.
 */
export const keyframeRequests = async (page) => (await inboundVideo(page)).keyframeRequests;

/** Resolves with the time (Date.now) new video frames are seen after `since`. */
export async function framesFlowAgain(page, { timeoutMs, what = "video frames again" }) {
  const before = await framesDecoded(page);
  let at = 0;
  await waitFor(
    async () => {
      const now = await framesDecoded(page);
      // A new peer counts from zero: any frame of it is a new one.
      if (now > before || (now > 0 && now < before)) return (at = Date.now());
      return false;
    },
    { timeoutMs, intervalMs: 50, what },
  );
  return at;
}

/** Sends `count` messages (plus a last one) and asserts each comes back exactly once. */
export async function messagesArriveOnce(page, tag, count = 20) {
  const result = await page.evaluate(
    async ({ tag, count }) => {
      const echoes = () => rRec.messages.filter((m) => m?.type === "echo" && m.data?.data?.tag === tag);
      for (let n = 0; n <= count; n++) await r.sendMessage({ type: "probe", data: { tag, n } });
      // The channel keeps order: once the last is back, every earlier one (and any copy) is too.
      const deadline = Date.now() + 10_000;
      while (!echoes().some((m) => m.data.data.n === count) && Date.now() < deadline) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
      return echoes().map((m) => m.data.data.n);
    },
    { tag, count },
  );
  const expected = Array.from({ length: count + 1 }, (_, n) => n);
  assert.deepEqual(result, expected, `each message echoed once, in order (${tag})`);
}

/** The coordinator's view: `{ sessions, clients, sockets_open, … }`. */
export async function coordinatorStats(baseUrl) {
  const response = await fetch(`${baseUrl}/stats`);
  return response.json();
}

/** Ends the session and checks that nothing of it is left, in the page or the coordinator. */
export async function disconnectClean(page, baseUrl) {
  await page.evaluate(() => r.disconnect());
  await assertNothingLeft(page);
  await waitFor(async () => (await coordinatorStats(baseUrl)).sessions === 0, {
    timeoutMs: 10_000,
    what: "the coordinator to hold no session",
  });
}

/** Seconds, rounded to 0.1, for the report. */
export const secs = (ms) => Math.round(ms / 100) / 10;

/** What the user saw from `t0`: statuses, reconnect events, relative times (s). */
export function story(events, t0) {
  return events
    .filter((e) => e.at >= t0)
    .map((e) => {
      const what =
        e.name === "statusChanged" || e.name === "peer" ? e.e : e.name === "reconnecting" ? `reconnecting#${e.e.attempt}` : e.name;
      return `${what}@${secs(e.at - t0)}s`;
    })
    .join(" ");
}

export const hold = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a fault of `ms` (its length is the fault's definition, not a wait for a condition). */
export async function during(ms, start) {
  const lift = start();
  const t0 = Date.now();
  try {
    await hold(ms);
  } finally {
    lift();
  }
  return { t0, lifted: Date.now() };
}
