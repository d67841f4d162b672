// The demo page (www/), driven as a person would: pick a model, click
// Connect, publish the fake camera, send a command from its form (built from the model's schema),
// click Disconnect; also a refused key, the generator model and a second
// visitor waiting in line. Everything is
// read back from what the page shows. Screenshots in tests/artifacts/:
//   demo-echo.png       the echoed camera video, fps and the console with the replies
//   demo-generator.png  the generator's video and its progress line
//   demo-error.png      a refused API key, shown with its code
//   demo-queue.png      the second visitor's page: "waiting", its place in line and the estimated wait
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifactsDir, waitFor, withStack } from "./harness.mjs";

const SERVER_ARGS = ["--machines", "echo=1,generator=1"];
const CONNECT_TIMEOUT_MS = 30_000;
const VIDEO_TIMEOUT_MS = 20_000;
const REPLY_TIMEOUT_MS = 10_000;

/** Waits until the page has loaded the SDK (the module ran: Connect is enabled). */
async function pageReady(page) {
  await page.waitForFunction(() => document.getElementById("sdk").textContent.startsWith("SDK ready"), null, { timeout: 20_000 });
  assert.equal(await page.isEnabled("#connect"), true, "Connect is enabled once the SDK is loaded");
}

const badge = (page) => page.textContent("#status");

async function waitForBadge(page, status, timeout) {
  await page.waitForFunction((s) => document.getElementById("status").textContent === s, status, { timeout }).catch(async (e) => {
    throw new Error(
      `status badge never showed "${status}" (shows "${await badge(page)}"); console: ${JSON.stringify(await consoleLines(page))}; ` +
        `error banner: ${await page.textContent("#error")}`,
      { cause: e },
    );
  });
}

const consoleLines = (page) => page.$$eval("#log li", (lis) => lis.map((li) => ({ kind: li.className, text: li.textContent })));

/** Waits for an incoming console line whose JSON payload satisfies `pred`. */
async function waitForReply(page, pred, what) {
  return waitFor(
    async () => {
      for (const line of await consoleLines(page)) {
        if (line.kind !== "in") continue;
        const json = line.text.slice(line.text.indexOf("← ") + 2);
        try {
          const m = JSON.parse(json);
          if (pred(m)) return m;
        } catch {
          /* not a JSON line */
        }
      }
      return null;
    },
    { timeoutMs: REPLY_TIMEOUT_MS, what: `${what} in the message console` },
  );
}

/** Painted frames of the model's video so far (the page counts them with requestVideoFrameCallback). */
const paintedFrames = (page) => page.$eval("#video", (v) => Number(v.dataset.frames ?? 0));

/** Waits until the model's video is playing: a size, and `n` more painted frames. */
async function waitForVideo(page, n = 15) {
  const start = await paintedFrames(page);
  await waitFor(
    async () => {
      const { w, h, frames } = await page.$eval("#video", (v) => ({ w: v.videoWidth, h: v.videoHeight, frames: Number(v.dataset.frames ?? 0) }));
      return w > 0 && h > 0 && frames >= start + n;
    },
    { timeoutMs: VIDEO_TIMEOUT_MS, what: `the model's video to paint ${n} frames` },
  );
  return page.$eval("#video", (v) => ({ width: v.videoWidth, height: v.videoHeight }));
}

