// The documented Reactor API against the reference server, in headless
// Chromium: every method and event, video both ways, and the error paths.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, waitFor, API_KEY } from "./harness.mjs";
import { installRecorder } from "./page.mjs";

const SERVER = ["--machines", "echo=1,generator=1"];

/** Evaluates `fn(arg)` in the page, after the recorder is installed. */
async function inPage(page, fn, arg) {
  await page.evaluate(installRecorder);
  return page.evaluate(fn, arg);
}

const options = (baseUrl, extra = {}) => ({ modelName: "echo", insecureApiKey: API_KEY, queueing: true, coordinatorUrl: baseUrl, ...extra });

test("echo: connect, camera in, video out, fps, commands, errors while ready, disconnect", { timeout: 120_000 }, async () => {
  await withStack("api-echo", async ({ page, baseUrl, screenshot }) => {
    const connected = await inPage(page, async (opts) => {
      const r = make(opts);
      // A handler that throws must not stop the others or the SDK.
      r.on("newMessage", () => {
        throw new Error("an app bug");
      });
      await r.connect();
      return { status: r.getStatus(), state: r.getState(), waiting: r.getWaitingInfo() };
    }, options(baseUrl));
    assert.equal(connected.status, "ready");
    assert.deepEqual(connected.state, { status: "ready" });
    assert.equal(connected.waiting, undefined, "getWaitingInfo() is undefined when not waiting");
    assert.deepEqual(await page.evaluate(() => rRec.statuses), ["connecting", "waiting", "ready"]);

    // The model's video arrives as a track.
    await waitFor(() => page.evaluate(() => rRec.streams.includes("video")), { what: "streamChanged(track)" });

    // Publish the fake camera; the echo model sends it back.
    assert.equal(
      await page.evaluate(async () => {
        window.cam = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
        return outcome(r.publishVideoStream(cam));
      }),
      "resolved",
    );
    const frames = await page.evaluate(() => countFrames(rRec.track, 1500));
    assert.ok(frames >= 10, `the model's video decodes: ${frames} frames in 1.5 s`);
    await waitFor(() => page.evaluate(() => rRec.fps.some((f) => f > 5)), { timeoutMs: 10_000, what: "fps > 5" });
    const fps = await page.evaluate(() => rRec.fps);
    assert.ok(fps.every((f) => typeof f === "number" && f >= 0), `fps values: ${fps}`);

    // A command visibly changes the picture (the fake camera is dark: brighten it).
    const before = await page.evaluate(() => meanLuma(rRec.track));
    await page.evaluate(() => r.sendMessage({ type: "set_brightness", data: { brightness: 0.6 } }));
    await waitFor(() => page.evaluate(() => rRec.messages.some((m) => m.type === "brightness_set")), { what: "brightness_set" });
    const brighter = await waitFor(
      async () => {
        const now = await page.evaluate(() => meanLuma(rRec.track));
        return now > before + 60 ? now : null;
      },
      { timeoutMs: 10_000, what: `luma to rise from ${before}` },
    );
    assert.ok(brighter > before + 60, `luma ${before} → ${brighter}`);
    await page.evaluate(() => {
      const v = document.querySelector("video") ?? document.body.appendChild(document.createElement("video"));
      v.muted = true;
      v.srcObject = new MediaStream([rRec.track]);
      return v.play();
    });
    await screenshot("api-echo.png");

    // Flooding the channel: the calls wait for it to drain (12 MB at once), it never closes.
    const flood = await page.evaluate(async () => {
      const chunk = "y".repeat(60_000);
      const calls = [];
      for (let i = 0; i < 200; i++) calls.push(outcome(r.sendMessage({ type: "flood", data: chunk })));
      const results = await Promise.all(calls);
      return { refused: results.filter((x) => x !== "resolved"), status: r.getStatus() };
    });
    assert.deepEqual(flood.refused, [], "every call of the flood resolves");
    assert.equal(flood.status, "ready", "the session survives a flood");
    // Bad messages are refused with a clear code; the session stays usable.
    const bad = await page.evaluate(async () => {
      const cyclic = {};
      cyclic.self = cyclic;
      return {
        cyclic: await outcome(r.sendMessage(cyclic)),
        bigint: await outcome(r.sendMessage({ n: 1n })),
        fn: await outcome(r.sendMessage({ f() {} })),
        undef: await outcome(r.sendMessage(undefined)),
        huge: await outcome(r.sendMessage({ blob: "x".repeat(300_000) })),
        noVideo: await outcome(r.publishVideoStream(new MediaStream())),
        notAStream: await outcome(r.publishVideoStream("camera")),
        status: r.getStatus(),
      };
    });
    for (const key of ["cyclic", "bigint", "fn", "undef"]) assert.equal(bad[key].code, "INVALID_MESSAGE", key);
    assert.equal(bad.huge.code, "MESSAGE_TOO_LARGE");
    assert.match(bad.huge.message, /maximum/);
    assert.equal(bad.noVideo.code, "INVALID_STREAM");
    assert.equal(bad.notAStream.code, "INVALID_STREAM");
    assert.ok(bad.cyclic.isError && bad.cyclic.component === "gpu");
    assert.equal(bad.status, "ready");
    const last = await page.evaluate(() => ({ same: r.getLastError() === rRec.errors.at(-1), code: r.getLastError().code }));
    assert.deepEqual(last, { same: true, code: "INVALID_STREAM" });
    await page.evaluate(() => r.sendMessage({ type: "still", data: 1 }));
    await waitFor(() => page.evaluate(() => rRec.messages.some((m) => m.type === "echo" && m.data.type === "still")), { what: "echo after errors" });
    // The throwing handler ran before the recorder each time, and the recorder still saw every message.
    assert.ok((await page.evaluate(() => rRec.messages.length)) >= 3);

    // Unpublish (twice: the second is a no-op), then disconnect.
    assert.deepEqual(await page.evaluate(async () => [await outcome(r.unpublishVideoStream()), await outcome(r.unpublishVideoStream())]), ["resolved", "resolved"]);
    await page.evaluate(() => r.disconnect());
    const end = await page.evaluate(() => ({ statuses: rRec.statuses, streams: rRec.streams, status: r.getStatus(), state: r.getState(), lastCode: r.getState().lastError?.code }));
    assert.deepEqual(end.statuses, ["connecting", "waiting", "ready", "disconnected"]);
    assert.equal(end.streams.at(-1), null, "streamChanged(null) follows disconnect()");
    assert.equal(end.status, "disconnected");
    assert.equal(end.state.status, "disconnected");
    assert.equal(end.lastCode, "INVALID_STREAM", "getState().lastError keeps the last error");
    assert.equal(await page.evaluate(() => outcome(r.disconnect())), "resolved", "disconnect() again is fine");
    assert.equal((await page.evaluate(() => outcome(r.sendMessage({})))).code, "MESSAGE_SEND_FAILED");
  }, { serverArgs: SERVER });
});

