// Page-side WebRTC with the browser's own API and no SDK (passed to
// page.evaluate as source): the conformance test's client.
export const installRawPeer = () => {
  const until = (cond, ms, what) =>
    new Promise((res, rej) => {
      const t0 = performance.now();
      const tick = () => {
        if (cond()) return res();
        if (performance.now() - t0 > ms) return rej(new Error(`timed out waiting for ${what}`));
        setTimeout(tick, 20);
      };
      tick();
    });
  /** An offer with input transceivers first, then outputs, then the channels. */
  window.rawOffer = async (send, receive) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const raw = (window.raw = { pc, received: [], candidates: [], channels: {} });
    pc.onicecandidate = (e) => {
      if (e.candidate) {
        const { candidate, sdpMid, sdpMLineIndex } = e.candidate;
        raw.candidates.push({ candidate, sdp_mid: sdpMid, sdp_mline_index: sdpMLineIndex });
      } else raw.gathered = true;
    };
    pc.ontrack = (e) => (raw.track = e.track);
    const camera = send.length ? await navigator.mediaDevices.getUserMedia({ video: true }) : null;
    const lines = [];
    for (const name of send) {
      lines.push([pc.addTransceiver(camera.getVideoTracks()[0], { direction: "sendonly" }), name, "sendonly"]);
    }
    for (const name of receive) lines.push([pc.addTransceiver("video", { direction: "recvonly" }), name, "recvonly"]);
    for (const label of ["data", "control"]) {
      const channel = (raw.channels[label] = pc.createDataChannel(label));
      channel.onmessage = (e) => raw.received.push({ channel: label, message: JSON.parse(e.data) });
    }
    await pc.setLocalDescription(await pc.createOffer());
    const mapping = lines.map(([t, name, direction]) => ({ mid: t.mid, name, kind: "video", direction }));
    return { sdp: pc.localDescription.sdp, mapping };
  };
  window.rawCandidates = async () => {
    await until(() => raw.gathered, 5_000, "ICE gathering");
    return raw.candidates;
  };
  window.rawAnswer = async (sdp) => {
    await raw.pc.setRemoteDescription({ type: "answer", sdp });
    await until(() => Object.values(raw.channels).every((c) => c.readyState === "open"), 10_000, "both channels to open");
  };
  window.rawChannels = (send, receive, command) => {
    const { data, control } = raw.channels;
    for (const name of receive) control.send(JSON.stringify({ type: "notification", event: "resume_track", data: { name } }));
    send.forEach((name, i) =>
      control.send(JSON.stringify({ type: "request", method: "publish_track", request_id: `r${i}`, data: { name } })),
    );
    data.send(JSON.stringify({ scope: "runtime", data: { type: "ping" } }));
    data.send(JSON.stringify({ scope: "runtime", data: { type: "requestSchema" } }));
    data.send(JSON.stringify({ scope: "application", data: command }));
  };
};
