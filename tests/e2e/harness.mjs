// End-to-end harness: the reference server on a free loopback port, headless
// Debian Chromium driven by playwright-core, a page on the server, and a
// teardown that always runs.
//
// Run the tests inside a loopback-only network namespace (scripts/test.sh does):
//   unshare --net sh -c 'ip link set lo up; node --test tests/e2e/'
//
// Environment:
//   E2E_SERVER_CMD  the server command instead of the default (one string,
//                   split on spaces; `{port}` is replaced by the chosen port)
//   CHROMIUM_PATH   the browser (default /usr/bin/chromium); never downloaded
//   E2E_DEBUG=1     echo server and browser logs live to stderr
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const artifactsDir = join(repoRoot, "tests", "artifacts");
export const API_KEY = "dev-key";
const debug = process.env.E2E_DEBUG === "1";

/** The one place that says how the server under test is started. */
export function serverCommand(port, extraArgs = []) {
  if (process.env.E2E_SERVER_CMD) {
    const [cmd, ...args] = process.env.E2E_SERVER_CMD.trim()
      .split(/\s+/)
      .map((s) => s.replaceAll("{port}", String(port)));
    return { cmd, args };
  }
  const bin = join(repoRoot, "target", "server", "reactor-server");
  if (!existsSync(bin)) {
    throw new Error(`server binary missing: ${bin} (build it: npm run build)`);
  }
  const args = ["--listen", `127.0.0.1:${port}`, ...extraArgs];
  if (!extraArgs.includes("--machines")) args.push("--machines", "echo=1");
  return { cmd: bin, args };
}

/** Chromium flags for WebRTC on loopback in a namespace that has only `lo`
 *  (see the environment notes); playwright adds --headless and --no-sandbox. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--allow-loopback-in-peer-connection",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** A port the kernel says is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Resolves when `cond()` returns a truthy value; rejects after `timeoutMs`.
 *  Polls (every `intervalMs`) a condition that has no event to wait on. */
export async function waitFor(cond, { timeoutMs = 10_000, intervalMs = 100, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) {
      if (e.fatal) throw e;
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (lastErr ? `: ${lastErr.message}` : ""));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Starts the server on `port` (default: a free one); resolves once it answers HTTP on `/`. */
export async function startServer({ timeoutMs = 30_000, args: extraArgs = [], port: wanted } = {}) {
  const port = wanted ?? (await freePort());
  const { cmd, args } = serverCommand(port, extraArgs);
  const log = [];
  const child = spawn(cmd, args, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { RUST_LOG: "info", ...process.env },
  });
  let exited = null;
  const exitPromise = new Promise((res) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      res(exited);
    });
    child.on("error", (err) => {
      exited = { error: err };
      log.push(`[spawn error] ${err.message}`);
      res(exited);
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      for (const line of chunk.split("\n")) if (line) log.push(line);
      if (debug) process.stderr.write(`[server] ${chunk}`);
    });
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  const server = {
    port,
    baseUrl,
    log,
    process: child,
    async stop() {
      if (exited) return exited;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exitPromise;
      clearTimeout(t);
      return exited;
    },
  };
  try {
    await waitFor(
      async () => {
        if (exited) {
          throw Object.assign(new Error(`server exited early (${JSON.stringify(exited)})`), { fatal: true });
        }
        const r = await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(2_000) });
        await r.arrayBuffer();
        return true; // any HTTP answer means it is up
      },
      { timeoutMs, intervalMs: 100, what: `server to answer HTTP at ${baseUrl}/ (${cmd} ${args.join(" ")})` },
    );
  } catch (e) {
    await server.stop();
    throw new Error(`${e.message}\n--- server log ---\n${log.slice(-40).join("\n")}`);
  }
  return server;
}

/** Debian Chromium, headless, with a fresh user-data-dir (a persistent context
 *  is the only way playwright accepts one of our own). */
export async function launchBrowser({ args = [] } = {}) {
  const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(`no browser at ${executablePath} (apt-get install chromium); tests never download one`);
  }
  const userDataDir = mkdtempSync(join(tmpdir(), "reactor-e2e-profile-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS, ...args],
      viewport: { width: 1024, height: 720 },
      timeout: 30_000,
    });
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    userDataDir,
    async close() {
      await Promise.race([
        context.close().catch(() => {}),
        new Promise((r) => setTimeout(r, 10_000).unref()),
      ]);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `fn(stack)` with a server, a browser and a page opened at `path` on the
 * server; tears everything down afterwards whatever happened, and on failure
 * prints the server log and the page console. Logs are also written to
 * tests/artifacts/<name>.server.log and <name>.console.log.
 *
 * stack = { server, browser, page, baseUrl, console, screenshot(file) }
 * `serverArgs` are added to the server's command line (default machines: echo=1).
 */
export async function withStack(name, fn, { path = "/", serverArgs = [] } = {}) {
  mkdirSync(artifactsDir, { recursive: true });
  const consoleLog = [];
  let server, browser, page;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
  };
  const onExit = () => server?.process.kill("SIGKILL");
  process.once("exit", onExit);
  try {
    server = await startServer({ args: serverArgs });
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("console", (m) => {
      const line = `[${m.type()}] ${m.text()}`;
      consoleLog.push(line);
      if (debug) process.stderr.write(`[page] ${line}\n`);
    });
    page.on("pageerror", (e) => consoleLog.push(`[pageerror] ${e.stack || e.message}`));
    page.on("crash", () => consoleLog.push("[crash] the page crashed"));
    const url = `${server.baseUrl}${path}`;
    const resp = await page.goto(url, { waitUntil: "load", timeout: 20_000 });
    if (!resp || !resp.ok()) throw new Error(`GET ${url} answered ${resp ? resp.status() : "nothing"}`);
    const stack = {
      server,
      browser,
      page,
      baseUrl: server.baseUrl,
      console: consoleLog,
      async screenshot(file) {
        const p = join(artifactsDir, file);
        await page.screenshot({ path: p, fullPage: true });
        return p;
      },
    };
    return await fn(stack);
  } catch (e) {
    if (page) {
      await page
        .screenshot({ path: join(artifactsDir, `${name}-failure.png`), fullPage: true, timeout: 5_000 })
        .catch(() => {});
    }
    process.stderr.write(
      `\n--- ${name}: server log (last 60 lines) ---\n${(server?.log ?? []).slice(-60).join("\n")}\n` +
        `--- ${name}: page console (last 60 lines) ---\n${consoleLog.slice(-60).join("\n")}\n---\n`,
    );
    throw e;
  } finally {
    await cleanup();
    process.removeListener("exit", onExit);
    writeFileSync(join(artifactsDir, `${name}.server.log`), (server?.log ?? []).join("\n") + "\n");
    writeFileSync(join(artifactsDir, `${name}.console.log`), consoleLog.join("\n") + "\n");
  }
}