test("generator: video without input, progress messages, publish refused", { timeout: 60_000 }, async () => {
  await withStack("api-generator", async ({ page, baseUrl }) => {
    await inPage(page, (opts) => make(opts, "g").connect(), options(baseUrl, { modelName: "generator" }));
    await waitFor(() => page.evaluate(() => gRec.messages.filter((m) => m.type === "progress").length >= 2), { timeoutMs: 10_000, what: "two progress messages" });
    const frames = await page.evaluate(() => countFrames(gRec.track, 1000));
    assert.ok(frames >= 5, `generator frames decode: ${frames}`);
    const refused = await page.evaluate(async () => outcome(g.publishVideoStream(await navigator.mediaDevices.getUserMedia({ video: true }))));
    assert.equal(refused.code, "PUBLISH_FAILED");
    assert.match(refused.message, /no video input/);
    await page.evaluate(() => g.disconnect());
  }, { serverArgs: SERVER });
});

test("refusals: bad key, unknown model, no capacity, the queue, aborting", { timeout: 90_000 }, async () => {
  await withStack("api-refusals", async ({ page, baseUrl }) => {
    const refused = await inPage(page, async (opts) => {
      const bad = make({ ...opts, insecureApiKey: "wrong" }, "bad");
      const unknown = make({ ...opts, modelName: "no-such-model" }, "unknown");
      return {
        bad: await outcome(bad.connect()),
        badStatuses: badRec.statuses,
        badEvents: badRec.errors.map((e) => e.code),
        unknown: await outcome(unknown.connect()),
      };
    }, options(baseUrl));
    assert.equal(refused.bad.code, "AUTHENTICATION_FAILED");
    assert.equal(refused.bad.recoverable, false);
    assert.equal(refused.bad.component, "coordinator");
    assert.deepEqual(refused.badStatuses, ["connecting", "disconnected"]);
    assert.deepEqual(refused.badEvents, ["AUTHENTICATION_FAILED"]);
    assert.equal(refused.unknown.code, "UNKNOWN_MODEL");

    // One machine: the first takes it; without queueing the second is refused.
    const busy = await page.evaluate(async (opts) => {
      await make(opts, "first").connect();
      const second = make({ ...opts, queueing: false }, "second");
      return { second: await outcome(second.connect()), status: second.getStatus() };
    }, options(baseUrl));
    assert.equal(busy.second.code, "NO_CAPACITY");
    assert.equal(busy.second.recoverable, true);
    assert.equal(typeof busy.second.retryAfter, "number");
    assert.equal(busy.status, "disconnected");

    // With queueing the third waits at position 1, then gets the machine.
    await page.evaluate((opts) => {
      window.thirdConnect = outcome(make(opts, "third").connect());
    }, options(baseUrl));
    await waitFor(() => page.evaluate(() => third.getWaitingInfo()?.position === 1), { what: "position 1" });
    const waiting = await page.evaluate(() => ({ status: third.getStatus(), events: thirdRec.waiting, state: third.getState() }));
    assert.equal(waiting.status, "waiting");
    assert.equal(waiting.events.at(-1).position, 1);
    assert.equal(waiting.state.waitingInfo.position, 1);
    await page.evaluate(() => first.disconnect());
    assert.equal(await page.evaluate(() => thirdConnect), "resolved");
    assert.deepEqual(await page.evaluate(() => thirdRec.statuses), ["connecting", "waiting", "ready"]);

    // Leaving the queue: disconnect() while waiting aborts connect().
    const aborted = await page.evaluate(async (opts) => {
      const fourth = make(opts, "fourth");
      const pending = outcome(fourth.connect());
      while (fourth.getWaitingInfo()?.position !== 1) await new Promise((r) => setTimeout(r, 20));
      await fourth.disconnect();
      return { result: await pending, status: fourth.getStatus(), lastError: fourth.getLastError() };
    }, options(baseUrl));
    assert.equal(aborted.result.code, "CONNECTION_ABORTED");
    assert.equal(aborted.status, "disconnected");
    assert.equal(aborted.lastError, undefined, "the user's own disconnect is not an error");
    await page.evaluate(() => third.disconnect());
  });
});

