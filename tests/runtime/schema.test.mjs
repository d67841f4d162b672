// getSchema() / schemaReceived and validateMessages against the real Reactor
// runtime (reactor-runtime 2.10.1 serving tests/runtime-models/tint), in
// local mode (the start_session descriptor's `schema`) and through
// `reactor-server --machine-url` (the `assigned` frame relays it).
// Run inside a loopback-only network namespace (scripts/test.sh does).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { API_KEY, withStack } from "../e2e/harness.mjs";
import { installRecorder } from "../e2e/page.mjs";
import { startRuntime } from "./runtime.mjs";

let tint;
before(async () => {
  tint = await startRuntime("tint");
});
after(async () => {
  await tint?.stop();
});

for (const mode of ["local", "coordinator"]) {
  test(`tint (${mode}): the runtime's OpenAPI schema as getSchema() gives it; validateMessages checks against it`, { timeout: 120_000 }, async () => {
    await withStack(`runtime-schema-${mode}`, async ({ page, baseUrl }) => {
      await page.evaluate(installRecorder);
      const options =
        mode === "local"
          ? { modelName: "tint", local: true, coordinatorUrl: tint.url, validateMessages: true }
          : { modelName: "tint", insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl, validateMessages: true };
      const seen = await page.evaluate(async (opts) => {
        const r = make(opts, "r");
        let received;
        r.on("schemaReceived", (s) => (received = s));
        await r.connect();
        // tint answers commands between frames of its input.
        await r.publishVideoStream(await navigator.mediaDevices.getUserMedia({ video: true }));
        const schema = r.getSchema();
        const paint = schema.commands.find((c) => c.name === "paint");
        const refused = await outcome(r.sendMessage({ type: "paint", data: { r: 300, g: 0, b: 0, mix: 1 } }));
        const wrong = await outcome(r.sendMessage({ type: "paint", data: { r: 1.5 } }));
        const fits = await outcome(r.sendMessage({ type: "paint", data: { r: 10, g: 20, b: 30, mix: 0.5 } }));
        while (!rRec.messages.some((m) => m.type === "painted")) await new Promise((res) => setTimeout(res, 20));
        await r.disconnect();
        const pick = ({ type, default: d, minimum, maximum }) => ({ type, default: d, minimum, maximum });
        return {
          same: received === schema,
          commands: schema.commands.map((c) => c.name).sort(),
          paintOrder: Object.keys(paint.parameters),
          r: pick(paint.parameters.r),
          mix: pick(paint.parameters.mix),
          description: paint.description,
          gain: pick(schema.commands.find((c) => c.name === "set_gain").parameters.gain),
          messages: schema.messages.map((m) => m.name).sort(),
          tracks: schema.tracks.map((t) => `${t.name}:${t.kind}:${t.direction}`).sort(),
          openapi: schema.openapi.openapi,
          refused: { ...refused, parameter: rRec.errors[0]?.parameter },
          wrong: { ...wrong, parameter: rRec.errors[1]?.parameter },
          fits,
          painted: rRec.messages.filter((m) => m.type === "painted"),
        };
      }, options);
      assert.ok(seen.same, "schemaReceived carried the object getSchema() returns");
      assert.deepEqual(seen.commands, ["paint", "set_gain"], "the @event command and the state field's automatic set_gain");
      assert.deepEqual(seen.paintOrder, ["r", "g", "b", "mix"], "parameters in the model's order");
      assert.deepEqual(seen.r, { type: "integer", default: 255, minimum: 0, maximum: 255 });
      assert.deepEqual(seen.mix, { type: "number", default: 1, minimum: 0, maximum: 1 });
      assert.deepEqual(seen.gain, { type: "number", default: 1, minimum: 0, maximum: 4 });
      assert.equal(seen.description, "blend the picture towards a colour");
      assert.deepEqual(seen.messages, ["emitted", "painted"]);
      assert.deepEqual(seen.tracks, ["cam:video:in", "styled:video:out"]);
      assert.equal(seen.openapi, "3.1.0");
      assert.equal(seen.refused.code, "INVALID_COMMAND");
      assert.equal(seen.refused.parameter, "r");
      assert.match(seen.refused.message, /parameter `r` must be at most 255, got 300/);
      assert.equal(seen.wrong.parameter, "r");
      assert.match(seen.wrong.message, /parameter `r` must be integer, got 1.5/);
      assert.equal(seen.fits, "resolved");
      assert.deepEqual(seen.painted, [{ type: "painted", data: { r: 10, g: 20, b: 30, mix: 0.5 } }], "only the valid command reached the model");
    }, { serverArgs: ["--machines", "", "--machine-url", `tint=${tint.url}`] });
  });
}
