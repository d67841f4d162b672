// The built SDK in headless Chromium against the real Reactor runtime
// (reactor-runtime 2.10.1 serving tests/runtime-models/), in local mode and
// through `reactor-server --machine-url`. Run inside a loopback-only network
// namespace (scripts/test.sh does): unshare --net sh -c 'ip link set lo up; node --test tests/runtime/'
//
// One `tint` and one `pulse` runtime serve every test of this file, one test
// at a time; each test starts its own coordinator and browser.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { API_KEY, freePort, waitFor, withStack } from "../e2e/harness.mjs";
import { installRecorder } from "../e2e/page.mjs";
import { startRuntime } from "./runtime.mjs";

const runtimes = {};
before(async () => {
  [runtimes.tint, runtimes.pulse] = await Promise.all([startRuntime("tint"), startRuntime("pulse")]);
});
after(async () => {
  await Promise.all(Object.values(runtimes).map((r) => r.stop()));
});

/** Reactor options for `model` in `mode`: straight to its runtime, or through the coordinator. */
function optionsFor(mode, model, baseUrl) {
  return mode === "local"
    ? { modelName: model, local: true, coordinatorUrl: runtimes[model].url }
    : { modelName: model, insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl };
}

/** A coordinator that serves only the two runtimes (plus `extra` arguments). */
function coordinatorArgs(extra = []) {
  return ["--machines", "", "--machine-url", `tint=${runtimes.tint.url}`, "--machine-url", `pulse=${runtimes.pulse.url}`,
    "--health-interval-ms", "300", ...extra];
}

const READY = { local: ["connecting", "ready"], coordinator: ["connecting", "waiting", "ready"] };

async function connect(page, name, options) {
  return page.evaluate(
    async ([name, options]) => {
      const r = make(options, name);
      return outcome(Promise.race([r.connect(), new Promise((_, no) => setTimeout(() => no(new Error("connect() hung")), 30_000))]));
    },
    [name, options],
  );
}

/** Polls the mean luma of the model's video until `test(luma)` holds. */
async function lumaUntil(page, name, test, what) {
  let last;
  try {
    return await waitFor(
      async () => {
        last = await page.evaluate((n) => window[`${n}Rec`].track && meanLuma(window[`${n}Rec`].track), name);
        return typeof last === "number" && test(last) && last;
      },
      { timeoutMs: 15_000, intervalMs: 150, what },
    );
  } catch (e) {
    throw new Error(`${e.message} (last mean luma ${last})`);
  }
}

/** Waits for a newMessage of `type`; resolves to it. */
async function message(page, name, type, after = 0) {
  return waitFor(
    () => page.evaluate(([n, t, i]) => window[`${n}Rec`].messages.slice(i).find((m) => m?.type === t), [name, type, after]),
    { timeoutMs: 10_000, intervalMs: 50, what: `a "${type}" message` },
  );
}

const count = (page, name) => page.evaluate((n) => window[`${n}Rec`].messages.length, name);
const send = (page, name, msg) => page.evaluate(([n, m]) => window[n].sendMessage(m), [name, msg]);

/** The SDK's fps events agree with the rate the model says it emitted. */
async function fpsAgrees(page, name) {
  // A few seconds of both: `emitted` comes every second, `fps` as measured.
  await waitFor(
    () => page.evaluate((n) => window[`${n}Rec`].fps.length >= 3 && window[`${n}Rec`].messages.filter((m) => m.type === "emitted").length >= 3, name),
    { timeoutMs: 15_000, intervalMs: 200, what: "fps events and emitted messages" },
  );
  const { fps, emitted } = await page.evaluate((n) => {
    const rec = window[`${n}Rec`];
    const rates = rec.messages.filter((m) => m.type === "emitted").map((m) => m.data.frames / m.data.seconds);
    return { fps: rec.fps.slice(-3), emitted: rates.slice(-3) };
  }, name);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [seen, sent] = [median(fps), median(emitted)];
  assert.ok(Math.abs(seen - sent) <= Math.max(4, sent * 0.2), `fps events ${JSON.stringify(fps)} vs emitted ${JSON.stringify(emitted)}`);
  return { seen, sent };
}

async function disconnect(page, name) {
  await page.evaluate((n) => window[n].disconnect(), name);
  const rec = await page.evaluate((n) => ({ ...window[`${n}Rec`], track: undefined, status: window[n].getStatus() }), name);
  assert.equal(rec.status, "disconnected");
  assert.equal(rec.streams.at(-1), null, "streamChanged(null) after disconnect()");
  return rec;
}

