// The model's schema (getSchema / schemaReceived) and validateMessages,
// through the coordinator and in local mode, against the reference server's
// simulated machines; and README.md's schema example, run as it is written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { withStack, API_KEY, repoRoot } from "./harness.mjs";
import { installRecorder } from "./page.mjs";

const options = (baseUrl, extra = {}) => ({ modelName: "echo", insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl, ...extra });

async function inPage(page, fn, arg) {
  await page.evaluate(installRecorder);
  return page.evaluate(fn, arg);
}

/** Page-side: connects `opts`, returns what getSchema and schemaReceived gave, then disconnects. */
const schemaSeen = async (opts) => {
  const r = make(opts, "s");
  const received = [];
  r.on("schemaReceived", (schema) => received.push({ schema, status: r.getStatus() }));
  const before = r.getSchema();
  await r.connect();
  const schema = r.getSchema();
  const summary = {
    before,
    events: received.length,
    sameObject: received[0]?.schema === schema,
    statusAtEvent: received[0]?.status,
    commands: schema.commands.map((c) => c.name),
    brightness: schema.commands.find((c) => c.name === "set_brightness")?.parameters.brightness,
    messages: schema.messages.map((m) => m.name),
    tracks: schema.tracks,
    openapi: schema.openapi.openapi,
  };
  await r.disconnect();
  summary.after = r.getSchema();
  return summary;
};

function assertEchoSchema(seen) {
  assert.equal(seen.before, undefined, "no schema before connect()");
  assert.equal(seen.events, 1, "schemaReceived fires once per connection");
  assert.ok(seen.sameObject, "the event carries the object getSchema() returns");
  assert.notEqual(seen.statusAtEvent, "ready", "the schema arrives before ready");
  assert.ok(seen.commands.includes("set_brightness") && seen.commands.includes("set_invert"), seen.commands.join(", "));
  assert.deepEqual(seen.brightness, { type: "number", default: 0, minimum: -1, maximum: 1 });
  assert.ok(seen.messages.includes("brightness_set"), `messages: ${seen.messages.join(", ")}`);
  assert.deepEqual(seen.tracks.map((t) => `${t.name}:${t.direction}`).sort(), ["main_video:out", "webcam:in"]);
  assert.equal(seen.openapi, "3.1.0", "the raw OpenAPI document is kept as `openapi`");
  assert.equal(seen.after, undefined, "no schema once disconnected");
}

test("schema: through the coordinator (the assigned frame) and in local mode (the descriptor)", { timeout: 90_000 }, async () => {
  await withStack("schema", async ({ page, baseUrl, server }) => {
    assertEchoSchema(await inPage(page, schemaSeen, options(baseUrl)));
    const machineUrl = server.log.find((l) => /Machine echo \(simulated\) at http/.test(l)).match(/at (http:\/\/\S+)/)[1];
    assertEchoSchema(await inPage(page, schemaSeen, { modelName: "echo", coordinatorUrl: machineUrl, local: true }));
  });
});

test("schema: validateMessages refuses what the schema does not allow, naming the parameter, and sends nothing", { timeout: 60_000 }, async () => {
  await withStack("schema-validate", async ({ page, baseUrl }) => {
    const result = await inPage(page, async (opts) => {
      const v = make({ ...opts, validateMessages: true }, "v");
      await v.connect();
      const tried = {};
      for (const [name, message] of Object.entries({
        unknown: { type: "set_volume", data: { volume: 1 } },
        wrongType: { type: "set_brightness", data: { brightness: "max" } },
        tooHigh: { type: "set_brightness", data: { brightness: 7 } },
        notBoolean: { type: "set_invert", data: { invert: 1 } },
      })) {
        tried[name] = await outcome(v.sendMessage(message));
        tried[name].parameter = v.getLastError().parameter;
        tried[name].sameAsLastError = tried[name].message === v.getLastError().message;
      }
      tried.fits = await outcome(v.sendMessage({ type: "set_brightness", data: { brightness: 0.5 } }));
      while (!vRec.messages.some((m) => m.type === "brightness_set")) await new Promise((r) => setTimeout(r, 20));
      // Off (the default): the same message goes out unchecked and the model deals with it.
      const free = make(opts, "f");
      v.disconnect();
      await free.connect();
      tried.unchecked = await outcome(free.sendMessage({ type: "set_brightness", data: { brightness: 7 } }));
      await free.disconnect();
      return { tried, status: v.getStatus(), replies: vRec.messages.map((m) => m.type), errors: vRec.errors.map((e) => e.code) };
    }, options(baseUrl));
    const { tried } = result;
    for (const name of ["unknown", "wrongType", "tooHigh", "notBoolean"]) {
      assert.equal(tried[name].code, "INVALID_COMMAND", `${name}: ${JSON.stringify(tried[name])}`);
      assert.equal(tried[name].component, "gpu");
      assert.ok(tried[name].sameAsLastError, `${name}: the rejection is the last error`);
      assert.match(tried[name].message, /nothing was sent$/);
    }
    assert.equal(tried.unknown.parameter, null);
    assert.match(tried.unknown.message, /no command "set_volume" \(it takes: .*set_brightness/);
    assert.equal(tried.wrongType.parameter, "brightness");
    assert.match(tried.wrongType.message, /parameter `brightness` must be number, got "max"/);
    assert.equal(tried.tooHigh.parameter, "brightness");
    assert.match(tried.tooHigh.message, /parameter `brightness` must be at most 1, got 7/);
    assert.equal(tried.notBoolean.parameter, "invert");
    assert.equal(tried.fits, "resolved");
    assert.equal(tried.unchecked, "resolved", "without validateMessages nothing is checked");
    assert.deepEqual(result.errors, ["INVALID_COMMAND", "INVALID_COMMAND", "INVALID_COMMAND", "INVALID_COMMAND"], "each refusal is an error event");
    assert.deepEqual(result.replies.filter((t) => t === "brightness_set").length, 1, "only the valid command reached the model");
  });
});

/** README.md's code block right after `marker`, as written. */
export function readmeExample(marker) {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const at = readme.indexOf(marker);
  assert.ok(at >= 0, `README.md has ${marker}`);
  const block = readme.slice(at).match(/```(?:js|jsx)\n([\s\S]*?)```/);
  return block[1];
}

test("schema: README.md's example runs as written", { timeout: 60_000 }, async () => {
  await withStack("schema-readme", async ({ page, baseUrl }) => {
    const code = readmeExample("<!-- example:schema -->")
      .replace(`import { Reactor } from "@reactor-wasm/sdk";`, `const { Reactor } = await import("/pkg/index.js");`)
      .replaceAll(`"http://localhost:8080"`, JSON.stringify(baseUrl));
    assert.ok(!/^import /m.test(code), "only the package import is rewritten");
    const lines = [];
    page.on("console", (m) => lines.push(m.text()));
    await page.evaluate(`(async () => { ${code} })()`);
    const brightness = lines.find((l) => l.startsWith("set_brightness "));
    assert.deepEqual(JSON.parse(brightness?.slice("set_brightness ".length) ?? "null"), { brightness: { type: "number", default: 0, minimum: -1, maximum: 1 } }, lines.join("\n"));
    assert.ok(lines.includes("2 commands, 4 messages, 2 tracks"), lines.join("\n"));
    assert.ok(lines.includes("INVALID_COMMAND brightness"), lines.join("\n"));
  });
});