/** Mean luma (0..255) of the model's current video frame. */
const meanLuma = (page) =>
  page.$eval("#video", (v) => {
    const c = document.createElement("canvas");
    c.width = 64;
    c.height = 48;
    const g = c.getContext("2d", { willReadFrequently: true });
    g.drawImage(v, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    return sum / (d.length / 4);
  });

test("demo: echo model: Connect, publish the camera, send a command, Disconnect", { timeout: 180_000 }, async () => {
  await withStack(
    "demo-echo",
    async ({ page, screenshot }) => {
      await pageReady(page);
      // It never connects by itself.
      assert.equal(await badge(page), "disconnected");
      const requested = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));
      assert.ok(!requested.includes("/tokens"), `no token requested before Connect: ${requested.join(", ")}`);

      // Connect (model echo is preselected).
      assert.equal(await page.inputValue("#model"), "echo");
      await page.click("#connect");
      await waitForBadge(page, "ready", CONNECT_TIMEOUT_MS);
      assert.equal(await page.isEnabled("#connect"), false, "Connect is disabled while connected");
      assert.equal(await page.isEnabled("#disconnect"), true);
      assert.ok(await page.isHidden("#error"), `no error shown: ${await page.textContent("#error")}`);

      // Publish the fake camera: the echo model's video starts.
      await page.click("#camera");
      await page.waitForSelector('#camera[aria-pressed="true"]', { timeout: 10_000 }); // getUserMedia granted
      assert.equal(await page.textContent("#camera"), "Stop camera");
      const size = await waitForVideo(page);
      assert.ok(size.width > 0 && size.height > 0, `video size ${JSON.stringify(size)}`);
      await page.waitForFunction(() => /^[1-9]\d* fps$/.test(document.getElementById("fps").textContent), null, { timeout: 10_000 });
      // The connection's quality and its main numbers, from the stats and connectionQuality events.
      await page.waitForFunction(() => document.getElementById("quality").dataset.quality === "good", null, { timeout: 15_000 });
      assert.equal(await page.textContent("#quality"), "good");
      const stats = await page.textContent("#stats");
      assert.match(stats, /^[1-9]\d* fps · ↓ [1-9]\d* kbit\/s · ↑ [1-9]\d* kbit\/s · rtt \d+ ms · loss 0\.0 % · host/, `stats line: ${stats}`);
      const before = await meanLuma(page);

      // The command forms come from the model's schema: one per command, inputs typed and bounded by it.
      const forms = await page.$$eval("#commands form", (fs) => fs.map((f) => f.dataset.command));
      assert.ok(forms.includes("set_brightness") && forms.includes("set_invert"), `forms: ${forms.join(", ")}`);
      const input = await page.$eval('form[data-command="set_brightness"] [name="brightness"]', (i) => ({ type: i.type, min: i.min, max: i.max, value: i.value }));
      assert.deepEqual(input, { type: "number", min: "-1", max: "1", value: "0" }, "type, bounds and default from the schema");
      assert.equal(await page.$eval('form[data-command="set_invert"] [name="invert"]', (i) => i.type), "checkbox");

      // An out-of-bounds value is refused by the SDK (validate is on), naming the parameter; nothing is sent.
      await page.fill('form[data-command="set_brightness"] [name="brightness"]', "3");
      await page.click('form[data-command="set_brightness"] button');
      await page.waitForSelector("#error:not([hidden])", { timeout: 5_000 });
      assert.equal(await page.textContent("#error-code"), "INVALID_COMMAND");
      assert.match(await page.textContent("#error-message"), /parameter `brightness` must be at most 1, got 3/);
      await page.click("#error-dismiss");

      // Send the command from its form: the model confirms it, echoes it, and the video brightens.
      const command = { type: "set_brightness", data: { brightness: 0.5 } };
      await page.fill('form[data-command="set_brightness"] [name="brightness"]', "0.5");
      await page.click('form[data-command="set_brightness"] button');
      const confirmed = await waitForReply(page, (m) => m?.type === "brightness_set", "brightness_set");
      assert.deepEqual(confirmed, { type: "brightness_set", data: { brightness: 0.5 } });
      const echoed = await waitForReply(page, (m) => m?.type === "echo", "the echo of the command");
      assert.deepEqual(echoed, { type: "echo", data: command });
      const lines = await consoleLines(page);
      assert.ok(lines.some((l) => l.kind === "out" && l.text.includes(`→ ${JSON.stringify(command)}`)), "the sent line is in the console");
      await waitFor(async () => (await meanLuma(page)) > before + 40, {
        timeoutMs: VIDEO_TIMEOUT_MS,
        what: `the video to brighten (mean luma before the command ${before.toFixed(0)})`,
      });
      await waitForVideo(page, 5);
      // Clipped to the page's content (docs/demo.png is a copy of this one).
      const height = await page.evaluate(() => Math.ceil(document.querySelector("main").getBoundingClientRect().bottom));
      await page.screenshot({ path: join(artifactsDir, "demo-echo.png"), clip: { x: 0, y: 0, width: 1024, height } });

      // Disconnect: badge back to disconnected, the video is removed (streamChanged(null)).
      await page.click("#disconnect");
      await waitForBadge(page, "disconnected", 10_000);
      await page.waitForFunction(() => document.getElementById("video").srcObject === null, null, { timeout: 10_000 });
      assert.equal(await page.isVisible("#no-video"), true, "the placeholder is back");
      assert.equal(await page.textContent("#fps"), "– fps");
      assert.equal(await page.textContent("#quality"), "–");
      assert.equal(await page.textContent("#stats"), "");
      assert.equal(await page.isEnabled("#connect"), true, "Connect is enabled again");
      assert.ok(await page.isHidden("#error"), `no error shown: ${await page.textContent("#error")}`);
    },
    { serverArgs: SERVER_ARGS },
  );
});

