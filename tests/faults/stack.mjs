// What the coordinator fault tests stand on: coordinators as child processes
// (so a test can kill -9 one and start it again on the same port), a
// simulated machine in a process of its own (so it outlives them), a real
// redis-server, and a page instrumented to count what the SDK leaves behind
// (instrument.mjs).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { API_KEY, freePort, launchBrowser, startServer as startE2eServer, waitFor } from "../e2e/harness.mjs";
import { installRecorder } from "../e2e/page.mjs";
import { INSTRUMENT } from "./instrument.mjs";

export { freePort, waitFor };

const children = new Set();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/**
 * `reactor-server` on `port` (default: a free one) with `args`, as the e2e
 * harness starts it, plus what fault tests need: `kill9()`, `exited`, `stats()`.
 */
export async function startServer({ port, args = [] }) {
  const server = await startE2eServer({ port, args });
  const child = server.process;
  children.add(child);
  const exit = new Promise((resolve) => child.once("exit", resolve));
  exit.then(() => children.delete(child));
  Object.defineProperty(server, "exited", { get: () => child.exitCode !== null || child.signalCode !== null });
  return Object.assign(server, {
    url: server.baseUrl,
    /** kill -9: no goodbye to anyone. */
    async kill9() {
      if (!this.exited) child.kill("SIGKILL");
      await exit;
    },
    async stats() {
      return (await fetch(`${server.baseUrl}/stats`)).json();
    },
  });
}

/**
 * A simulated `echo` machine in a process of its own (a reactor-server whose
 * own coordinator nobody uses), so that killing a coordinator leaves it up;
 * it also serves the page (www/ and pkg/).
 */
export async function startMachineHost() {
  const host = await startServer({ args: ["--machines", "echo=1"] });
  const line = await waitFor(() => host.log.find((l) => l.includes("simulated machine up")), {
    what: "the simulated machine's URL",
  });
  const machineUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
  if (!machineUrl) {
    await host.stop();
    throw new Error(`no machine URL in: ${line}`);
  }
  return { host, machineUrl };
}

/** Arguments that make a coordinator serve `machineUrl` only. */
export function coordinatorArgs(machineUrl, extra = []) {
  return ["--machines", "", "--machine-url", `echo=${machineUrl}`, "--health-interval-ms", "250", ...extra];
}

/** A real redis-server on a free loopback port, no persistence. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "reactor-redis-"));
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    cwd: dir,
    stdio: "ignore",
  });
  children.add(child);
  const exit = new Promise((resolve) => child.on("exit", resolve));
  await waitFor(
    () =>
      new Promise((resolve) => {
        const s = net.connect(port, "127.0.0.1", () => resolve(s.end() && true)).on("error", () => resolve(false));
      }),
    { what: "redis-server to listen" },
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await exit;
      children.delete(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Page-side: records reconnect events and timestamps every event of `make`'s Reactors. */
const recordReconnects = () => {
  const make = window.make;
  window.make = (options, name) => {
    const reactor = make(options, name);
    const rec = window[`${name}Rec`];
    rec.log = [];
    rec.reconnecting = [];
    rec.reconnected = [];
    reactor.on("reconnecting", (e) => rec.reconnecting.push({ ...e, at: Date.now() }));
    reactor.on("reconnected", (e) => rec.reconnected.push({ ...e, at: Date.now() }));
    reactor.on("statusChanged", (s) => rec.log.push({ status: s, at: Date.now() }));
    rec.failures = [];
    reactor.on("error", (e) => {
      rec.failures.push({ code: e.code, message: e.message, recoverable: e.recoverable });
      rec.log.push({ error: e.code, message: e.message, at: Date.now() });
    });
    return reactor;
  };
};

/** A browser with one page at `pageUrl`, the SDK loaded and what it holds counted. */
export async function openPage(pageUrl) {
  const browser = await launchBrowser();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const consoleLog = [];
  page.on("console", (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => consoleLog.push(`[pageerror] ${e.message}`));
  await page.addInitScript(INSTRUMENT);
  await page.goto(`${pageUrl}/`, { waitUntil: "load" });
  await page.evaluate(installRecorder);
  await page.evaluate(recordReconnects);
  return { browser, page, consoleLog };
}

/**
 * The hooks and page helpers of a fault test file: one machine host and one
 * browser page for the whole file (`suite.machine`, `suite.page`), torn down
 * after it; Reactors made on the page by name.
 */
export function faultSuite() {
  const suite = {};
  let browser;
  before(async () => {
    suite.machine = await startMachineHost();
    ({ browser, page: suite.page, consoleLog: suite.consoleLog } = await openPage(suite.machine.host.url));
  });
  after(async () => {
    await browser?.close();
    await suite.machine?.host.stop();
  });
  /** Creates Reactor `name` on the page and starts connect(); its outcome lands in `${name}Done`. */
  suite.join = (name, coordinatorUrl, extra = {}) =>
    suite.page.evaluate(
      ({ name, options }) => {
        const reactor = make(options, name);
        window[`${name}Done`] = undefined;
        outcome(reactor.connect()).then((o) => (window[`${name}Done`] = o));
      },
      { name, options: { modelName: "echo", insecureApiKey: API_KEY, queueing: true, coordinatorUrl, ...extra } },
    );
  suite.until = (fn, arg, timeout = 15_000) => suite.page.waitForFunction(fn, arg, { timeout, polling: 20 });
  suite.rec = (name) => suite.page.evaluate((n) => window[`${n}Rec`], name);
  /** Waits for Reactor `name`'s connect() and asserts it resolved. */
  suite.ready = async (name) => {
    await suite.until((n) => window[`${n}Done`] !== undefined, name, 30_000);
    assert.equal(await suite.page.evaluate((n) => window[`${n}Done`], name), "resolved", `${name} connected`);
  };
  /** `fn(servers)`; on failure, the last lines of each server's log, the page's console and frames. */
  suite.withLogs = (name, fn) => async () => {
    const servers = [];
    try {
      await fn(servers);
    } catch (e) {
      for (const s of servers) process.stderr.write(`\n--- ${name}: ${s.url} ---\n${s.log.slice(-40).join("\n")}\n`);
      process.stderr.write(`--- page ---\n${suite.consoleLog.slice(-40).join("\n")}\n`);
      const frames = await suite.page.evaluate(() => JSON.stringify(__frames.slice(-20))).catch(() => "?");
      process.stderr.write(`--- frames ---\n${frames.slice(0, 4000)}\n`);
      throw e;
    }
  };
  return suite;
}
