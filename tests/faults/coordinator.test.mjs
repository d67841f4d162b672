// Coordinator faults, for real (README "When the network fails"): the
// WebSocket cut through a TCP proxy while waiting and while ready, the proxy
// refusing for longer than the grace period, and the coordinator killed
// with -9 and started again on the same port. Real Chromium, real
// coordinator processes in memory mode, a simulated machine in a process
// of its own (so it outlives them).
import assert from "node:assert/strict";
import { test } from "node:test";
import { startProxy } from "./inject.mjs";
import { assertNothingLeft, leaks } from "./instrument.mjs";
import { coordinatorArgs, faultSuite, startServer, waitFor } from "./stack.mjs";

const suite = faultSuite();
const { join, until, rec, ready, withLogs } = suite;
const position = (name) => suite.page.evaluate((n) => window[n].getWaitingInfo()?.position ?? null, name);

/** A coordinator and a TCP proxy in front of it, for `fn(coord, proxy)`; both stopped after. */
async function behindProxy(servers, extraArgs, fn) {
  const coord = await startServer({ args: coordinatorArgs(suite.machine.machineUrl, extraArgs) });
  servers.push(coord);
  const proxy = await startProxy(coord.port);
  try {
    await fn(coord, proxy);
  } finally {
    await proxy.close();
    await coord.stop();
  }
}

/** `a` on the machine, then `b` (through the proxy) and `c` waiting at places 1 and 2. */
async function lineOfThree(coord, proxy) {
  await join("a", coord.url);
  await ready("a");
  await join("b", proxy.url);
  await until(() => bRec.waiting.at(-1)?.position === 1);
  await join("c", coord.url);
  await until(() => cRec.waiting.at(-1)?.position === 2);
}

/** Every Reactor disconnected; nothing left on the page or the coordinator. */
async function leaveClean(names, coordinator) {
  await suite.page.evaluate((ns) => Promise.all(ns.map((n) => window[n].disconnect())), names);
  await assertNothingLeft(suite.page);
  if (coordinator && !coordinator.exited) {
    await waitFor(
      async () => {
        const s = await coordinator.stats();
        return s.sockets_open === 0 && s.clients === 0 && s.sessions === 0;
      },
      { what: "the coordinator to hold nothing" },
    );
  }
}

/** Sends `{seq}` every 40 ms on Reactor `name`; `stop()` resolves with the sequence numbers sent. */
function pump(name) {
  return suite.page.evaluate((n) => {
    window.__sent = [];
    let seq = 0;
    window.__pump = setInterval(() => {
      const s = (window.__tried = seq++);
      window[n].sendMessage({ seq: s }).then(
        () => window.__sent.push(s),
        (e) => window.__sent.push(`seq ${s} rejected: ${e.code}`),
      );
    }, 40);
  }, name);
}

async function stopPumpAndCheck(name) {
  await suite.page.evaluate(() => clearInterval(window.__pump));
  // Every send settled, then every echo in.
  await until(() => window.__sent.length === window.__tried + 1);
  await until(
    (n) => window[`${n}Rec`].messages.filter((m) => m?.type === "echo").length >= window.__sent.length,
    name,
  );
  const { sent, echoed } = await suite.page.evaluate(
    (n) => ({ sent: window.__sent, echoed: window[`${n}Rec`].messages.filter((m) => m?.type === "echo").map((m) => m.data.seq) }),
    name,
  );
  assert.ok(sent.length > 20, `messages sent: ${sent.length}`);
  assert.deepEqual(echoed, sent, "every message echoed once, in order");
  return sent.length;
}

async function publishCamera(name) {
  await suite.page.evaluate(async (n) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
    await window[n].publishVideoStream(stream);
  }, name);
  await until((n) => window[`${n}Rec`].track, name);
}

const frames = (name, ms) => suite.page.evaluate(({ n, ms }) => countFrames(window[`${n}Rec`].track, ms), { n: name, ms });

test(
  "WebSocket cut while waiting: resumed in the background, same place, FIFO order kept",
  { timeout: 90_000 },
  withLogs("cut-waiting", async (servers) => {
    await behindProxy(servers, [], async (coord, proxy) => {
      await lineOfThree(coord, proxy);
      // The instrument sees what three live Reactors hold (so its zero at the end means something).
      const held = await leaks(suite.page);
      assert.deepEqual([held.socketsOpen, held.peersOpen], [3, 1], JSON.stringify(held));
      assert.ok(held.listeners > 0 && held.sdkTimers > 0, JSON.stringify(held));

      const cutAt = Date.now();
      proxy.cut();
      await until(() => bRec.reconnected.length === 1, undefined, 5_000);
      const b = await rec("b");
      const recovered = b.reconnected[0].at - cutAt;
      assert.ok(recovered < 1_000, `reconnected ${recovered} ms after the cut`);
      assert.equal(b.reconnected[0].link, "coordinator");
      assert.deepEqual(b.statuses, ["connecting", "waiting"], "status stayed waiting");
      assert.deepEqual(b.errors, []);
      assert.equal(await position("b"), 1, "same place");
      assert.equal(await position("c"), 2, "the one behind did not move up");
      const resumes = await suite.page.evaluate(() => __frames.filter((f) => f.out?.type === "resume").length);
      assert.equal(resumes, 1, "one resume frame");
      assert.equal(await suite.page.evaluate(() => __frames.filter((f) => f.out?.type === "leave").length), 0, "no leave sent");

      // FIFO: the machine goes to b first, then c moves up.
      await suite.page.evaluate(() => a.disconnect());
      await ready("b");
      await until(() => cRec.waiting.at(-1)?.position === 1);
      assert.equal(await suite.page.evaluate(() => cDone), undefined, "c still waits");
      console.log(`measured: cut while waiting → reconnected in ${recovered} ms`);
      await leaveClean(["a", "b", "c"], coord);
    });
  }),
);

