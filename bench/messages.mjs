// The SDK against a raw-JS client of the same protocol, in the same page and
// the same run, both talking straight to the same simulated echo machine
// (the runtime local API: start_session, connections, sdp_params, ICE):
//   connect:     time from nothing to an open `data` channel
//   sendMessage: calls per second; the SDK validates the message, wraps it in
//                its envelope, checks its size and sends it; the raw client
//                only does dc.send(JSON.stringify({ scope, data }))
// A benchmark, not a test: it prints numbers and never fails on them.
// Usage (after npm run build), inside a loopback-only network namespace:
//   unshare --net sh -c 'ip link set lo up; node bench/messages.mjs'
import { withStack } from "../tests/e2e/harness.mjs";
import { installRecorder } from "../tests/e2e/page.mjs";

// Few enough that no send buffer (16 MB) fills: the loops measure the call.
const CASES = { small: 20_000, "16 KB": 500 };
const ROUNDS = Number(process.env.ROUNDS ?? 5);

/** Page-side: the runtime's local API by hand, no SDK. */
const installRawClient = () => {
  window.rawConnect = async (url) => {
    const post = (path, body) =>
      fetch(url + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
    await post("/start_session");
    const base = "/sessions/local/transport/webrtc";
    const pc = new RTCPeerConnection();
    const input = pc.addTransceiver("video", { direction: "sendonly" });
    const output = pc.addTransceiver("video", { direction: "recvonly" });
    const dc = pc.createDataChannel("data");
    const control = pc.createDataChannel("control");
    const candidates = [];
    let posted = null;
    pc.onicecandidate = (e) => {
      const c = e.candidate && { candidate: e.candidate.candidate, sdp_mid: e.candidate.sdpMid, sdp_mline_index: e.candidate.sdpMLineIndex };
      if (posted) posted(c);
      else candidates.push(c);
    };
    const { connection_id: id } = await (await post(`${base}/connections`)).json();
    await pc.setLocalDescription(await pc.createOffer());
    const mapping = [
      { mid: input.mid, name: "webcam", kind: "video", direction: "sendonly" },
      { mid: output.mid, name: "main_video", kind: "video", direction: "recvonly" },
    ];
    await post(`${base}/connections/${id}/sdp_params`, { sdp_offer: pc.localDescription.sdp, track_mapping: mapping });
    const send = (c) => post(`${base}/connections/${id}/ice_candidates`, { candidates: c ? [c] : [], is_final: !c });
    posted = send;
    candidates.forEach(send);
    for (;;) {
      const r = await fetch(`${url}${base}/connections/${id}/sdp_params`);
      if (r.status === 200) {
        await pc.setRemoteDescription({ type: "answer", sdp: (await r.json()).sdp_answer });
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    await Promise.all([dc, control].map((ch) => new Promise((res) => (ch.readyState === "open" ? res() : (ch.onopen = res)))));
    control.send(JSON.stringify({ type: "notification", event: "resume_track", data: { name: "main_video" } }));
    return {
      dc,
      async close() {
        pc.close();
        await post("/stop_session");
      },
    };
  };
};

const machineUrl = (log) => log.map((l) => l.match(/Machine echo \(simulated\) at (http:\/\/\S+)/)?.[1]).find(Boolean);

await withStack("bench-messages", async ({ page, server }) => {
  await page.evaluate(installRecorder);
  await page.evaluate(installRawClient);
  const results = await page.evaluate(
    async ({ url, cases, rounds }) => {
      const messages = {
        small: (i) => ({ type: "set_brightness", data: { brightness: (i % 100) / 100 } }),
        "16 KB": (i) => ({ type: "prompt", data: { text: "x".repeat(16_000), i } }),
      };
      const rate = async (send, calls) => {
        const start = performance.now();
        for (let i = 0; i < calls; i++) await send(i);
        return calls / ((performance.now() - start) / 1000);
      };
      const settle = () => new Promise((r) => setTimeout(r, 300));
      const out = { connect: { sdk: [], raw: [] }, send: {} };
      for (const name of Object.keys(cases)) out.send[name] = { sdk: [], raw: [] };
      const reactor = make({ modelName: "echo", coordinatorUrl: url, local: true });
      for (let round = 0; round < rounds; round++) {
        let t = performance.now();
        await reactor.connect();
        out.connect.sdk.push(performance.now() - t);
        for (const [name, calls] of Object.entries(cases)) {
          out.send[name].sdk.push(await rate((i) => reactor.sendMessage(messages[name](i)), calls));
          await settle();
        }
        await reactor.disconnect();
        t = performance.now();
        const raw = await rawConnect(url);
        out.connect.raw.push(performance.now() - t);
        for (const [name, calls] of Object.entries(cases)) {
          out.send[name].raw.push(await rate((i) => raw.dc.send(JSON.stringify({ scope: "application", data: messages[name](i) })), calls));
          await settle();
        }
        await raw.close();
      }
      return out;
    },
    { url: machineUrl(server.log), cases: CASES, rounds: ROUNDS },
  );
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const row = (cols) => console.log(cols.map((c, i) => (i ? String(c).padStart(12) : String(c).padEnd(22))).join(""));
  console.log(`Medians of ${ROUNDS} rounds, SDK (wasm) and raw JS against the same echo machine:`);
  row(["", "SDK", "raw JS", "SDK / raw"]);
  const c = [median(results.connect.sdk), median(results.connect.raw)];
  row(["connect (ms, lower ok)", c[0].toFixed(0), c[1].toFixed(0), (c[0] / c[1]).toFixed(2)]);
  for (const [name, calls] of Object.entries(CASES)) {
    const s = [median(results.send[name].sdk), median(results.send[name].raw)];
    row([`send ${name} (/s, ${calls})`, s[0].toFixed(0), s[1].toFixed(0), (s[0] / s[1]).toFixed(2)]);
  }
}, { serverArgs: ["--machines", "echo=1"] });
