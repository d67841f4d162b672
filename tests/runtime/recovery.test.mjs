// Machine link recovery against the real Reactor runtime (2.10.1): a
// `tint` session through the coordinator, its camera published and its
// picture painted white, loses every UDP packet for 12 s (longer than
// Chromium's 5–6 s to `disconnected` plus the SDK's 2 s grace), so the SDK
// re-makes the peer connection and re-offers it on the same runtime
// connection (PUT sdp_params). After it: the same session (no new hello,
// the paint kept), the camera published again (a video-to-video model emits
// nothing without it), messages answered once, nothing left behind.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { API_KEY, waitFor, withStack } from "../e2e/harness.mjs";
import { dropUdp } from "../faults/inject.mjs";
import {
  INSTRUMENT,
  connectRecorded,
  coordinatorStats,
  disconnectClean,
  leaks,
  secs,
  timeline,
} from "../faults/recovery.mjs";
import { startRuntime } from "./runtime.mjs";

let runtime;
before(async () => {
  runtime = await startRuntime("tint");
});
after(async () => {
  await runtime?.stop();
});

/** Polls the mean luma of the model's current video until `test(luma)` holds. */
const lumaUntil = (page, test, what, timeoutMs = 15_000) =>
  waitFor(
    async () => {
      const luma = await page.evaluate(() => rRec.track && meanLuma(rRec.track));
      return typeof luma === "number" && test(luma) && luma;
    },
    { timeoutMs, intervalMs: 150, what },
  );

const transports = () =>
  runtime.log.map((l) => l.match(/Creating new WebRTC connection \(background\) conn_id=(\d+)/)?.[1]).filter(Boolean);

test("real runtime: all UDP dropped for 12 s → the link is re-made, same session, camera and paint kept", { timeout: 180_000 }, async () => {
  const args = ["--machines", "", "--machine-url", `tint=${runtime.url}`];
  await withStack("runtime-recovery", async ({ page, baseUrl }) => {
    await page.addInitScript(INSTRUMENT);
    await page.reload();
    await connectRecorded(page, { modelName: "tint", insecureApiKey: API_KEY, coordinatorUrl: baseUrl });
    await page.evaluate(async () => {
      await r.sendMessage({ type: "paint", data: { r: 255, g: 255, b: 255, mix: 1 } });
    });
    await lumaUntil(page, (l) => l > 200, "white after paint");
    const base = { leaks: await leaks(page), stats: await coordinatorStats(baseUrl), transports: transports().length };

    const lift = dropUdp(100);
    const t0 = Date.now();
    try {
      // Past Chromium's `disconnected` (5–6 s) plus the 2 s grace, with room.
      await new Promise((resolve) => setTimeout(resolve, 12_000));
    } finally {
      lift();
    }
    const lifted = Date.now();
    await page.waitForFunction(() => rRec.timeline.some((e) => e.name === "reconnected"), null, { timeout: 60_000 });
    const back = Date.now();
    // The new track shows the painted camera: published again, the model's state kept.
    await lumaUntil(page, (l) => l > 200, "white again on the new track", 20_000);
    const white = Date.now();

    const events = await timeline(page);
    const after = events.filter((e) => e.at >= t0);
    const statuses = after.filter((e) => e.name === "statusChanged").map((e) => e.e);
    assert.deepEqual(statuses, ["connecting", "ready"], JSON.stringify(after));
    assert.deepEqual(events.filter((e) => e.name === "error"), []);
    const reconnected = after.find((e) => e.name === "reconnected").e;
    assert.equal(reconnected.link, "machine");
    assert.ok(after.some((e) => e.name === "streamChanged" && e.e), "the new track announced");
    assert.equal(events.filter((e) => e.name === "schemaReceived").length, 1);

    // Commands are answered once.
    const painted = await page.evaluate(async () => {
      const before = rRec.messages.length;
      await r.sendMessage({ type: "paint", data: { r: 0, g: 0, b: 0, mix: 1 } });
      const deadline = Date.now() + 10_000;
      while (!rRec.messages.slice(before).some((m) => m.type === "painted") && Date.now() < deadline) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
      return rRec.messages.slice(before).filter((m) => m.type === "painted");
    });
    assert.equal(painted.length, 1, JSON.stringify(painted));
    await lumaUntil(page, (l) => l < 30, "black after the next paint");

    const now = { leaks: await leaks(page), stats: await coordinatorStats(baseUrl) };
    assert.equal(now.leaks.peersOpen, 1);
    assert.equal(now.leaks.listeners, base.leaks.listeners);
    assert.equal(now.stats.sessions, 1);
    assert.equal(now.stats.clients_admitted, base.stats.clients_admitted, "no new hello: the same session");
    const made = transports().slice(base.transports);
    const path = made.every((id) => id === transports()[0]) ? "PUT on the same connection" : "a new connection (the runtime had dropped the old)";
    console.log(
      `real runtime, UDP dropped 12 s: reconnected ${secs(back - lifted)} s after the fault ended ` +
        `(attempts ${reconnected.attempts}, downtime ${secs(reconnected.downtimeMs)} s), painted picture back ${secs(white - lifted)} s after; ` +
        `runtime transports built: ${made.join(", ")} (${path}); ` +
        after.map((e) => `${e.name === "statusChanged" || e.name === "peer" ? e.e : e.name}@${secs(e.at - t0)}s`).join(" "),
    );
    await disconnectClean(page, baseUrl);
  }, { serverArgs: args });
});
