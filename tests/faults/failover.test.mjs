// Failover between coordinators (README "Several coordinators"): two
// processes share a real redis-server; the SDK is given both URLs; the one
// holding its WebSocket is killed with -9. While waiting it keeps its place
// on the other; while ready it keeps its session (same session_id), the video
// flows on, and the session's signaling proxy is served by the survivor.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertNothingLeft } from "./instrument.mjs";
import { coordinatorArgs, faultSuite, startRedis, startServer, waitFor } from "./stack.mjs";

const suite = faultSuite();
const { join, until, rec, ready, withLogs } = suite;

/** Two coordinators on one Redis, serving the one machine. */
async function cluster(servers) {
  const redis = await startRedis();
  const args = coordinatorArgs(suite.machine.machineUrl, ["--redis", redis.url]);
  const a = await startServer({ args });
  const b = await startServer({ args });
  servers.push(a, b);
  return { redis, a, b };
}

/** Frames the page received on sockets to `origin`. */
const framesFrom = (origin) =>
  suite.page.evaluate((o) => __frames.filter((f) => f.in && f.url.startsWith(o)).map((f) => f.in), origin.replace("http", "ws"));

test(
  "kill -9 the coordinator holding a waiting client: same place on the other",
  { timeout: 120_000 },
  withLogs("failover-waiting", async (servers) => {
    const { redis, a, b } = await cluster(servers);
    try {
      await join("x", b.url);
      await ready("x");
      await join("y", [a.url, b.url]);
      await until(() => yRec.waiting.at(-1)?.position === 1);
      await join("z", b.url);
      await until(() => zRec.waiting.at(-1)?.position === 2);
      const killedAt = Date.now();
      await a.kill9();
      await until(() => yRec.reconnected.length === 1, undefined, 10_000);
      const y = await rec("y");
      const recovered = y.reconnected[0].at - killedAt;
      assert.deepEqual(y.statuses, ["connecting", "waiting"], "status stayed waiting");
      assert.deepEqual(y.errors, []);
      assert.equal(await suite.page.evaluate(() => y.getWaitingInfo().position), 1, "same place");
      assert.equal(await suite.page.evaluate(() => z.getWaitingInfo().position), 2, "the one behind did not move up");
      assert.ok((await framesFrom(b.url)).some((f) => f.type === "resumed"), "resumed by b");
      // FIFO across the failover: y gets the machine, through b.
      await suite.page.evaluate(() => x.disconnect());
      await ready("y");
      await until(() => zRec.waiting.at(-1)?.position === 1);
      console.log(`measured: failover while waiting → reconnected on the other process in ${recovered} ms`);
      await suite.page.evaluate(() => Promise.all([y.disconnect(), z.disconnect()]));
      await assertNothingLeft(suite.page);
      await waitFor(async () => (await b.stats()).sockets_open === 0, { what: "b to hold no socket" });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.stop();
    }
  }),
);

test(
  "kill -9 the coordinator holding a ready client: same session on the other, video flows, its proxy serves the session",
  { timeout: 120_000 },
  withLogs("failover-ready", async (servers) => {
    const { redis, a, b } = await cluster(servers);
    try {
      await join("y", [a.url, b.url]);
      await ready("y");
      const assigned = (await framesFrom(a.url)).find((f) => f.type === "assigned");
      assert.ok(assigned, "assigned by a");
      const token = await suite.page.evaluate(() => __frames.findLast((f) => f.out?.type === "hello").out.token);
      await suite.page.evaluate(async () => {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
        await y.publishVideoStream(stream);
      });
      await until(() => yRec.track);
      const killedAt = Date.now();
      await a.kill9();
      const during = await suite.page.evaluate(() => countFrames(yRec.track, 1_000));
      await until(() => yRec.reconnected.length === 1, undefined, 10_000);
      const recovered = (await rec("y")).reconnected[0].at - killedAt;
      const again = (await framesFrom(b.url)).filter((f) => f.type === "assigned");
      assert.equal(again.length, 1, "b repeats the assignment once");
      assert.equal(again[0].session_id, assigned.session_id, "the same session");
      const afterwards = await suite.page.evaluate(() => countFrames(yRec.track, 1_000));
      assert.ok(during >= 10 && afterwards >= 10, `frames during/after the failover: ${during}/${afterwards}`);
      // b takes the dead process's machine lease over and finds the session it knows: it runs on.
      await waitFor(() => b.log.some((l) => l.includes("took the machine's lease")), { what: "b to take the lease" });
      const leased = await suite.page.evaluate(() => countFrames(yRec.track, 1_000));
      assert.ok(leased >= 10, `frames after b took the machine over: ${leased}`);
      // Messages and the control channel go on; a new publish is answered by the runtime.
      await suite.page.evaluate(() => y.sendMessage({ after: "failover" }));
      await until(() => yRec.messages.some((m) => m?.data?.after === "failover"));
      await suite.page.evaluate(async () => {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
        await y.publishVideoStream(stream);
      });
      // b's signaling proxy knows the session and its token: it forwards to the machine
      // (whose own answer for an unknown connection comes back), not its own 404.
      const proxied = await fetch(
        `${b.url}/sessions/${assigned.session_id}/transport/webrtc/connections/none/sdp_params`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      const body = await proxied.text();
      assert.ok(!body.includes("no such session") && proxied.status !== 401, `b proxies: ${proxied.status} ${body}`);
      const y = await rec("y");
      assert.deepEqual(y.statuses, ["connecting", "waiting", "ready"], "status stayed ready");
      assert.deepEqual(y.errors, []);
      console.log(
        `measured: failover while ready → reconnected on the other process in ${recovered} ms; video frames ${during}/${afterwards}/${leased} in 1 s during/after/after the lease passed`,
      );
      await suite.page.evaluate(() => y.disconnect());
      await assertNothingLeft(suite.page);
      await waitFor(
        async () => {
          const s = await b.stats();
          return s.sockets_open === 0 && s.sessions === 0;
        },
        { what: "b to hold nothing" },
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.stop();
    }
  }),
);
