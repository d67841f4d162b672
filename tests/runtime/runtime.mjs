// The real Reactor runtime (reactor-runtime 2.10.1, installed by
// scripts/install-runtime.sh) serving one of tests/runtime-models/ on a free
// loopback port, for the tests of this folder. Run them inside a
// loopback-only network namespace, as scripts/test.sh does.
//
// Environment:
//   REACTOR_RUNTIME_PYTHON  the venv's python (default: what the install script prints)
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, repoRoot, waitFor } from "../e2e/harness.mjs";

const debug = process.env.E2E_DEBUG === "1";

export function runtimePython() {
  const python =
    process.env.REACTOR_RUNTIME_PYTHON ||
    execFileSync("bash", [join(repoRoot, "scripts", "install-runtime.sh"), "--print"], { encoding: "utf8" }).trim();
  if (!existsSync(python)) throw new Error(`no runtime at ${python}: run scripts/install-runtime.sh`);
  return python;
}

/** The command a user types to serve a model (README "Your own model"). */
export function runtimeCommand(port) {
  return [
    "-m", "reactor_runtime.serve", "run",
    "--host", "127.0.0.1", "--port", String(port),
    // A dead loopback STUN address: the runtime must never reach elsewhere.
    "--stun-server", "stun:127.0.0.1:3478",
  ];
}

/**
 * Starts the runtime on `model` (a folder of tests/runtime-models/).
 * `waitHealthy: false` returns at once, before it answers (a runtime that
 * is still starting). Resolves to { url, port, log, process, stop(), kill(), exited }.
 */
export async function startRuntime(model, { port, waitHealthy = true, timeoutMs = 30_000 } = {}) {
  port ??= await freePort();
  const log = [];
  // Its own temporary folder (it makes a recordings folder there), gone when it exits, killed or not.
  const tmp = mkdtempSync(join(tmpdir(), "reactor-test-runtime-"));
  const child = spawn(runtimePython(), runtimeCommand(port), {
    cwd: join(repoRoot, "tests", "runtime-models", model),
    stdio: ["ignore", "pipe", "pipe"],
    // GST_TEST_ENV: offer 127.0.0.1 candidates (the namespace has only lo).
    env: { ...process.env, GST_TEST_ENV: "true", PYTHONUNBUFFERED: "1", TMPDIR: tmp },
  });
  let exited = null;
  const exit = new Promise((res) =>
    child.on("exit", (code, signal) => {
      rmSync(tmp, { recursive: true, force: true });
      res((exited = { code, signal }));
    }),
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      for (const line of chunk.split("\n")) if (line) log.push(line);
      if (debug) process.stderr.write(`[runtime ${model}] ${chunk}`);
    });
  }
  const url = `http://127.0.0.1:${port}`;
  const runtime = {
    model,
    url,
    port,
    log,
    process: child,
    get exited() {
      return exited;
    },
    /** SIGINT (the runtime's own clean stop), then TERM and KILL. */
    async stop() {
      if (exited) return exited;
      child.kill("SIGINT");
      const term = setTimeout(() => child.kill("SIGTERM"), 5_000);
      const kill = setTimeout(() => child.kill("SIGKILL"), 8_000);
      await exit;
      clearTimeout(term);
      clearTimeout(kill);
      return exited;
    },
    /** A machine that dies: SIGKILL, no goodbye. */
    async kill() {
      if (!exited) child.kill("SIGKILL");
      return exit;
    },
  };
  process.once("exit", () => child.kill("SIGKILL"));
  if (waitHealthy) {
    try {
      await waitFor(
        async () => {
          if (exited) throw Object.assign(new Error(`runtime exited early (${JSON.stringify(exited)})`), { fatal: true });
          const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
          return r.ok;
        },
        { timeoutMs, what: `the runtime (${model}) to answer /health at ${url}` },
      );
    } catch (e) {
      await runtime.stop();
      throw new Error(`${e.message}\n--- runtime log ---\n${log.slice(-40).join("\n")}`);
    }
  }
  return runtime;
}

/** `fn(runtime)` with a runtime that is stopped afterwards, whatever happened. */
export async function withRuntime(model, fn, options) {
  const runtime = await startRuntime(model, options);
  try {
    return await fn(runtime);
  } catch (e) {
    process.stderr.write(`\n--- runtime ${model}: log (last 40 lines) ---\n${log40(runtime)}\n---\n`);
    throw e;
  } finally {
    await runtime.stop();
  }
}

function log40(runtime) {
  return runtime.log.slice(-40).join("\n");
}

/** The simulated machine a reactor-server started, from its log line. */
export function simulatedMachineUrl(server, model) {
  const line = server.log.find((l) => new RegExp(`Machine ${model} \\(simulated\\) at (http://\\S+)`).test(l));
  if (!line) throw new Error(`the server printed no URL for a simulated ${model} machine`);
  return line.match(/at (http:\/\/\S+)/)[1];
}
