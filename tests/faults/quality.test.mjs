// `stats` and `connectionQuality` under faults caused for real on loopback:
// a bandwidth limit (tc tbf), every UDP packet dropped, 5 % of them dropped.
// The generator model sends video with no camera; each fault is lifted and
// the verdict must come back to good.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, waitFor, API_KEY } from "../e2e/harness.mjs";
import { installRecorder } from "../e2e/page.mjs";
import { dropUdp, limitBandwidth } from "./inject.mjs";
import { INSTRUMENT } from "./instrument.mjs";
import { disconnectClean } from "./recovery.mjs";

const SERVER = { serverArgs: ["--machines", "generator=1"] };
/** Worse takes two 2-s reports, better three: these leave room for a loaded machine. */
const DEGRADE_MS = 20_000;
const RECOVER_MS = 30_000;

async function connectGenerator(page, baseUrl) {
  await page.addInitScript(INSTRUMENT);
  await page.reload();
  await page.evaluate(installRecorder);
  await page.evaluate(async (opts) => {
    await make(opts).connect();
  }, { modelName: "generator", insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl });
  await qualityIs(page, ["good"], RECOVER_MS, "good at the start");
}

/** Waits for a `connectionQuality` event after `since` (page ms) whose quality is in `wanted`; returns it. */
async function qualityIs(page, wanted, timeoutMs, what, since = 0) {
  try {
    return await waitFor(
      () => page.evaluate(([wanted, since]) => rRec.quality.findLast((q) => q.seenAt > since && wanted.includes(q.quality)), [wanted, since]),
      { timeoutMs, intervalMs: 200, what: `${what} (quality ${wanted.join(" or ")})` },
    );
  } catch (e) {
    const seen = await page.evaluate(() => ({ quality: rRec.quality, statuses: rRec.statuses, errors: rRec.errors.map((e) => e.code) }));
    throw new Error(`${e.message}; seen ${JSON.stringify(seen)}; stats ${summary(await statsSince(page, since))}`);
  }
}

const pageNow = (page) => page.evaluate(() => Date.now());
const statsSince = (page, since) => page.evaluate((since) => rRec.stats.filter((s) => s.seenAt > since), since);
const summary = (stats) => stats.map((s) => `${s.fps}fps ${s.receivedKbps}kbps rtt${s.rttMs} loss${s.packetLoss}`).join(" | ");

// The generator sends about 36 kbit/s of video (some 50 on the wire) at a
// fixed rate, with no congestion control: a link just below that fills its
// queue (the rtt jumps), then drops what does not fit, and the picture stalls
// within seconds. The limit holds all of loopback, the coordinator's health
// checks too (tbf is the only qdisc this kernel has, so TCP cannot be spared):
// they run every 10 s here, so that the six silent ones after which they end
// a held machine's session take far longer than the test, and the limit is
// lifted as soon as the verdict degrades.
test("a link narrower than the video degrades the verdict (limited by bandwidth), and lifting it brings good back", { timeout: 120_000 }, async () => {
  await withStack("quality-bandwidth", async ({ page, baseUrl }) => {
    await connectGenerator(page, baseUrl);
    const start = await pageNow(page);
    const usual = Math.min(...(await page.evaluate(() => rRec.stats.slice(-2).map((s) => s.receivedKbps))));
    const lift = limitBandwidth("48kbit");
    let worse;
    try {
      worse = await qualityIs(page, ["fair", "poor", "lost"], DEGRADE_MS, "a degraded verdict under the limit", start);
    } finally {
      lift();
    }
    const during = await statsSince(page, start);
    console.log(`under 48 kbit/s: ${JSON.stringify(worse)}; ${summary(during)}`);
    // Worse takes two reports; a stream that collapses within them is told as the stall it became.
    const expected = worse.quality === "lost" ? "stall" : "bandwidth";
    assert.equal(worse.limitedBy, expected, `what limits it: ${JSON.stringify(worse)}; ${summary(during)}`);
    assert.ok(during.some((s) => s.receivedKbps < usual * 0.75), `the received bitrate falls below ${usual} kbit/s: ${summary(during)}`);
    const lifted = await pageNow(page);
    const back = await qualityIs(page, ["good"], RECOVER_MS, "good again after the limit is lifted", lifted);
    console.log(`good again ${((back.seenAt - lifted) / 1000).toFixed(1)} s after lifting`);
    assert.equal(await page.evaluate(() => r.getStatus()), "ready");
    await disconnectClean(page, baseUrl);
  }, { serverArgs: [...SERVER.serverArgs, "--health-interval-ms", "10000"] });
});

test("every UDP packet dropped: lost (stall) within seconds, and good again once they flow", { timeout: 120_000 }, async () => {
  await withStack("quality-stall", async ({ page, baseUrl }) => {
    await connectGenerator(page, baseUrl);
    const start = await pageNow(page);
    // Lifted as soon as `lost` is told: short of ICE giving up on the path
    // (and of a machine link recovery starting; the verdict holds either way).
    const lift = dropUdp(100);
    let lost;
    try {
      lost = await qualityIs(page, ["lost"], 10_000, "lost while nothing arrives", start);
    } finally {
      lift();
    }
    const after = ((lost.seenAt - start) / 1000).toFixed(1);
    console.log(`lost ${after} s after the drop began`);
    assert.equal(lost.limitedBy, "stall");
    assert.ok(lost.seenAt - start >= 2_000, `not before 2 s without a frame: ${after} s`);
    assert.deepEqual(await page.evaluate(() => r.getConnectionQuality()), { quality: "lost", limitedBy: "stall" });
    const lifted = await pageNow(page);
    const back = await qualityIs(page, ["good"], RECOVER_MS, "good again once packets flow", lifted);
    console.log(`good again ${((back.seenAt - lifted) / 1000).toFixed(1)} s after lifting`);
    assert.equal(await page.evaluate(() => r.getStatus()), "ready");
    await disconnectClean(page, baseUrl);
  }, SERVER);
});

test("5 % of UDP dropped: the loss is reported", { timeout: 120_000 }, async () => {
  await withStack("quality-loss", async ({ page, baseUrl }) => {
    await connectGenerator(page, baseUrl);
    const start = await pageNow(page);
    const lift = dropUdp(5);
    let lossy;
    try {
      lossy = await waitFor(
        () => page.evaluate((since) => rRec.stats.find((s) => s.seenAt > since && s.packetLoss > 0), start),
        { timeoutMs: 15_000, intervalMs: 200, what: "a stats report with packetLoss > 0" },
      );
    } finally {
      lift();
    }
    const during = await statsSince(page, start);
    console.log(`with 5 % dropped: ${summary(during)}`);
    assert.ok(lossy.packetLoss > 0 && lossy.packetLoss < 0.5, `a share of packets: ${lossy.packetLoss}`);
    // Lifted: loss goes back to 0.
    const lifted = await pageNow(page);
    await waitFor(
      () => page.evaluate((since) => rRec.stats.filter((s) => s.seenAt > since + 2_500).some((s) => s.packetLoss === 0), lifted),
      { timeoutMs: 15_000, intervalMs: 200, what: "a report with no loss after lifting" },
    );
    await disconnectClean(page, baseUrl);
  }, SERVER);
});
