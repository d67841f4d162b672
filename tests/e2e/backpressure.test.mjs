// Backpressure against the simulated echo machine, in headless Chromium:
// a burst of sendMessage calls waits for the data channel instead of
// failing, and every message arrives once, in order; past the SDK's bound a
// message is refused at once and nothing of it is sent, while the others
// still arrive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, waitFor, API_KEY } from "./harness.mjs";
import { installRecorder } from "./page.mjs";

const PAD = "x".repeat(16_000);

/** Page-side: fires `count` 16 KB messages without awaiting any; resolves
 *  with each one's outcome, in call order, once all have settled. */
const burst = async ({ tag, count, pad }) => {
  const settledOrder = [];
  const calls = [];
  for (let i = 0; i < count; i++) {
    const p = r.sendMessage({ type: tag, data: { i, pad } });
    p.then(() => settledOrder.push(i)).catch(() => {});
    calls.push(outcome(p));
  }
  const outcomes = await Promise.all(calls);
  return { outcomes: outcomes.map((o) => (o === "resolved" ? o : o.code)), settledOrder, says: outcomes.find((o) => o !== "resolved")?.message };
};

/** The `i`s of the echoes of `tag` so far, in arrival order. */
const echoed = (page, tag) => page.evaluate((tag) => rRec.messages.filter((m) => m.type === "echo" && m.data.type === tag).map((m) => m.data.data.i), tag);

test("backpressure: a burst waits for the channel and arrives in order; past the bound it is refused", { timeout: 180_000 }, async () => {
  await withStack("backpressure", async ({ page, baseUrl }) => {
    await page.evaluate(installRecorder);
    await page.evaluate((opts) => make(opts).connect(), { modelName: "echo", insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl });

    // 1,000 × 16 KB (16 MB) at once: more than the channel's threshold, within the SDK's bound.
    const started = Date.now();
    const all = await page.evaluate(burst, { tag: "burst", count: 1000, pad: PAD });
    assert.deepEqual([...new Set(all.outcomes)], ["resolved"], `every call resolves: ${all.says}`);
    assert.deepEqual(all.settledOrder, [...Array(1000).keys()], "the promises resolve in call order");
    await waitFor(async () => (await echoed(page, "burst")).length >= 1000, { timeoutMs: 60_000, what: "1,000 echoes" });
    assert.deepEqual(await echoed(page, "burst"), [...Array(1000).keys()], "each arrives once, in order");
    const burstMs = Date.now() - started;

    // 1,400 × 16 KB at once: the channel takes 2 MiB, the SDK holds 16 MiB, the rest is refused.
    const over = await page.evaluate(burst, { tag: "over", count: 1400, pad: PAD });
    const taken = over.outcomes.indexOf("MESSAGE_SEND_FAILED");
    assert.ok(taken > 1000 && taken < 1400, `refused past the bound, not before: the first refusal is call ${taken}`);
    assert.deepEqual([...new Set(over.outcomes.slice(taken))], ["MESSAGE_SEND_FAILED"], "once over the bound, every later call of the burst is refused");
    assert.match(over.says, /bound.*nothing of it was sent/);
    await waitFor(async () => (await echoed(page, "over")).length >= taken, { timeoutMs: 60_000, what: `${taken} echoes` });
    // The last echo of the accepted ones is in: a refused one would have come after it.
    await page.evaluate(() => r.sendMessage({ type: "after", data: { i: 0 } }));
    await waitFor(async () => (await echoed(page, "after")).length === 1, { timeoutMs: 30_000, what: "the echo of a send after the refusals" });
    assert.deepEqual(await echoed(page, "over"), [...Array(taken).keys()], "the accepted ones arrive in order, none of the refused");
    const state = await page.evaluate(() => ({ status: r.getStatus(), code: r.getLastError()?.code }));
    assert.deepEqual(state, { status: "ready", code: "MESSAGE_SEND_FAILED" }, "the session carries on");
    console.log(`backpressure: 1,000 × 16 KB sent and echoed in ${burstMs} ms; the bound refused from call ${taken} of 1,400`);
    await page.evaluate(() => r.disconnect());
  });
});

test("backpressure: what waits rejects with the error that ended the connection", { timeout: 60_000 }, async () => {
  await withStack("backpressure-teardown", async ({ page, baseUrl }) => {
    await page.evaluate(installRecorder);
    await page.evaluate((opts) => make(opts).connect(), { modelName: "echo", insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl });
    const ended = await page.evaluate(async (pad) => {
      const calls = [];
      for (let i = 0; i < 600; i++) calls.push(outcome(r.sendMessage({ type: "cut", data: { i, pad } })));
      // Synchronously after the burst: most of it still waits in the SDK.
      r.disconnect();
      const outcomes = await Promise.all(calls);
      return { codes: [...new Set(outcomes.map((o) => (o === "resolved" ? o : o.code)))], resolved: outcomes.filter((o) => o === "resolved").length };
    }, PAD);
    assert.ok(ended.resolved > 0 && ended.resolved < 600, `the channel took some (${ended.resolved}) before the disconnect`);
    assert.deepEqual(ended.codes, ["resolved", "CONNECTION_ABORTED"], "the rest reject with disconnect()'s error: none is lost silently");
  });
});
