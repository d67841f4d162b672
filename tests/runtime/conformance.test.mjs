// Protocol conformance: the same HTTP calls and data-channel messages, with
// no SDK, against one of our simulated machines and against reactor-runtime
// 2.10.1; every answer (errors included) must have the same shape and JSON
// types. Where the two differ on purpose, PROTOCOL.md says so and the
// difference is listed here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, startServer, waitFor } from "../e2e/harness.mjs";
import { simulatedMachineUrl, withRuntime } from "./runtime.mjs";
import { jsonType, shapeDiff } from "./shape.mjs";
import { installRawPeer } from "./raw-peer.mjs";

const WEBRTC = "/sessions/local/transport/webrtc";

/** Shape differences that are deliberate (PROTOCOL.md, "How our simulated
 *  machines differ"): none today. (Values may differ: our `ice_servers` list
 *  is empty, which fits any list; `server_info.server_version` names ours.) */
const ON_PURPOSE = [];

async function call(base, method, path, body) {
  const init = { method, signal: AbortSignal.timeout(10_000) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json" };
  }
  const r = await fetch(`${base}${path}`, init);
  const text = await r.text();
  return { status: r.status, body: text === "" ? undefined : JSON.parse(text) };
}

/**
 * Runs the whole conversation against the machine at `base`, serving a model
 * with `command` (an application message it answers). Returns every answer,
 * by name: { status, body } for HTTP, the message for the channels.
 */
async function converse(page, base, command) {
  const seen = {};
  const record = async (name, method, path, body) => (seen[name] = await call(base, method, path, body));
  await call(base, "POST", "/stop_session");
  await record("health before a session", "GET", "/health");
  await record("connection without a session", "POST", `${WEBRTC}/connections`);
  await record("start_session", "POST", "/start_session");
  await record("start_session again", "POST", "/start_session");
  await record("session", "GET", "/session");
  await record("health waiting", "GET", "/health");
  await record("ice_servers", "GET", `${WEBRTC}/ice_servers`);
  await record("unknown session", "POST", "/sessions/nope/transport/webrtc/connections");
  await record("answer of an unknown connection", "GET", `${WEBRTC}/connections/1002/sdp_params`);
  await record("connection id not a number", "GET", `${WEBRTC}/connections/abc/sdp_params`);
  const offerOf = { sdp_offer: "v=0\r\n", track_mapping: [] };
  await record("offer to an unknown connection", "POST", `${WEBRTC}/connections/1002/sdp_params`, offerOf);
  const none = { candidates: [], is_final: true };
  await record("candidates for an unknown connection", "POST", `${WEBRTC}/connections/1002/ice_candidates`, none);
  const created = await record("connection", "POST", `${WEBRTC}/connections`);
  const id = created.body.connection_id;
  await record("answer before an offer", "GET", `${WEBRTC}/connections/${id}/sdp_params`);

  // WebRTC, in the page with the browser's own API: tracks as the descriptor says.
  const { tracks } = seen.session.body.capabilities;
  const send = tracks.filter((t) => t.direction === "sendonly").map((t) => t.name);
  const receive = tracks.filter((t) => t.direction === "recvonly").map((t) => t.name);
  const offer = await page.evaluate(([s, r]) => rawOffer(s, r), [send, receive]);
  const body = { sdp_offer: offer.sdp, track_mapping: offer.mapping };
  await record("offer", "POST", `${WEBRTC}/connections/${id}/sdp_params`, body);
  const candidates = await page.evaluate(() => rawCandidates());
  await record("candidates", "POST", `${WEBRTC}/connections/${id}/ice_candidates`, { candidates, is_final: true });
  seen.answer = await waitFor(
    async () => {
      const r = await call(base, "GET", `${WEBRTC}/connections/${id}/sdp_params`);
      return r.status === 200 && r;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: "the SDP answer" },
  );
  await page.evaluate((sdp) => rawAnswer(sdp), seen.answer.body.sdp_answer);

  // Channels: resume the outputs, publish the input, ask for the schema, send a command.
  await page.evaluate(([s, r, cmd]) => rawChannels(s, r, cmd), [send, receive, command]);
  const wanted = {
    "publish_track response": (m, ch) => ch === "control" && m.type === "response",
    modelSchema: (m, ch) => ch === "data" && m.scope === "runtime" && m.data?.type === "modelSchema",
    mediaStats: (m, ch) => ch === "data" && m.scope === "runtime" && m.data?.type === "mediaStats",
    "command reply": (m, ch) => ch === "data" && m.scope === "application",
  };
  const got = await waitFor(
    async () => {
      const received = await page.evaluate(() => raw.received);
      const found = Object.fromEntries(
        Object.entries(wanted).map(([name, match]) => [name, received.find((r) => match(r.message, r.channel))?.message]),
      );
      return Object.values(found).every(Boolean) && found;
    },
    // mediaStats comes about every 5 s.
    { timeoutMs: 15_000, intervalMs: 200, what: "the machine's channel messages" },
  );
  Object.assign(seen, got);
  await record("health running", "GET", "/health");
  await record("stop_session", "POST", "/stop_session");
  await record("session after stop", "GET", "/session");
  await record("health after stop", "GET", "/health");
  await page.evaluate(() => raw.pc.close());
  return seen;
}

