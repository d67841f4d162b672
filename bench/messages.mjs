// The SDK against a raw-JS client of the same protocol, in the same page and
// the same run, both talking straight to the same simulated echo machine
// (the runtime local API: start_session, connections, sdp_params, ICE):
//   connect:     time from nothing to an open `data` channel
//   sendMessage: calls per second, each awaited; the SDK validates the
//                message, wraps it in its envelope, checks its size and sends
//                it (waiting while the channel holds 2 MiB); the raw client
//                only does dc.send(JSON.stringify({ scope, data }))
//   round trip:  sendMessage → the machine's echo → newMessage, one in flight
//                at a time (p50 / p99 over every round's trips)
//   throughput:  many in flight: a burst of messages sent at once, timed until
//                the last echo is back; the raw client does by hand the flow
//                control the SDK does (wait on bufferedamountlow above 2 MiB),
//                as any app must that sends more than the browser buffers
// A benchmark, not a test: it prints numbers and never fails on them.
// Usage (after npm run build), inside a loopback-only network namespace:
//   unshare --net sh -c 'ip link set lo up; node bench/messages.mjs'
import { withStack } from "../tests/e2e/harness.mjs";
import { installRecorder } from "../tests/e2e/page.mjs";

// Few enough (1.5 and 1.9 MB) that the SDK never waits for the channel: these measure the call.
const CASES = { small: 20_000, "16 KB": 120 };
const TRIPS = Number(process.env.TRIPS ?? 1_000);
const BURSTS = { small: 5_000, "16 KB": 1_000 };
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
    const raw = {
      dc,
      onMessage: null,
      /** The flow control an app writes by hand: wait above 2 MiB until 1 MiB. */
      async sendPaced(data) {
        if (dc.bufferedAmount > 2 << 20) await new Promise((res) => dc.addEventListener("bufferedamountlow", res, { once: true }));
        dc.send(JSON.stringify({ scope: "application", data }));
      },
      async close() {
        pc.close();
        await post("/stop_session");
      },
    };
    dc.bufferedAmountLowThreshold = 1 << 20;
    dc.onmessage = (e) => {
      const { scope, data } = JSON.parse(e.data);
      if (scope === "application") raw.onMessage?.(data);
    };
    return raw;
  };
};

const machineUrl = (log) => log.map((l) => l.match(/Machine echo \(simulated\) at (http:\/\/\S+)/)?.[1]).find(Boolean);

await withStack("bench-messages", async ({ page, server }) => {
  await page.evaluate(installRecorder);
  await page.evaluate(installRawClient);
  const results = await page.evaluate(
    async ({ url, cases, rounds, trips, bursts }) => {
      const messages = {
        small: (i) => ({ type: "set_brightness", data: { brightness: (i % 100) / 100, i } }),
        "16 KB": (i) => ({ type: "prompt", data: { text: "x".repeat(16_000), i } }),
      };
      const rate = async (send, calls) => {
        const start = performance.now();
        for (let i = 0; i < calls; i++) await send(i);
        return calls / ((performance.now() - start) / 1000);
      };
      // Each measure starts once the echo of the last message of the one before is back (all drained).
      const settle = (echo) => Promise.race([echo, new Promise((r) => setTimeout(r, 30_000))]);
      // Echoes arrive through `listen(handler)`; `next(tag, i)` resolves at the echo of message i.
      const echoes = (listen) => {
        let waiter = null;
        listen((m) => {
          if (m?.type === "echo" && waiter && m.data?.type === waiter.tag && m.data.data.i === waiter.i) waiter.resolve();
        });
        return (tag, i) => new Promise((resolve) => (waiter = { tag, i, resolve }));
      };
      const roundTrips = async (send, next) => {
        const times = [];
        for (let i = 0; i < trips; i++) {
          const t = performance.now();
          const back = next("trip", i);
          send({ type: "trip", data: { i } });
          await back;
          times.push(performance.now() - t);
        }
        return times;
      };
      // All of `count` at once; done when the last one's echo is back (the echo keeps their order).
      const throughput = async (send, next, name, count) => {
        const t = performance.now();
        const last = next(`burst ${name}`, count - 1);
        const sends = [];
        for (let i = 0; i < count; i++) sends.push(send({ type: `burst ${name}`, data: { i, pad: pads[name] } }));
        await Promise.all([...sends, last]);
        return count / ((performance.now() - t) / 1000);
      };
      const pads = { small: "", "16 KB": "x".repeat(16_000) };
      const out = { connect: { sdk: [], raw: [] }, send: {}, trips: { sdk: [], raw: [] }, burst: {} };
      for (const name of Object.keys(cases)) out.send[name] = { sdk: [], raw: [] };
      for (const name of Object.keys(bursts)) out.burst[name] = { sdk: [], raw: [] };
      const reactor = make({ modelName: "echo", coordinatorUrl: url, local: true });
      const sdkNext = echoes((handler) => reactor.on("newMessage", handler));
      for (let round = 0; round < rounds; round++) {
        let t = performance.now();
        await reactor.connect();
        out.connect.sdk.push(performance.now() - t);
        for (const [name, calls] of Object.entries(cases)) {
          const drained = sdkNext(messages[name](0).type, calls - 1);
          out.send[name].sdk.push(await rate((i) => reactor.sendMessage(messages[name](i)), calls));
          await settle(drained);
        }
        out.trips.sdk.push(...(await roundTrips((m) => reactor.sendMessage(m), sdkNext)));
        for (const [name, count] of Object.entries(bursts)) {
          out.burst[name].sdk.push(await throughput((m) => reactor.sendMessage(m), sdkNext, name, count));
        }
        await reactor.disconnect();
        t = performance.now();
        const raw = await rawConnect(url);
        out.connect.raw.push(performance.now() - t);
        const rawNext = echoes((handler) => (raw.onMessage = handler));
        for (const [name, calls] of Object.entries(cases)) {
          const drained = rawNext(messages[name](0).type, calls - 1);
          out.send[name].raw.push(await rate((i) => raw.dc.send(JSON.stringify({ scope: "application", data: messages[name](i) })), calls));
          await settle(drained);
        }
        out.trips.raw.push(...(await roundTrips((m) => raw.dc.send(JSON.stringify({ scope: "application", data: m })), rawNext)));
        for (const [name, count] of Object.entries(bursts)) {
          // Paced in order: each send waits for the one before it.
          let chain = Promise.resolve();
          const paced = (m) => (chain = chain.then(() => raw.sendPaced(m)));
          out.burst[name].raw.push(await throughput(paced, rawNext, name, count));
        }
        await raw.close();
      }
      return out;
    },
    { url: machineUrl(server.log), cases: CASES, rounds: ROUNDS, trips: TRIPS, bursts: BURSTS },
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
  const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  for (const [label, q] of [["p50", 0.5], ["p99", 0.99]]) {
    const t = [quantile(results.trips.sdk, q), quantile(results.trips.raw, q)];
    row([`round trip ${label} (ms)`, t[0].toFixed(1), t[1].toFixed(1), (t[0] / t[1]).toFixed(2)]);
  }
  for (const [name, count] of Object.entries(BURSTS)) {
    const b = [median(results.burst[name].sdk), median(results.burst[name].raw)];
    row([`echoed ${name} (/s, ${count})`, b[0].toFixed(0), b[1].toFixed(0), (b[0] / b[1]).toFixed(2)]);
  }
  console.log(`(round trips: ${results.trips.sdk.length} per client; echoed: a burst of that many at once, until the last echo)`);
}, { serverArgs: ["--machines", "echo=1"] });
