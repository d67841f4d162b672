// `stats`, getStats() and `connectionQuality` against the reference server,
// in headless Chromium over real WebRTC on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, waitFor, API_KEY } from "./harness.mjs";
import { installRecorder } from "./page.mjs";

const CANDIDATE_TYPES = ["host", "srflx", "prflx", "relay"];

/** Every field of a stats report has its documented type and a plausible value. */
export function assertPlausible(s, what) {
  const say = `${what}: ${JSON.stringify(s)}`;
  for (const key of ["timestamp", "intervalMs", "receivedKbps", "sentKbps", "fps", "packetLoss", "framesDropped", "framesDroppedTotal"]) {
    assert.equal(typeof s[key], "number", `${key} is a number; ${say}`);
    assert.ok(s[key] >= 0, `${key} >= 0; ${say}`);
  }
  assert.ok(s.packetLoss <= 1, `packetLoss is a share; ${say}`);
  assert.ok(Math.abs(s.timestamp - Date.now()) < 60_000, `timestamp is ms since the epoch; ${say}`);
  for (const key of ["rttMs", "jitterMs"]) {
    if (key in s) assert.ok(typeof s[key] === "number" && s[key] >= 0, `${key}; ${say}`);
  }
  for (const key of ["localCandidateType", "remoteCandidateType"]) {
    if (key in s) assert.ok(CANDIDATE_TYPES.includes(s[key]), `${key}; ${say}`);
  }
}

test("stats every 2 s with plausible values, getStats() now and after, one quality verdict", { timeout: 90_000 }, async () => {
  await withStack("stats", async ({ page, baseUrl }) => {
    await page.evaluate(installRecorder);
    const before = await page.evaluate(async (opts) => {
      const r = make(opts);
      return { stats: await r.getStats(), quality: r.getConnectionQuality() };
    }, { modelName: "echo", insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl });
    assert.deepEqual(before, { stats: undefined, quality: undefined }, "nothing before connect");

    await page.evaluate(async () => {
      await r.connect();
      window.cam = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
      await r.publishVideoStream(cam);
    });
    await waitFor(() => page.evaluate(() => rRec.stats.length >= 4), { timeoutMs: 20_000, what: "4 stats events" });
    const { stats, quality } = await page.evaluate(() => ({ stats: rRec.stats, quality: rRec.quality }));
    for (const s of stats) assertPlausible(s, "stats event");
    // The cadence, as the page saw the events and as the reports say.
    const gaps = stats.slice(1).map((s, i) => s.seenAt - stats[i].seenAt);
    assert.ok(gaps.every((g) => g > 1_500 && g < 2_600), `about every 2 s: ${gaps}`);
    assert.ok(stats.every((s) => s.intervalMs > 1_500 && s.intervalMs < 2_600), `over about 2 s: ${stats.map((s) => s.intervalMs)}`);
    const last = stats.at(-1);
    // The echo model sends the camera back: video both ways, on loopback.
    assert.ok(last.fps > 5, `fps: ${last.fps}`);
    assert.ok(last.receivedKbps > 0 && last.sentKbps > 0, `bitrates ${last.receivedKbps} in, ${last.sentKbps} out`);
    assert.ok(last.rttMs >= 0 && last.rttMs < 100, `rtt on loopback: ${last.rttMs}`);
    assert.equal(last.localCandidateType, "host");
    assert.equal(last.remoteCandidateType, "host");
    assert.ok(last.jitterMs >= 0, `jitter: ${last.jitterMs}`);
    assert.equal(last.packetLoss, 0, "nothing is lost on loopback");
    // One verdict, told once, and it stands.
    assert.deepEqual(quality.map(({ quality, limitedBy }) => ({ quality, limitedBy })), [{ quality: "good", limitedBy: undefined }]);
    assert.equal("limitedBy" in quality[0], false, "no limitedBy when good");
    assert.deepEqual(await page.evaluate(() => r.getConnectionQuality()), { quality: "good" });

    // getStats(): the same shape, read now.
    const now = await page.evaluate(async () => {
      const s = await r.getStats();
      return { ...s, keys: Object.keys(s).sort(), eventKeys: Object.keys(rRec.stats.at(-1)).filter((k) => k !== "seenAt").sort() };
    });
    assertPlausible(now, "getStats()");
    assert.deepEqual(now.keys, now.eventKeys, "getStats() has the stats event's fields");
    assert.ok(now.intervalMs >= 900 && now.intervalMs <= 2_600, `getStats() is over 1 to 2 s: ${now.intervalMs}`);
    assert.ok(now.timestamp >= last.timestamp, "read now, not the last event's");
    assert.ok(now.fps > 5 && now.receivedKbps > 0, `getStats() rates: ${now.fps} fps, ${now.receivedKbps} kbit/s`);

    // Disconnected: undefined, even for a call made just before.
    const after = await page.evaluate(async () => {
      const pending = r.getStats();
      await r.disconnect();
      const count = rRec.stats.length;
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      return { pending: await pending, stats: await r.getStats(), quality: r.getConnectionQuality(), more: rRec.stats.length - count };
    });
    assert.deepEqual(after, { pending: undefined, stats: undefined, quality: undefined, more: 0 });
  });
});
