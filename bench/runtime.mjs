// The SDK against the real Reactor runtime (reactor-runtime 2.10.1 serving
// tests/runtime-models/tint) and against our simulated echo machine, in the
// same run and the same page, both in local mode with the fake camera
// published:
//   connect:        connect() → ready (median of 3)
//   command→reply:  sendMessage of a command → the model's answer in newMessage (p50/p99 of 50)
//   command→pixels: sendMessage → the first received frame showing the change (median of 5)
//   fps:            the SDK's fps events while the camera is published (median)
// A benchmark, not a test: it prints numbers and never fails on them.
// Usage (after npm run build and scripts/install-runtime.sh), inside a loopback-only namespace:
//   unshare --net sh -c 'ip link set lo up; node bench/runtime.mjs'
import { withStack } from "../tests/e2e/harness.mjs";
import { installRecorder } from "../tests/e2e/page.mjs";
import { simulatedMachineUrl, withRuntime } from "../tests/runtime/runtime.mjs";

const COMMANDS = 50;

/** How each machine's model is driven: a command and its answer, a "bright" and a "plain" command. */
const MACHINES = {
  "reactor-runtime 2.10.1 (tint)": {
    model: "tint",
    command: (i) => ({ type: "paint", data: { r: i % 256, g: 0, b: 0, mix: 0 } }),
    reply: "painted",
    bright: { type: "paint", data: { r: 255, g: 255, b: 255, mix: 1 } },
    plain: { type: "paint", data: { r: 0, g: 0, b: 0, mix: 0 } },
  },
  "simulated machine (echo)": {
    model: "echo",
    command: (i) => ({ type: "set_brightness", data: { brightness: (i % 10) / 1000 } }),
    reply: "brightness_set",
    bright: { type: "set_brightness", data: { brightness: 1 } },
    plain: { type: "set_brightness", data: { brightness: 0 } },
  },
};

/** Page-side: one machine, measured. */
const measure = async ({ url, model, commands, reply, bright, plain }) => {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
  const r = make({ modelName: model, local: true, coordinatorUrl: url }, "m");
  const connects = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await r.connect();
    connects.push(performance.now() - t0);
    if (i < 2) await r.disconnect();
  }
  await r.publishVideoStream(await navigator.mediaDevices.getUserMedia({ video: true }));
  const next = (type, from) =>
    new Promise((res) => {
      const tick = () => (mRec.messages.slice(from).some((m) => m?.type === type) ? res() : setTimeout(tick, 1));
      tick();
    });
  const replies = [];
  for (const command of commands) {
    const from = mRec.messages.length;
    const t0 = performance.now();
    await r.sendMessage(command);
    await next(reply, from);
    replies.push(performance.now() - t0);
  }
  // Frames as they come, with their mean luma; a command's change is the first bright one.
  const reader = new MediaStreamTrackProcessor({ track: mRec.track.clone() }).readable.getReader();
  const luma = async () => {
    const { value: frame } = await reader.read();
    const rect = { x: 0, y: 0, width: frame.visibleRect.width & ~1, height: frame.visibleRect.height & ~1 };
    const buffer = new Uint8Array(frame.allocationSize({ rect }));
    await frame.copyTo(buffer, { rect });
    frame.close();
    let sum = 0;
    const pixels = rect.width * rect.height;
    for (let i = 0; i < pixels; i += 7) sum += buffer[i];
    return (sum * 7) / pixels;
  };
  const changes = [];
  for (let i = 0; i < 5; i++) {
    await r.sendMessage(plain);
    while ((await luma()) > 150);
    const t0 = performance.now();
    await r.sendMessage(bright);
    while ((await luma()) < 200);
    changes.push(performance.now() - t0);
  }
  reader.cancel();
  const fpsFrom = mRec.fps.length;
  while (mRec.fps.length < fpsFrom + 3) await new Promise((res) => setTimeout(res, 100));
  await r.disconnect();
  return {
    connect: median(connects),
    replyP50: pct(replies, 0.5),
    replyP99: pct(replies, 0.99),
    pixels: median(changes),
    fps: median(mRec.fps.slice(fpsFrom)),
  };
};

const rows = {};
await withStack("bench-runtime", async ({ page, server }) => {
  await page.evaluate(installRecorder);
  for (const [name, m] of Object.entries(MACHINES)) {
    const run = (url) =>
      page.evaluate(measure, {
        url,
        model: m.model,
        commands: Array.from({ length: COMMANDS }, (_, i) => m.command(i)),
        reply: m.reply,
        bright: m.bright,
        plain: m.plain,
      });
    rows[name] = m.model === "echo" ? await run(simulatedMachineUrl(server, "echo")) : await withRuntime(m.model, (rt) => run(rt.url));
  }
}, { serverArgs: ["--machines", "echo=1"] });

const ms = (x) => `${x.toFixed(1)} ms`;
console.log("\n| | connect() → ready | command → reply p50 / p99 | command → visible change | received fps |");
console.log("|---|---|---|---|---|");
for (const [name, r] of Object.entries(rows)) {
  console.log(`| ${name} | ${ms(r.connect)} | ${ms(r.replyP50)} / ${ms(r.replyP99)} | ${ms(r.pixels)} | ${r.fps.toFixed(1)} |`);
}