for (const mode of ["local", "coordinator"]) {
  test(`tint (${mode}): input track from the model, publish/replace/unpublish, commands change the pixels`, { timeout: 150_000 }, async () => {
    await withStack(`runtime-tint-${mode}`, async ({ page, baseUrl }) => {
      await page.evaluate(installRecorder);
      assert.equal(await connect(page, "r", optionsFor(mode, "tint", baseUrl)), "resolved");
      assert.deepEqual(await page.evaluate(() => rRec.statuses), READY[mode]);
      assert.deepEqual(await page.evaluate(() => rRec.streams), ["video"], "streamChanged gave the model's track");

      // The fake camera (almost uniformly green) into `cam`, the model's own input name.
      await page.evaluate(async () => {
        window.camera = await navigator.mediaDevices.getUserMedia({ video: true });
        await r.publishVideoStream(camera);
      });
      const green = await lumaUntil(page, "r", (l) => l > 40 && l < 140, "the camera's green back on `styled`");
      // A command with typed, bounded parameters; its answer comes unwrapped.
      let seen = await count(page, "r");
      await send(page, "r", { type: "paint", data: { r: 255, g: 255, b: 255, mix: 1 } });
      const painted = await message(page, "r", "painted", seen);
      assert.deepEqual(painted, { type: "painted", data: { r: 255, g: 255, b: 255, mix: 1 } });
      const white = await lumaUntil(page, "r", (l) => l > 200, "white after paint");
      // The automatic `set_gain` of the public state field: no reply, only pixels.
      await send(page, "r", { type: "paint", data: { r: 0, g: 0, b: 0, mix: 0 } });
      await send(page, "r", { type: "set_gain", data: { gain: 0 } });
      const black = await lumaUntil(page, "r", (l) => l < 30, "black after set_gain 0");
      await send(page, "r", { type: "set_gain", data: { gain: 1 } });
      await lumaUntil(page, "r", (l) => Math.abs(l - green) < 25, "the camera again after set_gain 1");

      // Replace with a second stream: a white canvas.
      await page.evaluate(async () => {
        const canvas = Object.assign(document.createElement("canvas"), { width: 320, height: 240 });
        const g = canvas.getContext("2d");
        window.paintCanvas = setInterval(() => {
          g.fillStyle = "#ffffff";
          g.fillRect(0, 0, 320, 240);
        }, 30);
        await r.publishVideoStream(canvas.captureStream(30));
      });
      await lumaUntil(page, "r", (l) => l > 200, "the canvas's white instead of the camera");
      const rates = await fpsAgrees(page, "r");

      // Unpublish: a video-to-video model with no input emits nothing.
      await page.evaluate(() => r.unpublishVideoStream());
      await waitFor(async () => (await page.evaluate(() => countFrames(rRec.track, 1_000))) <= 2, {
        timeoutMs: 10_000,
        what: "no more frames once the input is unpublished",
      });
      const rec = await disconnect(page, "r");
      assert.deepEqual(rec.errors, []);
      // Runtime-scope messages (mediaStats every 5 s) never surface; only the model's own.
      assert.ok(rec.messages.every((m) => ["painted", "emitted"].includes(m.type)), JSON.stringify(rec.messages.map((m) => m.type)));
      console.log(`tint ${mode}: luma green ${green.toFixed(0)} white ${white.toFixed(0)} black ${black.toFixed(0)}; fps ${rates.seen.toFixed(1)} vs emitted ${rates.sent.toFixed(1)}`);
    }, { serverArgs: coordinatorArgs() });
  });

  test(`pulse (${mode}): a generator's track, its set_<field> and command change the pixels`, { timeout: 120_000 }, async () => {
    await withStack(`runtime-pulse-${mode}`, async ({ page, baseUrl }) => {
      await page.evaluate(installRecorder);
      assert.equal(await connect(page, "r", optionsFor(mode, "pulse", baseUrl)), "resolved");
      assert.deepEqual(await page.evaluate(() => rRec.statuses), READY[mode]);
      await lumaUntil(page, "r", (l) => l > 25 && l < 60, "the default grey (40)");
      const seen = await count(page, "r");
      await send(page, "r", { type: "flash", data: { level: 250, label: "hi" } });
      assert.deepEqual(await message(page, "r", "flashed", seen), { type: "flashed", data: { level: 250, label: "hi" } });
      await lumaUntil(page, "r", (l) => l > 200, "bright after flash");
      await send(page, "r", { type: "set_level", data: { level: 0 } });
      await lumaUntil(page, "r", (l) => l < 25, "dark after set_level 0");
      await fpsAgrees(page, "r");
      // The runtime's own mediaStats (about every 5 s) rides on the stats reports.
      const report = await waitFor(() => page.evaluate(() => rRec.stats.find((s) => s.runtime)), {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: "a stats report carrying the runtime's mediaStats",
      });
      const { aggregateQos, ageMs } = report.runtime;
      assert.ok(aggregateQos >= 0 && aggregateQos <= 10, `aggregateQos 0..10: ${aggregateQos}`);
      assert.ok(ageMs >= 0 && ageMs < 7_000, `the last one, about 5 s apart at most: ${ageMs} ms old`);
      assert.ok(report.fps > 0 && report.localCandidateType === "host", JSON.stringify(report));
      console.log(`pulse ${mode}: runtime mediaStats aggregateQos ${aggregateQos} (${ageMs} ms old); ${report.fps} fps, ${report.receivedKbps} kbit/s`);
      const rec = await disconnect(page, "r");
      assert.deepEqual(rec.errors, []);
      assert.ok(rec.messages.every((m) => ["flashed", "emitted"].includes(m.type)), JSON.stringify(rec.messages.map((m) => m.type)));
    }, { serverArgs: coordinatorArgs() });
  });
}