test("demo: generator model: video and progress with no camera", { timeout: 120_000 }, async () => {
  await withStack(
    "demo-generator",
    async ({ page, screenshot }) => {
      await pageReady(page);
      await page.selectOption("#model", "generator");
      await page.click("#connect");
      await waitForBadge(page, "ready", CONNECT_TIMEOUT_MS);
      // The command forms follow the model: its schema's.
      const forms = await page.$$eval("#commands form", (fs) => fs.map((f) => f.dataset.command));
      assert.ok(forms.includes("set_color") && forms.includes("set_speed"), `forms: ${forms.join(", ")}`);
      const size = await waitForVideo(page);
      assert.deepEqual(size, { width: 320, height: 240 }, "the generator renders 320×240");
      await page.waitForFunction(() => /^[1-9]\d* fps$/.test(document.getElementById("fps").textContent), null, { timeout: 10_000 });
      assert.equal(await page.isHidden("#preview"), true, "no camera preview: the camera is off");
      await page.waitForFunction(() => /progress: \{"frame":[1-9]/.test(document.getElementById("progress").textContent), null, { timeout: 10_000 });
      await page.fill('form[data-command="set_color"] [name="color"]', "#00ff00");
      await page.click('form[data-command="set_color"] button');
      const set = await waitForReply(page, (m) => m?.type === "color_set", "color_set");
      assert.equal(set.data.color.toLowerCase(), "#00ff00");
      await screenshot("demo-generator.png");
      await page.click("#disconnect");
      await waitForBadge(page, "disconnected", 10_000);
    },
    { serverArgs: SERVER_ARGS },
  );
});

test("demo: a refused API key is shown with its code", { timeout: 60_000 }, async () => {
  await withStack(
    "demo-error",
    async ({ page, screenshot }) => {
      await pageReady(page);
      await page.fill("#key", "not-a-key");
      await page.click("#connect");
      await page.waitForSelector("#error:not([hidden])", { timeout: 10_000 });
      assert.equal(await page.textContent("#error-code"), "AUTHENTICATION_FAILED");
      assert.match(await page.textContent("#error-meta"), /coordinator, not recoverable/);
      assert.equal(await badge(page), "disconnected");
      assert.equal(await page.isEnabled("#connect"), true, "Connect can be pressed again");
      const lines = await consoleLines(page);
      assert.ok(lines.some((l) => l.kind === "err" && l.text.includes("AUTHENTICATION_FAILED")), "the console has the error line");
      await screenshot("demo-error.png");
    },
    { serverArgs: SERVER_ARGS },
  );
});

test("demo: a second visitor waits in line, with the position shown, until the first leaves", { timeout: 120_000 }, async () => {
  await withStack(
    "demo-queue",
    async ({ page, browser, baseUrl }) => {
      const second = await browser.context.newPage();
      try {
        await second.goto(`${baseUrl}/`, { waitUntil: "load" });
        await pageReady(page);
        await pageReady(second);
        await page.click("#connect");
        await waitForBadge(page, "ready", CONNECT_TIMEOUT_MS);

        // The only echo machine is taken: the second page queues.
        await second.click("#connect");
        await waitForBadge(second, "waiting", CONNECT_TIMEOUT_MS);
        await second.waitForFunction(() => /^#1 in line/.test(document.getElementById("queue").textContent), null, { timeout: 10_000 });
        const queueText = await second.textContent("#queue");
        await second.screenshot({ path: join(artifactsDir, "demo-queue.png") });

        // The first leaves; the second gets the machine and the queue line clears.
        await page.click("#disconnect");
        await waitForBadge(page, "disconnected", 10_000);
        await waitForBadge(second, "ready", CONNECT_TIMEOUT_MS);
        assert.equal(await second.textContent("#queue"), "", `the queue line clears once ready (was "${queueText}")`);
        await second.click("#disconnect");
        await waitForBadge(second, "disconnected", 10_000);
      } finally {
        await second.close().catch(() => {});
      }
    },
    { serverArgs: SERVER_ARGS },
  );
});