test("local mode: straight to one machine; an unreachable one fails with GPU_CONNECTION_FAILED", { timeout: 60_000 }, async () => {
  await withStack("api-local", async ({ page, server }) => {
    const line = server.log.find((l) => /Machine echo \(simulated\) at (http:\/\/\S+)/.test(l));
    assert.ok(line, "the server prints its machine's URL");
    const machineUrl = line.match(/at (http:\/\/\S+)/)[1];
    const result = await inPage(page, async (url) => {
      const l = make({ modelName: "echo", coordinatorUrl: url, local: true }, "l");
      await l.connect();
      await l.sendMessage({ type: "local", data: 1 });
      while (!lRec.messages.some((m) => m.type === "echo")) await new Promise((r) => setTimeout(r, 20));
      await l.disconnect();
      const dead = make({ modelName: "echo", coordinatorUrl: "http://127.0.0.1:9", local: true }, "dead");
      return { statuses: lRec.statuses, echo: lRec.messages.find((m) => m.type === "echo"), dead: await outcome(dead.connect()) };
    }, machineUrl);
    assert.deepEqual(result.statuses, ["connecting", "ready", "disconnected"]);
    assert.deepEqual(result.echo, { type: "echo", data: { type: "local", data: 1 } });
    assert.equal(result.dead.code, "GPU_CONNECTION_FAILED");
    assert.equal(result.dead.component, "gpu");
  });
});

test("development mode: messages and the camera sent before ready go out once ready", { timeout: 60_000 }, async () => {
  await withStack("api-development", async ({ page, baseUrl }) => {
    const result = await inPage(page, async (opts) => {
      const d = make({ ...opts, development: true }, "d");
      // The camera first: awaiting it after connect() could let the connection win the race.
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      const early = outcome(d.sendMessage({ type: "early", data: 1 }));
      const connecting = d.connect();
      const second = outcome(d.sendMessage({ type: "early", data: 2 }));
      const camera = outcome(d.publishVideoStream(stream));
      const statusWhenSent = d.getStatus();
      await connecting;
      return { statusWhenSent, sent: [await early, await second], camera: await camera };
    }, options(baseUrl));
    assert.notEqual(result.statusWhenSent, "ready", "sent before ready");
    assert.deepEqual(result.sent, ["resolved", "resolved"]);
    assert.equal(result.camera, "resolved");
    await waitFor(() => page.evaluate(() => dRec.messages.filter((m) => m.type === "echo").length >= 2), { what: "both echoes" });
    const order = await page.evaluate(() => dRec.messages.filter((m) => m.type === "echo").map((m) => m.data.data));
    assert.deepEqual(order, [1, 2], "held messages keep their order");
    const frames = await page.evaluate(() => countFrames(dRec.track, 1500));
    assert.ok(frames >= 10, `the held camera was published: ${frames} frames back`);
    await page.evaluate(() => d.disconnect());
  });
});
