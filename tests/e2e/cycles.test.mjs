// 200 connect/disconnect cycles in one page: after a warm-up the wasm memory
// and the table of JS values the wasm holds do not grow, and no
// RTCPeerConnection or WebSocket is left open. (The wasm heap starts with
// little free room past its 1 MB stack, so a leak of about 1 KB a cycle
// would grow the memory within the 180 measured cycles.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, API_KEY } from "./harness.mjs";
import { installRecorder } from "./page.mjs";

const CYCLES = 200;
const WARM_UP = 20;

test(`${CYCLES} connect/disconnect cycles leak nothing`, { timeout: 600_000 }, async () => {
  await withStack("cycles", async ({ page, baseUrl }) => {
    // Count every peer connection and socket the page opens, without keeping them alive.
    await page.evaluate(() => {
      const track = (Base, list) =>
        class extends Base {
          constructor(...args) {
            super(...args);
            list.push(new WeakRef(this));
          }
        };
      window.__pcs = [];
      window.__sockets = [];
      window.RTCPeerConnection = track(RTCPeerConnection, window.__pcs);
      window.WebSocket = track(WebSocket, window.__sockets);
    });
    await page.evaluate(installRecorder);
    const result = await page.evaluate(
      async ({ opts, cycles, warmUp }) => {
        // By kind, not by name: the shipped wasm's exports have short names.
        const exported = Object.values(__wasm);
        const tables = exported.filter((e) => e instanceof WebAssembly.Table);
        if (tables.length !== 1) throw new Error(`expected one exported table (the held JS values), found ${tables.length}`);
        const memory = () => exported.find((e) => e instanceof WebAssembly.Memory).buffer.byteLength;
        const heldValues = () => tables[0].length;
        const open = () => ({
          pcs: __pcs.map((w) => w.deref()).filter((pc) => pc && pc.connectionState !== "closed").length,
          sockets: __sockets.map((w) => w.deref()).filter((ws) => ws && ws.readyState !== WebSocket.CLOSED && ws.readyState !== WebSocket.CLOSING).length,
        });
        const reactor = new __sdk.Reactor(opts);
        let replies = 0;
        reactor.on("newMessage", () => replies++);
        let afterWarmUp = 0;
        let valuesAfterWarmUp = 0;
        const openAfterEach = [];
        for (let i = 1; i <= cycles; i++) {
          await reactor.connect();
          if (i % 50 === 0) {
            // Now and then, prove the connection is real.
            const before = replies;
            await reactor.sendMessage({ type: "cycle", data: i });
            while (replies === before) await new Promise((r) => setTimeout(r, 5));
          }
          await reactor.disconnect();
          openAfterEach.push(open());
          if (i === warmUp) [afterWarmUp, valuesAfterWarmUp] = [memory(), heldValues()];
        }
        return { afterWarmUp, atEnd: memory(), valuesAfterWarmUp, valuesAtEnd: heldValues(), created: __pcs.length, open: open(), openAfterEach, status: reactor.getStatus() };
      },
      { opts: { modelName: "echo", insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl }, cycles: CYCLES, warmUp: WARM_UP },
    );
    console.log(
      `after ${WARM_UP} cycles: wasm memory ${result.afterWarmUp} bytes, JS value table ${result.valuesAfterWarmUp}; ` +
        `after ${CYCLES}: ${result.atEnd} bytes, ${result.valuesAtEnd}`,
    );
    assert.equal(result.status, "disconnected");
    assert.equal(result.created, CYCLES, "one peer connection per cycle");
    assert.deepEqual(result.open, { pcs: 0, sockets: 0 }, "nothing left open");
    assert.ok(result.openAfterEach.every((o) => o.pcs === 0), "each disconnect closes its peer connection at once");
    assert.equal(result.atEnd, result.afterWarmUp, "the wasm memory does not grow after the warm-up");
    assert.equal(result.valuesAtEnd, result.valuesAfterWarmUp, "the wasm holds no more JS values than after the warm-up");
  });
});
