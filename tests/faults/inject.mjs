// Faults caused for real, for the fault suite: packet drops and bandwidth
// limits on loopback (nftables, tc), frozen processes, and a TCP proxy whose
// connections the test can cut. Network faults refuse to run unless this
// process is in a network namespace whose only interface is loopback
// (scripts/test.sh runs tests/faults/ inside `unshare --net`), so a test can
// never touch the machine's real network.
import { execFileSync } from "node:child_process";
import net from "node:net";
import os from "node:os";

/** Throws unless the only network interface is loopback. */
export function assertLoopbackOnly() {
  const names = Object.keys(os.networkInterfaces());
  if (names.length !== 1 || names[0] !== "lo") {
    throw new Error(`fault injection needs a loopback-only network namespace; interfaces: ${names.join(", ")}`);
  }
}

let tables = 0;

/**
 * Drops `percent` % of UDP packets (100: all of them) until the returned
 * function is called. Each call has its own nftables table, so faults
 * stack and lift independently.
 */
export function dropUdp(percent) {
  assertLoopbackOnly();
  if (!(percent > 0 && percent <= 100)) throw new Error(`dropUdp: percent must be in (0, 100], got ${percent}`);
  const table = `fault${process.pid}_${tables++}`;
  const nft = (...args) => execFileSync("nft", args, { stdio: ["ignore", "ignore", "pipe"] });
  nft("add", "table", "inet", table);
  // Input and output: loopback packets pass both hooks, either one drops them.
  nft("add", "chain", "inet", table, "in", "{ type filter hook input priority 0; }");
  const rule = percent >= 100 ? ["drop"] : ["numgen", "random", "mod", "100", "lt", String(percent), "drop"];
  nft("add", "rule", "inet", table, "in", "meta", "l4proto", "udp", ...rule);
  let lifted = false;
  return () => {
    if (lifted) return;
    lifted = true;
    nft("delete", "table", "inet", table);
  };
}

/** Limits all loopback traffic to `rate` (tc syntax, e.g. "1mbit") until the returned function is called. */
export function limitBandwidth(rate, { burst = "32kbit", latency = "400ms" } = {}) {
  assertLoopbackOnly();
  const tc = (...args) => execFileSync("tc", args, { stdio: ["ignore", "ignore", "pipe"] });
  tc("qdisc", "add", "dev", "lo", "root", "tbf", "rate", rate, "burst", burst, "latency", latency);
  let lifted = false;
  return () => {
    if (lifted) return;
    lifted = true;
    tc("qdisc", "del", "dev", "lo", "root");
  };
}

/** Freezes process `pid` (SIGSTOP) until the returned function is called (SIGCONT). */
export function freeze(pid) {
  process.kill(pid, "SIGSTOP");
  let thawed = false;
  return () => {
    if (thawed) return;
    thawed = true;
    process.kill(pid, "SIGCONT");
  };
}

/**
 * A TCP proxy on 127.0.0.1 to `targetPort`, for cutting a client's
 * connections (the coordinator WebSocket) without touching either end.
 * `cut()` resets every open connection; `refuse(true)` makes new ones fail
 * at once until `refuse(false)`; `cutAfter(text)` ends the one connection
 * that next carries `text` to the client, right after it.
 */
export async function startProxy(targetPort) {
  const open = new Set();
  let refusing = false;
  /** `{ text, resolve }` while `cutAfter` waits. */
  let trigger = null;
  const server = net.createServer((client) => {
    if (refusing) return client.resetAndDestroy();
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream };
    open.add(pair);
    const end = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.on("data", (chunk) => {
      client.write(chunk);
      if (!trigger || !chunk.includes(trigger.text)) return;
      const { resolve } = trigger;
      trigger = null;
      // As a link that dies: the client reads what came, then its socket
      // ends with no WebSocket close frame; the coordinator's side is dropped.
      open.delete(pair);
      upstream.removeAllListeners("close").removeAllListeners("error").on("error", () => {});
      upstream.destroy();
      client.end();
      resolve(Date.now());
    });
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    /** How many client connections are open now. */
    get connections() {
      return open.size;
    },
    cut() {
      for (const { client, upstream } of [...open]) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    refuse(on) {
      refusing = on;
    },
    /** Resolves with the time (Date.now) the connection carrying `text` was ended. */
    cutAfter(text) {
      return new Promise((resolve) => (trigger = { text, resolve }));
    },
    async close() {
      this.cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