test("five connect/disconnect cycles on one Reactor (local, pulse)", { timeout: 120_000 }, async () => {
  await withStack("runtime-cycles", async ({ page }) => {
    await page.evaluate(installRecorder);
    const result = await page.evaluate(async (url) => {
      const r = make({ modelName: "pulse", local: true, coordinatorUrl: url });
      const cycles = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await r.connect();
        const before = rRec.messages.length;
        await r.sendMessage({ type: "flash", data: { level: 10 * i, label: `cycle ${i}` } });
        while (!rRec.messages.slice(before).some((m) => m.type === "flashed")) await new Promise((res) => setTimeout(res, 20));
        await r.disconnect();
        cycles.push({ ms: Math.round(performance.now() - t0), status: r.getStatus() });
      }
      return { cycles, statuses: rRec.statuses, streams: rRec.streams, errors: rRec.errors,
        flashed: rRec.messages.filter((m) => m.type === "flashed").map((m) => m.data.label) };
    }, runtimes.pulse.url);
    assert.deepEqual(result.statuses, Array(5).fill(["connecting", "ready", "disconnected"]).flat());
    assert.deepEqual(result.streams, Array(5).fill(["video", null]).flat());
    assert.deepEqual(result.flashed, [0, 1, 2, 3, 4].map((i) => `cycle ${i}`));
    assert.deepEqual(result.errors, []);
    console.log(`cycles: ${result.cycles.map((c) => c.ms).join(", ")} ms`);
  });
});

test("two Reactors one after the other through one coordinator and one runtime", { timeout: 120_000 }, async () => {
  await withStack("runtime-handover", async ({ page, baseUrl }) => {
    await page.evaluate(installRecorder);
    for (const name of ["a", "b"]) {
      assert.equal(await connect(page, name, optionsFor("coordinator", "pulse", baseUrl)), "resolved", name);
      const seen = await count(page, name);
      await send(page, name, { type: "flash", data: { level: 200, label: name } });
      assert.equal((await message(page, name, "flashed", seen)).data.label, name);
      await disconnect(page, name);
    }
    assert.deepEqual(await page.evaluate(() => [aRec.statuses, bRec.statuses]), [
      ["connecting", "waiting", "ready", "disconnected"],
      ["connecting", "waiting", "ready", "disconnected"],
    ]);
  }, { serverArgs: coordinatorArgs() });
});

