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
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