test(
  "WebSocket cut as assigned arrives, before ready: resumed in the background, the session comes up",
  { timeout: 90_000 },
  withLogs("cut-connecting", async (servers) => {
    await behindProxy(servers, [], async (coord, proxy) => {
      const cut = proxy.cutAfter('"type":"assigned"');
      await join("b", proxy.url);
      const cutAt = await cut;
      await ready("b");
      await until(() => bRec.reconnected.length === 1, undefined, 5_000);
      const b = await rec("b");
      const readyAt = b.log.find((l) => l.status === "ready").at;
      assert.ok(cutAt <= readyAt, `cut ${readyAt - cutAt} ms before ready`);
      assert.deepEqual(b.statuses, ["connecting", "waiting", "ready"]);
      assert.deepEqual(b.errors, []);
      assert.equal(b.reconnected[0].link, "coordinator");
      const sent = await suite.page.evaluate(
        (ws) => __frames.filter((f) => f.out && f.url.startsWith(ws)).map((f) => f.out.type),
        proxy.url.replace("http", "ws"),
      );
      assert.deepEqual(sent.filter((t) => t === "hello" || t === "resume"), ["hello", "resume"], "one hello, then resume on the new socket");
      const stats = await coord.stats();
      assert.equal(stats.sessions, 1, "one session");
      await publishCamera("b");
      assert.ok((await frames("b", 1_000)) >= 10, "video flows");
      console.log(
        `measured: cut as assigned arrived → reconnected ${b.reconnected[0].at - cutAt} ms after, ready ${readyAt - cutAt} ms after`,
      );
      await leaveClean(["b"], coord);
    });
  }),
);

test(
  "WebSocket cut while ready: same session, video and messages flow during the cut",
  { timeout: 90_000 },
  withLogs("cut-ready", async (servers) => {
    await behindProxy(servers, [], async (coord, proxy) => {
      await join("b", proxy.url);
      await ready("b");
      await publishCamera("b");
      await pump("b");
      const beforeCut = await frames("b", 1_000);
      // Cut, and keep refusing for 1.5 s: the SDK tries at 0, 300 and 1500 ms.
      proxy.refuse(true);
      const cutAt = Date.now();
      proxy.cut();
      const during = await frames("b", 1_500);
      proxy.refuse(false);
      await until(() => bRec.reconnected.length === 1, undefined, 10_000);
      const afterCut = await frames("b", 1_000);
      const sent = await stopPumpAndCheck("b");
      const b = await rec("b");
      const recovered = b.reconnected[0].at - cutAt;
      assert.deepEqual(b.statuses, ["connecting", "waiting", "ready"], "status stayed ready");
      assert.deepEqual(b.errors, []);
      assert.ok(b.reconnecting.length >= 2, `attempts: ${JSON.stringify(b.reconnecting)}`);
      assert.ok(recovered < 5_000, `reconnected ${recovered} ms after the cut`);
      for (const [when, n] of [["before", beforeCut], ["during", during], ["after", afterCut]]) {
        assert.ok(n >= 10, `video frames ${when} the cut: ${n}`);
      }
      assert.equal((await coord.stats()).sessions, 1, "the same session, no other");
      console.log(
        `measured: cut while ready (refused 1.5 s) → reconnected in ${recovered} ms after ${b.reconnected[0].attempts} attempts; ` +
          `video frames ${beforeCut}/${during}/${afterCut} before (1 s) / during (1.5 s) / after (1 s); ${sent} messages, none lost`,
      );
      await leaveClean(["b"], coord);
    });
  }),
);