test("bad machines: nothing listening, still starting, session taken → documented errors, no hang", { timeout: 120_000 }, async () => {
  await withStack("runtime-bad-machines", async ({ page }) => {
    await page.evaluate(installRecorder);
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const dead = await connect(page, "dead", { modelName: "tint", local: true, coordinatorUrl: nowhere });
    assert.equal(dead.code, "GPU_CONNECTION_FAILED");
    assert.equal(dead.recoverable, true);

    // A machine whose answer does not read: the error names the member and what came.
    const odd = createServer((req, res) => {
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.setHeader("Access-Control-Allow-Headers", "*");
      res.setHeader("Content-Type", "application/json");
      const capabilities = { protocol_version: "0.0.0", tracks: [{ name: "canvas", kind: "video", direction: "recvonly" }], commands: [], emission_fps: null };
      if (req.url === "/start_session") {
        res.end(JSON.stringify({ session_id: "local", selected_transport: { protocol: "webrtc", version: "1.0" }, model: { name: "odd" }, capabilities, state: "WAITING" }));
      } else if (req.url.endsWith("/connections") && req.method === "POST") {
        res.statusCode = 201;
        res.end(JSON.stringify({ connection_id: true, track_map: capabilities }));
      } else res.end("null");
    });
    await new Promise((res) => odd.listen(0, "127.0.0.1", res));
    try {
      const oddUrl = `http://127.0.0.1:${odd.address().port}`;
      const unreadable = await connect(page, "odd", { modelName: "odd", local: true, coordinatorUrl: oddUrl });
      assert.equal(unreadable.code, "GPU_CONNECTION_FAILED");
      assert.equal(
        unreadable.message,
        // The field, and what serde says came there.
        "unreadable answer to the connection registration (HTTP 201): at `connection_id`: invalid type: boolean `true`, expected a number or a string",
      );
    } finally {
      odd.close();
    }

    // A runtime that is still starting: not yet listening when connect() runs.
    const starting = await startRuntime("pulse", { waitHealthy: false });
    try {
      const early = await connect(page, "early", { modelName: "pulse", local: true, coordinatorUrl: starting.url });
      assert.equal(early.code, "GPU_CONNECTION_FAILED", JSON.stringify(early));
      assert.equal(await page.evaluate(() => early.getStatus()), "disconnected");
    } finally {
      await starting.stop();
    }

    // A runtime whose session another client holds.
    const options = { modelName: "tint", local: true, coordinatorUrl: runtimes.tint.url };
    assert.equal(await connect(page, "first", options), "resolved");
    await page.evaluate(async () => first.publishVideoStream(await navigator.mediaDevices.getUserMedia({ video: true })));
    // The runtime takes a second connection into its session, but its input
    // slot is the first client's: publishing is refused, and said so.
    assert.equal(await connect(page, "second", options), "resolved");
    const publish = await page.evaluate(async () =>
      outcome(second.publishVideoStream(await navigator.mediaDevices.getUserMedia({ video: true }))),
    );
    assert.equal(publish.code, "PUBLISH_FAILED", JSON.stringify(publish));
    assert.match(publish.message, /PUBLISHER_SLOT_TAKEN/);
    assert.equal(publish.recoverable, true);
    assert.deepEqual(await page.evaluate(() => [first.getStatus(), second.getStatus()]), ["ready", "ready"], "both still usable");
    await page.evaluate(() => Promise.all([first.disconnect(), second.disconnect()]));
  });
});

test("a runtime killed mid-session: GPU_CONNECTION_ERROR within 5 s, the machine out until healthy, the next machine handed on", { timeout: 180_000 }, async () => {
  let victim = await startRuntime("pulse");
  const args = ["--machines", "", "--machine-url", `pulse=${victim.url}`, "--machine-url", `pulse=${runtimes.pulse.url}`,
    "--health-interval-ms", "300"];
  try {
    await withStack("runtime-killed", async ({ page, baseUrl }) => {
      await page.evaluate(installRecorder);
      const options = optionsFor("coordinator", "pulse", baseUrl);
      // Both machines busy: one client on each.
      assert.equal(await connect(page, "x", options), "resolved");
      assert.equal(await connect(page, "y", options), "resolved");
      const t0 = Date.now();
      await victim.kill();
      const [hit, spared] = await waitFor(
        () => page.evaluate(() => (x.getStatus() === "disconnected" ? ["x", "y"] : y.getStatus() === "disconnected" ? ["y", "x"] : null)),
        { timeoutMs: 5_000, intervalMs: 50, what: "the killed machine's client to be disconnected" },
      );
      const ms = Date.now() - t0;
      const errors = await page.evaluate(
        (n) => window[`${n}Rec`].errors.map(({ code, message, recoverable, component }) => ({ code, message, recoverable, component })),
        hit,
      );
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0].code, "GPU_CONNECTION_ERROR");
      assert.equal(errors[0].recoverable, true);
      assert.equal(errors[0].component, "gpu");
      assert.equal(await page.evaluate((n) => window[n].getStatus(), spared), "ready", "the other session goes on");

      // A new client waits: the dead machine is not handed out.
      const z = page.evaluate((o) => outcome(make(o, "z").connect()), options);
      await waitFor(() => page.evaluate(() => window.zRec?.statuses.at(-1) === "waiting"), { what: "z waiting" });
      // Past several health checks (300 ms each), z still waits.
      while (Date.now() - t0 < 3_000) {
        assert.deepEqual(await page.evaluate(() => zRec.statuses), ["connecting", "waiting"], "z kept waiting");
        await new Promise((r) => setTimeout(r, 100));
      }
      // The spared session ends: its machine goes to the waiting client.
      await disconnect(page, spared);
      assert.equal(await z, "resolved");
      assert.deepEqual(await page.evaluate(() => zRec.statuses), ["connecting", "waiting", "ready"]);

      // The killed runtime comes back on its port: healthy again, handed out again.
      victim = await startRuntime("pulse", { port: victim.port });
      assert.equal(await connect(page, "w", options), "resolved");
      const seen = await count(page, "w");
      await send(page, "w", { type: "flash", data: { level: 1, label: "back" } });
      assert.equal((await message(page, "w", "flashed", seen)).data.label, "back");
      await page.evaluate(() => Promise.all([window.z.disconnect(), w.disconnect()]));
      console.log(`killed: ${hit} disconnected after ${ms} ms`);
    }, { serverArgs: args });
  } finally {
    await victim.stop();
  }
});
