// Checks the harness itself, without the SDK: the server answers, Chromium
// starts in the loopback-only namespace, and two peer connections in the page
// connect over loopback and pass a data-channel message. When this passes and
// slice.test.mjs fails, look at the SDK or the server, not at the machine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack } from "./harness.mjs";

test("harness: page loads from the server and WebRTC works on loopback", { timeout: 60_000 }, async () => {
  await withStack("browser", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const a = new RTCPeerConnection();
      const b = new RTCPeerConnection();
      const candidates = [];
      a.onicecandidate = (e) => e.candidate && (candidates.push(e.candidate.candidate), b.addIceCandidate(e.candidate));
      b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
      const received = new Promise((resolve) => {
        b.ondatachannel = (e) => (e.channel.onmessage = (m) => resolve(m.data));
      });
      const ch = a.createDataChannel("data");
      const opened = new Promise((resolve) => (ch.onopen = resolve));
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription);
      const timeout = (ms, what) => new Promise((_, rej) => setTimeout(() => rej(new Error(`${what} (${ms} ms)`)), ms));
      await Promise.race([opened, timeout(10_000, "data channel never opened")]);
      ch.send("ping over loopback");
      const got = await Promise.race([received, timeout(5_000, "message never arrived")]);
      const state = a.connectionState;
      a.close();
      b.close();
      return { got, state, candidates };
    });
    assert.equal(result.got, "ping over loopback");
    assert.equal(result.state, "connected");
    assert.ok(
      result.candidates.some((c) => / 127\.0\.0\.1 | ::1 /.test(c)),
      `expected a loopback candidate, got ${JSON.stringify(result.candidates)}`,
    );
  });
});
