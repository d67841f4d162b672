// The package as users meet it: apps that install @reactor-wasm/sdk from the
// `npm pack` tarball and import it with no init() call and no bundler plugin,
// run in headless Chromium against the reference server:
//   - Vite: the production build (served by `vite preview`) and the dev
//     server (`vite`, with the documented optimizeDeps.exclude line);
//   - webpack 5: the production build, served by a static server;
//   - a plain page: <script type="module"> + an import map, straight from the
//     tarball's files, no bundler.
// Each app connects to `echo`, round-trips a message, disconnects.
//
// Prerequisite: tests/consumers/prepare.sh (packs, installs, builds).
// Run inside a loopback-only network namespace (scripts/test.sh does):
//   unshare --net sh -c 'ip link set lo up; node --test tests/consumers/'
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { artifactsDir, freePort, launchBrowser, startServer, waitFor } from "../e2e/harness.mjs";
import { serveStatic } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const tarball = join(here, "reactor-wasm-sdk.tgz");
const RUN_TIMEOUT_MS = 45_000;

let server; // the reference server: coordinator + one echo machine
let browser;
const cleanups = [];

before(async () => {
  for (const need of [tarball, join(here, "vite/dist/index.html"), join(here, "webpack/dist/main.js")]) {
    if (!existsSync(need)) throw new Error(`${need} missing: run tests/consumers/prepare.sh first`);
  }
  mkdirSync(artifactsDir, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await browser?.close();
  await server?.stop();
  writeFileSync(join(artifactsDir, "consumers.server.log"), (server?.log ?? []).join("\n") + "\n");
});

/** Starts a child process (a Vite server) and resolves once `url` answers. */
async function startProcess(name, cmd, args, { cwd, url }) {
  const log = [];
  const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  for (const s of [child.stdout, child.stderr]) s.on("data", (d) => log.push(String(d)));
  const stop = async () => {
    if (exited) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(t);
  };
  cleanups.push(stop);
  try {
    await waitFor(
      async () => {
        if (exited) throw Object.assign(new Error(`${name} exited: ${JSON.stringify(exited)}`), { fatal: true });
        const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await r.arrayBuffer();
        return r.ok;
      },
      { timeoutMs: 30_000, what: `${name} at ${url}` },
    );
  } catch (e) {
    throw new Error(`${e.message}\n--- ${name} output ---\n${log.join("")}`);
  }
  return { log, stop };
}

/**
 * Opens `appUrl?coordinator=<reference server>` in a new page, waits for the
 * app's scenario to finish, checks what it did, saves a screenshot.
 */
async function runApp(name, appUrl, bundler) {
  const page = await browser.context.newPage();
  const consoleLog = [];
  const wasm = [];
  page.on("console", (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => consoleLog.push(`[pageerror] ${e.stack || e.message}`));
  page.on("response", (r) => {
    if (new URL(r.url()).pathname.endsWith(".wasm")) wasm.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] });
  });
  try {
    const url = `${appUrl}${appUrl.includes("?") ? "&" : "?"}coordinator=${encodeURIComponent(server.baseUrl)}`;
    const resp = await page.goto(url, { waitUntil: "load", timeout: 20_000 });
    assert.ok(resp?.ok(), `GET ${url} answered ${resp?.status()}`);
    await page
      .waitForFunction(() => window.consumer && window.consumer.outcome !== "running" && window.consumer.outcome !== "idle", null, {
        timeout: RUN_TIMEOUT_MS,
      })
      .catch(async (e) => {
        const seen = await page.evaluate(() => ({ consumer: window.consumer, log: document.getElementById("log")?.textContent }));
        throw new Error(`${name}: the app did not finish in ${RUN_TIMEOUT_MS} ms: ${JSON.stringify(seen)}`, { cause: e });
      });
    const consumer = await page.evaluate(() => window.consumer);
    await page.screenshot({ path: join(artifactsDir, `consumer-${name}.png`) });

    assert.equal(consumer.bundler, bundler);
    assert.equal(consumer.loaded, true, "Reactor is a class once the import resolves (no init call)");
    assert.equal(consumer.outcome, "passed", `${name}: ${consumer.error}\npage log:\n${await page.textContent("#log")}`);
    const { sent, echoed, statuses, status } = consumer.result;
    assert.deepEqual(echoed, { type: "echo", data: sent }, "the echo model's reply");
    assert.deepEqual(statuses, ["connecting", "waiting", "ready", "disconnected"], "statusChanged sequence");
    assert.equal(status, "disconnected", "getStatus() after disconnect()");
    assert.equal(wasm.length, 1, `one wasm download, got ${JSON.stringify(wasm)}`);
    assert.equal(wasm[0].status, 200);
    assert.match(wasm[0].type ?? "", /^application\/wasm/, "served as application/wasm (streaming compile)");
    assert.ok(!consoleLog.some((l) => l.startsWith("[pageerror]")), `page errors:\n${consoleLog.join("\n")}`);
    return { consumer, wasm };
  } catch (e) {
    await page.screenshot({ path: join(artifactsDir, `consumer-${name}-failure.png`) }).catch(() => {});
    process.stderr.write(`\n--- ${name}: page console ---\n${consoleLog.join("\n")}\n--- server log (last 40) ---\n${server.log.slice(-40).join("\n")}\n`);
    throw e;
  } finally {
    writeFileSync(join(artifactsDir, `consumer-${name}.console.log`), consoleLog.join("\n") + "\n");
    await page.close().catch(() => {});
  }
}

