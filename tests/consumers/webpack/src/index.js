// A fresh webpack 5 app using the SDK the way its README says: one import, no
// init() call, no plugin. With ?coordinator=<url> it connects to the `echo`
// model, round-trips a message and disconnects, writing each step to the page
// and the outcome to window.consumer (read by tests/consumers/consumers.test.mjs).
import { Reactor } from "@reactor-wasm/sdk";

const logEl = document.getElementById("log");
const log = (line) => (logEl.textContent += `${line}\n`);

async function run(coordinatorUrl) {
  const statuses = [];
  const reactor = new Reactor({ modelName: "echo", insecureApiKey: "dev-key", queueing: true, coordinatorUrl });
  reactor.on("statusChanged", (status) => {
    statuses.push(status);
    log(`status: ${status}`);
  });
  reactor.on("error", (e) => log(`error: ${e.code}: ${e.message}`));
  const reply = new Promise((resolve) =>
    reactor.on("newMessage", (message) => {
      log(`newMessage: ${JSON.stringify(message)}`);
      if (message?.type === "echo") resolve(message);
    }),
  );
  await reactor.connect();
  const sent = { type: "hello", data: { from: "webpack" } };
  await reactor.sendMessage(sent);
  log(`sent: ${JSON.stringify(sent)}`);
  const echoed = await reply;
  await reactor.disconnect();
  return { sent, echoed, statuses, status: reactor.getStatus() };
}

const coordinatorUrl = new URLSearchParams(location.search).get("coordinator");
window.consumer = { bundler: "webpack", loaded: typeof Reactor === "function", outcome: "idle" };
log(`SDK loaded: ${window.consumer.loaded}`);
if (coordinatorUrl) {
  window.consumer.outcome = "running";
  run(coordinatorUrl).then(
    (result) => Object.assign(window.consumer, { outcome: "passed", result }),
    (e) => {
      log(`failed: ${e?.code ?? ""} ${e?.message ?? e}`);
      Object.assign(window.consumer, { outcome: "failed", error: `${e?.code ?? ""} ${e?.message ?? e}` });
    },
  );
}
