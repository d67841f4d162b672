// The vertical slice, end to end: a page on the reference server imports the
// built SDK, connects to the `echo` model through the coordinator and WebRTC,
// round-trips a message, disconnects. Screenshot: tests/artifacts/slice.png.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, API_KEY } from "./harness.mjs";
import { installRecorder } from "./page.mjs";

const CONNECT_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 10_000;
const DISCONNECT_TIMEOUT_MS = 10_000;

test("slice: connect, echo a message, disconnect", { timeout: 120_000 }, async () => {
  await withStack("slice", async ({ page, baseUrl, screenshot }) => {
    // 1. Load the SDK in the page and record its events (tests/e2e/page.mjs).
    await page.evaluate(installRecorder);
    await page.evaluate(
      ({ coordinatorUrl, apiKey }) => {
        window.__reactor = make({ modelName: "echo", insecureApiKey: apiKey, queueing: true, coordinatorUrl });
        window.__e2e = rRec;
      },
      { coordinatorUrl: baseUrl, apiKey: API_KEY },
    );
    assert.equal(await page.evaluate(() => window.__reactor.getStatus()), "disconnected", "status before connect");

    // 2. Connect: resolves at `ready`.
    await page.evaluate(
      (ms) =>
        Promise.race([
          window.__reactor.connect(),
          new Promise((_, rej) => setTimeout(() => rej(new Error(`connect() did not settle in ${ms} ms`)), ms)),
        ]),
      CONNECT_TIMEOUT_MS,
    );
    assert.equal(await page.evaluate(() => window.__reactor.getStatus()), "ready", "status after connect()");
    assert.deepEqual(
      await page.evaluate(() => window.__e2e.statuses),
      ["connecting", "waiting", "ready"],
      "statusChanged events up to ready",
    );

    // 3. Round-trip a message through the echo model.
    const sent = { type: "hello", data: { n: 1 } };
    await page.evaluate((msg) => window.__reactor.sendMessage(msg), sent);
    await page
      .waitForFunction(() => window.__e2e.messages.some((m) => m && m.type === "echo"), null, {
        timeout: REPLY_TIMEOUT_MS,
      })
      .catch(async (e) => {
        const got = await page.evaluate(() => window.__e2e.messages);
        throw new Error(`no echo reply within ${REPLY_TIMEOUT_MS} ms; newMessage payloads so far: ${JSON.stringify(got)}`, {
          cause: e,
        });
      });
    const reply = await page.evaluate(() => window.__e2e.messages.find((m) => m && m.type === "echo"));
    assert.deepEqual(reply, { type: "echo", data: sent }, "echo reply payload");

    // Show what happened on the page itself, for the screenshot.
    await page.evaluate(() => {
      const pre = document.createElement("pre");
      pre.id = "e2e-report";
      pre.style.cssText =
        "position:fixed;bottom:0;left:0;right:0;margin:0;padding:8px;background:#111;color:#8f8;font:12px monospace;z-index:99999";
      pre.textContent =
        `e2e: status ${window.__reactor.getStatus()}; statusChanged: ${window.__e2e.statuses.join(" → ")}\n` +
        `newMessage: ${JSON.stringify(window.__e2e.messages)}`;
      document.body.appendChild(pre);
    });
    await screenshot("slice.png");

    // 4. Disconnect.
    await page.evaluate(
      (ms) =>
        Promise.race([
          window.__reactor.disconnect(),
          new Promise((_, rej) => setTimeout(() => rej(new Error(`disconnect() did not settle in ${ms} ms`)), ms)),
        ]),
      DISCONNECT_TIMEOUT_MS,
    );
    await page.waitForFunction(() => window.__e2e.statuses.at(-1) === "disconnected", null, {
      timeout: DISCONNECT_TIMEOUT_MS,
    });
    assert.equal(await page.evaluate(() => window.__reactor.getStatus()), "disconnected", "status after disconnect()");
    assert.deepEqual(
      await page.evaluate(() => window.__e2e.statuses),
      ["connecting", "waiting", "ready", "disconnected"],
      "the full statusChanged sequence",
    );
    assert.deepEqual(await page.evaluate(() => window.__e2e.errors.map((e) => e.code)), [], "no error events");
  });
});