test("vite: production build (vite preview) connects, echoes, disconnects", { timeout: 120_000 }, async () => {
  const dir = join(here, "vite");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const vite = await startProcess("vite preview", join(dir, "node_modules/.bin/vite"), ["preview", "--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: dir, url });
  const { wasm } = await runApp("vite-build", url, "vite");
  assert.match(new URL(wasm[0].url).pathname, /^\/assets\/reactor_sdk_bg-[\w-]+\.wasm$/, "Vite emitted the wasm as a hashed asset");
  await vite.stop();
});

test("vite: dev server (with optimizeDeps.exclude) connects, echoes, disconnects", { timeout: 120_000 }, async () => {
  const dir = join(here, "vite");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  rmSync(join(dir, "node_modules/.vite"), { recursive: true, force: true }); // a cold dependency optimizer, as on first run
  const vite = await startProcess("vite dev", join(dir, "node_modules/.bin/vite"), ["--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: dir, url });
  const { wasm } = await runApp("vite-dev", url, "vite");
  assert.match(new URL(wasm[0].url).pathname, /\/node_modules\/@reactor-wasm\/sdk\/reactor_sdk_bg\.wasm$/, "served from the package as published");
  await vite.stop();
});

test("webpack 5: production build connects, echoes, disconnects", { timeout: 120_000 }, async () => {
  const app = await serveStatic({ "/": join(here, "webpack") });
  cleanups.push(app.close);
  const { wasm } = await runApp("webpack", `${app.url}/`, "webpack");
  assert.match(new URL(wasm[0].url).pathname, /^\/dist\/[0-9a-f]+\.wasm$/, "webpack emitted the wasm as an asset module");
  await app.close();
});

test("plain <script type=module> page, straight from the tarball's files", { timeout: 120_000 }, async () => {
  const unpacked = mkdtempSync(join(tmpdir(), "reactor-sdk-tarball-"));
  cleanups.push(async () => rmSync(unpacked, { recursive: true, force: true }));
  execFileSync("tar", ["xzf", tarball, "-C", unpacked]);
  const app = await serveStatic({ "/": join(here, "plain"), "/node_modules/@reactor-wasm/sdk/": join(unpacked, "package") });
  cleanups.push(app.close);
  const { wasm } = await runApp("plain", `${app.url}/`, "none");
  assert.equal(new URL(wasm[0].url).pathname, "/node_modules/@reactor-wasm/sdk/reactor_sdk_bg.wasm");
  assert.ok(app.requests.includes("/node_modules/@reactor-wasm/sdk/index.js"), `the page loaded the entry: ${app.requests.join(", ")}`);
  await app.close();
});

// ---- React: @reactor-wasm/sdk/react in a Vite + React 19 app, StrictMode on ------

/** The coordinator's own view (GET /stats). */
const coordinatorStats = async () => (await fetch(`${server.baseUrl}/stats`)).json();
const probe = (page) => page.evaluate(() => window.probe());

/** Waits until `read()` deep-equals `wanted`; says what it last saw. */
async function waitForEqual(read, wanted, what, timeoutMs = 15_000) {
  let seen;
  try {
    await waitFor(async () => ((seen = await read()), JSON.stringify(seen) === JSON.stringify(wanted)), { timeoutMs, what });
  } catch (e) {
    throw new Error(`${e.message}: wanted ${JSON.stringify(wanted)}, last saw ${JSON.stringify(seen)}`);
  }
}

const text = (page, selector) => page.textContent(selector);

/** Fills a schema-built command form and submits it; resolves with what the app reported. */
async function sendFromForm(page, command, values) {
  await page.locator("#sent").evaluate((el) => (el.textContent = ""));
  for (const [name, value] of Object.entries(values)) await page.fill(`form[data-command="${command}"] [name="${name}"]`, String(value));
  await page.click(`form[data-command="${command}"] button`);
  await page.waitForFunction(() => document.getElementById("sent").textContent !== "", null, { timeout: 10_000 });
  return JSON.parse(await text(page, "#sent"));
}

async function waitForModelMessage(page, type) {
  await page.waitForFunction((t) => [...document.querySelectorAll("#messages li")].some((li) => JSON.parse(li.textContent).type === t), type, {
    timeout: 10_000,
  });
}

test("react: StrictMode mounts one connection; video, a schema-built command and its reply; unmount closes everything; remount", { timeout: 180_000 }, async () => {
  const dir = join(here, "vite-react");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  // The dev server: StrictMode's double mount happens only in React's development build.
  rmSync(join(dir, "node_modules/.vite"), { recursive: true, force: true });
  const vite = await startProcess("vite dev (React)", join(dir, "node_modules/.bin/vite"), ["--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: dir, url });
  const page = await browser.context.newPage();
  const consoleLog = [];
  page.on("console", (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => consoleLog.push(`[pageerror] ${e.stack || e.message}`));
  try {
    const base = await coordinatorStats();
    await page.goto(`${url}?coordinator=${encodeURIComponent(server.baseUrl)}`, { waitUntil: "load", timeout: 30_000 });
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready", null, { timeout: RUN_TIMEOUT_MS });

    // One connection, whatever StrictMode did: the page opened one socket and one peer, the coordinator admitted one client.
    const opened = await probe(page);
    assert.equal(opened.socketsCreated, 1, `one WebSocket under StrictMode: ${JSON.stringify(opened)}`);
    assert.equal(opened.peersCreated, 1, `one RTCPeerConnection under StrictMode: ${JSON.stringify(opened)}`);
    assert.equal(opened.connects, 1, `one connect() under StrictMode (not connect, disconnect, connect): ${JSON.stringify(opened)}`);
    assert.equal(opened.tokenRequests, 1, `one token request: ${JSON.stringify(opened)}`);
    const held = await coordinatorStats();
    assert.equal(held.clients_admitted - base.clients_admitted, 1, `the coordinator admitted one client: ${JSON.stringify({ base, held })}`);
    assert.equal(held.sessions, base.sessions + 1);

    // The camera goes out (WebcamStream), the model's video comes back (ReactorView).
    await page.waitForSelector("#camera:text('camera published')", { timeout: 15_000 });
    await page.waitForFunction(() => {
      const v = document.getElementById("video");
      return v.videoWidth > 0 && v.currentTime > 0.3;
    }, null, { timeout: 20_000 });
    await page.waitForFunction(() => /^[1-9]\d*$/.test(document.getElementById("fps").textContent), null, { timeout: 10_000 });

    // A form per command of the model's schema; one sends, the model replies.
    const commands = await page.$$eval("#commands form", (forms) => forms.map((f) => f.dataset.command));
    assert.ok(commands.includes("set_brightness"), `forms from the schema: ${commands.join(", ")}`);
    const bounds = await page.$eval('form[data-command="set_brightness"] [name="brightness"]', (i) => ({ type: i.type, min: i.min, max: i.max }));
    assert.deepEqual(bounds, { type: "number", min: "-1", max: "1" }, "the input's type and bounds come from the schema");
    assert.deepEqual(await sendFromForm(page, "set_brightness", { brightness: 0.5 }), { ok: "set_brightness" });
    await waitForModelMessage(page, "brightness_set");
    assert.equal(JSON.parse(await text(page, "#latest")).type !== undefined, true, "useReactorMessage() holds the latest message");
    // validateMessages: out of bounds is refused by the SDK, naming the parameter; the session carries on.
    const refused = await sendFromForm(page, "set_brightness", { brightness: 7 });
    assert.equal(refused.code, "INVALID_COMMAND", JSON.stringify(refused));
    assert.equal(refused.parameter, "brightness");
    assert.match(refused.message, /brightness.*at most 1/);
    assert.equal(await text(page, "#status"), "ready");
    await page.screenshot({ path: join(artifactsDir, "consumer-react.png") });

    // Unmount: nothing left open, in the page or at the coordinator, and no listener left on the Reactor.
    await page.evaluate(() => window.app.unmount());
    await waitForEqual(async () => {
      const p = await probe(page);
      return { peersOpen: p.peersOpen, socketsOpen: p.socketsOpen, listeners: p.listeners };
    }, { peersOpen: 0, socketsOpen: 0, listeners: 0 }, "the page to close its peer and socket and drop its listeners");
    const pick = (s) => ({ sockets_open: s.sockets_open, clients: s.clients, sessions: s.sessions });
    await waitForEqual(async () => pick(await coordinatorStats()), pick(base), "the coordinator to see the client gone");

    // Remount: exactly one new connection, working again.
    await page.evaluate(() => window.app.mount());
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready", null, { timeout: RUN_TIMEOUT_MS });
    const again = await probe(page);
    assert.equal(again.socketsCreated, 2, `one more WebSocket: ${JSON.stringify(again)}`);
    assert.equal(again.peersCreated, 2, `one more RTCPeerConnection: ${JSON.stringify(again)}`);
    assert.equal(again.connects, 2, `one more connect(): ${JSON.stringify(again)}`);
    assert.equal((await coordinatorStats()).clients_admitted - base.clients_admitted, 2);
    await page.waitForSelector('form[data-command="set_brightness"]', { timeout: 10_000 });
    assert.deepEqual(await sendFromForm(page, "set_brightness", { brightness: 0.25 }), { ok: "set_brightness" });
    await waitForModelMessage(page, "brightness_set");
    await page.evaluate(() => window.app.unmount());
    await waitForEqual(async () => pick(await coordinatorStats()), pick(base), "the coordinator to see the remounted client gone");

    // README.md's React example (src/Example.jsx, checked to be the same text below): connects, sends a command's defaults.
    await page.evaluate(() => window.app.example());
    await page.waitForFunction(() => document.querySelector(".status")?.textContent === "ready", null, { timeout: RUN_TIMEOUT_MS });
    await page.click("button:text-is('set_brightness')");
    await page.waitForFunction(() => /"type":"(brightness_set|echo)"/.test(document.querySelector(".message")?.textContent ?? ""), null, { timeout: 10_000 });
    await page.evaluate(() => window.app.unmount());
    await waitForEqual(async () => pick(await coordinatorStats()), pick(base), "the coordinator to see the example's client gone");
    assert.equal((await probe(page)).listeners, 0, "no listener left after the example");
    assert.ok(!consoleLog.some((l) => l.startsWith("[pageerror]")), `page errors:\n${consoleLog.join("\n")}`);
  } catch (e) {
    await page.screenshot({ path: join(artifactsDir, "consumer-react-failure.png") }).catch(() => {});
    process.stderr.write(`\n--- react: page console ---\n${consoleLog.join("\n")}\n--- server log (last 40) ---\n${server.log.slice(-40).join("\n")}\n`);
    throw e;
  } finally {
    writeFileSync(join(artifactsDir, "consumer-react.console.log"), consoleLog.join("\n") + "\n");
    await page.close().catch(() => {});
    await vite.stop();
  }
});

test("react: README.md's React example is tests/consumers/vite-react/src/Example.jsx, word for word", () => {
  const readme = readFileSync(join(here, "../../README.md"), "utf8");
  const at = readme.indexOf("<!-- example:react -->");
  assert.ok(at >= 0, "README.md has <!-- example:react -->");
  const block = readme.slice(at).match(/```jsx\n([\s\S]*?)```/)[1];
  assert.equal(block, readFileSync(join(here, "vite-react/src/Example.jsx"), "utf8"), "update README.md's React example and Example.jsx together");
});