test(
  "proxy refusing for longer than the grace period: COORDINATOR_CONNECTION_ERROR at its end",
  { timeout: 90_000 },
  withLogs("refuse-past-grace", async (servers) => {
    const grace = 3;
    await behindProxy(servers, ["--resume-grace-secs", String(grace)], async (coord, proxy) => {
      await lineOfThree(coord, proxy);
      proxy.refuse(true);
      const cutAt = Date.now();
      proxy.cut();
      await until(() => bDone !== undefined, undefined, (grace + 5) * 1_000);
      const b = await rec("b");
      const endedAfter = b.log.find((l) => l.error).at - cutAt;
      assert.equal(b.failures.length, 1);
      assert.equal(b.failures[0].code, "COORDINATOR_CONNECTION_ERROR");
      assert.ok(b.failures[0].recoverable);
      assert.match(b.failures[0].message, /grace period/);
      assert.equal((await suite.page.evaluate(() => bDone)).code, "COORDINATOR_CONNECTION_ERROR", "connect() rejects with it");
      assert.deepEqual(b.statuses, ["connecting", "waiting", "disconnected"]);
      const attempts = JSON.stringify(b.reconnecting.map((r) => [r.attempt, r.delayMs, r.at - cutAt]));
      assert.ok(
        endedAfter >= grace * 1_000 - 100 && endedAfter < grace * 1_000 + 1_500,
        `ended ${endedAfter} ms after the cut; attempts [n, delay, at]: ${attempts}`,
      );
      // The coordinator gave the place up too: c moves up.
      await until(() => cRec.waiting.at(-1)?.position === 1, undefined, 5_000);
      console.log(`measured: refused past a ${grace} s grace → ended after ${endedAfter} ms, ${b.reconnecting.length} attempts`);
      await leaveClean(["a", "b", "c"], coord);
    });
  }),
);

test(
  "kill -9 the coordinator while waiting, start it again: RESUME_FAILED, and connect() works again",
  { timeout: 90_000 },
  withLogs("kill-waiting", async (servers) => {
    let coord = await startServer({ args: coordinatorArgs(suite.machine.machineUrl) });
    servers.push(coord);
    try {
      await join("a", coord.url);
      await ready("a");
      await join("b", coord.url);
      await until(() => bRec.waiting.at(-1)?.position === 1);
      const killedAt = Date.now();
      await coord.kill9();
      coord = await startServer({ port: coord.port, args: coordinatorArgs(suite.machine.machineUrl) });
      servers.push(coord);
      const restarted = Date.now() - killedAt;
      await until(() => bDone !== undefined && aDone !== undefined && aRec.errors.length > 0, undefined, 20_000);
      const b = await rec("b");
      const a = await rec("a");
      const endedAfter = b.log.find((l) => l.error).at - killedAt;
      assert.deepEqual(b.failures.map((e) => e.code), ["RESUME_FAILED"], "the waiting client");
      assert.ok(b.failures[0].recoverable);
      assert.deepEqual(b.statuses, ["connecting", "waiting", "disconnected"]);
      assert.equal(a.failures.length, 1, `the ready client: ${JSON.stringify(a.failures)}`);
      const aCode = a.failures[0].code;
      const aEnded = a.log.find((l) => l.error).at - killedAt;
      // Usable again: the restarted coordinator serves the freed machine.
      await join("b", coord.url);
      await ready("b");
      console.log(
        `measured: kill -9 while waiting (restart took ${restarted} ms) → waiting client RESUME_FAILED after ${endedAfter} ms; ` +
          `ready client ${aCode} after ${aEnded} ms`,
      );
      await leaveClean(["a", "b"], coord);
    } finally {
      await coord.stop();
    }
  }),
);

test(
  "kill -9 the coordinator while ready, start it again: the session ends with one documented error",
  { timeout: 90_000 },
  withLogs("kill-ready", async (servers) => {
    let coord = await startServer({ args: coordinatorArgs(suite.machine.machineUrl) });
    servers.push(coord);
    try {
      await join("a", coord.url);
      await ready("a");
      await publishCamera("a");
      const killedAt = Date.now();
      await coord.kill9();
      // While it is down, the session runs on: the machine does not need the coordinator.
      const whileDown = await frames("a", 500);
      assert.ok(whileDown >= 5, `frames while the coordinator is down: ${whileDown}`);
      assert.equal(await suite.page.evaluate(() => a.getStatus()), "ready");
      coord = await startServer({ port: coord.port, args: coordinatorArgs(suite.machine.machineUrl) });
      servers.push(coord);
      await until(() => aDone !== undefined && aRec.statuses.at(-1) === "disconnected", undefined, 20_000);
      const a = await rec("a");
      const endedAfter = a.log.find((l) => l.error).at - killedAt;
      assert.equal(a.failures.length, 1, `one error: ${JSON.stringify(a.failures)}`);
      assert.ok(["RESUME_FAILED", "GPU_CONNECTION_ERROR"].includes(a.failures[0].code), a.failures[0].code);
      assert.ok(a.failures[0].recoverable);
      assert.deepEqual(a.statuses, ["connecting", "waiting", "ready", "disconnected"]);
      assert.equal(a.streams.at(-1), null, "the model's video is withdrawn");
      console.log(`measured: kill -9 while ready → ${a.failures[0].code} after ${endedAfter} ms (${a.failures[0].message})`);
      await join("a", coord.url);
      await ready("a");
      await leaveClean(["a"], coord);
    } finally {
      await coord.stop();
    }
  }),
);
