// The fault injectors themselves: each fault really happens, and lifting it
// really restores the network, or every other test of the suite proves nothing.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import { once } from "node:events";
import { test } from "node:test";
import { assertLoopbackOnly, dropUdp, freeze, startProxy } from "./inject.mjs";
import { spawn } from "node:child_process";

/** Sends `count` datagrams to a fresh socket and counts those that arrive within 500 ms. */
async function udpDelivered(count) {
  const receiver = dgram.createSocket("udp4");
  const sender = dgram.createSocket("udp4");
  let received = 0;
  receiver.on("message", () => received++);
  receiver.bind(0, "127.0.0.1");
  await once(receiver, "listening");
  const { port } = receiver.address();
  const all = new Promise((resolve) => receiver.on("message", () => received === count && resolve()));
  // Paced, so the receiver's socket buffer never overflows: only the fault may drop.
  for (let i = 0; i < count; i++) {
    sender.send(Buffer.from([i & 255]), port, "127.0.0.1");
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 500))]);
  sender.close();
  receiver.close();
  return received;
}

test("the suite runs in a loopback-only namespace", () => {
  assertLoopbackOnly();
});

test("dropUdp(100) drops every datagram, and lifting it restores them", async () => {
  assert.equal(await udpDelivered(50), 50);
  const lift = dropUdp(100);
  try {
    assert.equal(await udpDelivered(50), 0);
  } finally {
    lift();
  }
  assert.equal(await udpDelivered(50), 50);
});

test("dropUdp(20) drops some datagrams but not all", async () => {
  const lift = dropUdp(20);
  try {
    const got = await udpDelivered(2000);
    // Binomial(2000, 0.8): mean 1600, sd 18; these bounds are 11 sd out.
    assert.ok(got > 1400 && got < 1800, `delivered ${got} of 2000`);
  } finally {
    lift();
  }
});

test("freeze stops a process and thawing lets it run on", async () => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => process.stdout.write('.'), 20)"]);
  try {
    await once(child.stdout, "data");
    const thaw = freeze(child.pid);
    let ticks = 0;
    await new Promise((resolve) => setTimeout(resolve, 100)); // let in-flight output drain
    child.stdout.on("data", () => ticks++);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(ticks, 0, "a frozen process wrote output");
    thaw();
    await once(child.stdout, "data");
  } finally {
    child.kill("SIGKILL");
  }
});

test("the proxy carries bytes, cut() resets its connections, refuse() refuses new ones", async () => {
  const echo = net.createServer((socket) => socket.on("error", () => {}).pipe(socket));
  echo.listen(0, "127.0.0.1");
  await once(echo, "listening");
  const proxy = await startProxy(echo.address().port);
  try {
    const client = net.connect(proxy.port, "127.0.0.1");
    client.write("ping");
    const [data] = await once(client, "data");
    assert.equal(String(data), "ping");
    assert.equal(proxy.connections, 1);
    // Not events.once: it rejects on the reset's `error` event, which is the point.
    const closed = new Promise((resolve) => client.on("close", resolve));
    let reset = null;
    client.on("error", (e) => (reset = e.code));
    proxy.cut();
    await closed;
    assert.equal(reset, "ECONNRESET");
    proxy.refuse(true);
    const refused = net.connect(proxy.port, "127.0.0.1");
    refused.on("error", () => {});
    await new Promise((resolve) => refused.on("close", resolve));
    assert.equal(proxy.connections, 0);
  } finally {
    await proxy.close();
    echo.close();
  }
});