test("conformance: a simulated machine answers like reactor-runtime 2.10.1", { timeout: 180_000 }, async () => {
  const server = await startServer({ args: ["--machines", "echo=1"] });
  const browser = await launchBrowser();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(`${server.baseUrl}/`, { waitUntil: "load" });
    await page.evaluate(installRawPeer);
    const ours = await converse(page, simulatedMachineUrl(server, "echo"), {
      type: "set_brightness",
      data: { brightness: 0.25 },
    });
    const theirs = await withRuntime("tint", (runtime) =>
      converse(page, runtime.url, { type: "paint", data: { r: 255, g: 0, b: 0, mix: 0.5 } }),
    );
    const diffs = [];
    for (const name of Object.keys(theirs)) {
      const [a, b] = [ours[name], theirs[name]];
      if (a?.status !== undefined && a.status !== b.status) diffs.push(`${name}: HTTP ${a.status}, the runtime's ${b.status}`);
      let [x, y] = a?.status !== undefined ? [a.body, b.body] : [a, b];
      // An application message's body is the model's own: only its envelope is the protocol.
      if (name === "command reply") [x, y] = [x, y].map((m) => ({ ...m, data: { ...m.data, data: jsonType(m.data.data) } }));
      for (const d of shapeDiff(x, y)) diffs.push(`${name} ${d}`);
    }
    const unexpected = diffs.filter((d) => !ON_PURPOSE.some((re) => re.test(d)));
    assert.deepEqual(unexpected, [], `answers that differ in shape:\n${unexpected.join("\n")}`);
    // Values that must agree too, not only types.
    for (const [name, status] of [
      ["connection without a session", 400],
      ["start_session", 200],
      ["connection", 201],
      ["answer before an offer", 202],
      ["offer", 202],
      ["candidates", 202],
      ["unknown session", 404],
      ["answer of an unknown connection", 404],
      ["connection id not a number", 422],
    ]) {
      assert.equal(theirs[name].status, status, `the runtime: ${name}`);
      assert.equal(ours[name].status, status, `ours: ${name}`);
    }
    for (const seen of [ours, theirs]) {
      assert.equal(typeof seen.connection.body.connection_id, "number");
      assert.equal(seen["answer before an offer"].body, null);
      assert.deepEqual(seen.candidates.body, {});
      assert.equal(seen["stop_session"].body, null);
      assert.deepEqual(seen["session"].body.capabilities.commands, []);
      assert.deepEqual(
        [seen["health before a session"].body.state, seen["health waiting"].body.state, seen["health after stop"].body.state],
        ["READY", "WAITING", "READY"],
      );
      assert.equal(seen["health running"].body.state, theirs["health running"].body.state);
      assert.deepEqual(seen.modelSchema.data.data, seen.session.body.schema, "modelSchema is the descriptor's schema");
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});
