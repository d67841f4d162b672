// The demo page: every part of the documented Reactor API, driven by hand.
// It never connects by itself (tests share its page and its machines).
import init, { Reactor } from "/pkg/reactor_sdk.js";

await init();

const $ = (id) => document.getElementById(id);
let reactor = null;
let camera = null;

function log(kind, text) {
  const li = document.createElement("li");
  li.className = kind;
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("log").prepend(li);
}

function showStatus(status) {
  $("status").textContent = status;
  $("status").dataset.status = status;
  $("camera").disabled = status !== "ready";
  if (status !== "waiting") $("queue").textContent = "";
}

function create() {
  const r = new Reactor({
    modelName: $("model").value,
    insecureApiKey: $("key").value,
    queueing: $("queueing").checked,
    coordinatorUrl: location.origin,
  });
  r.on("statusChanged", showStatus);
  r.on("waitingInfoChanged", (info) => {
    const wait = info.estimatedWait != null ? `, about ${Math.round(info.estimatedWait)} s` : "";
    $("queue").textContent = info.position != null ? `#${info.position} in line${wait}` : "";
  });
  r.on("newMessage", (m) => log("in", `← ${JSON.stringify(m)}`));
  r.on("error", (e) => log("err", `${e.code}: ${e.message}`));
  r.on("fps", (fps) => ($("fps").textContent = `${fps.toFixed(0)} fps`));
  r.on("streamChanged", (track) => {
    $("video").srcObject = track ? new MediaStream([track]) : null;
  });
  return r;
}

$("connect").onclick = async () => {
  await reactor?.disconnect();
  reactor = create();
  try {
    await reactor.connect();
  } catch (e) {
    log("err", `connect failed: ${e.code ?? ""} ${e.message}`);
  }
};

$("disconnect").onclick = async () => {
  await reactor?.disconnect();
  camera?.getTracks().forEach((t) => t.stop());
  camera = null;
};

$("camera").onclick = async () => {
  if (!reactor?.publishVideoStream) return log("err", "this build cannot publish video yet");
  try {
    if (camera) {
      await reactor.unpublishVideoStream();
      camera.getTracks().forEach((t) => t.stop());
      camera = null;
      $("camera").textContent = "Publish camera";
    } else {
      camera = await navigator.mediaDevices.getUserMedia({ video: true });
      await reactor.publishVideoStream(camera);
      $("camera").textContent = "Stop camera";
    }
  } catch (e) {
    log("err", `camera: ${e.code ?? ""} ${e.message}`);
  }
};

$("send").onsubmit = async (event) => {
  event.preventDefault();
  let message;
  try {
    message = JSON.parse($("message").value);
  } catch (e) {
    return log("err", `not JSON: ${e.message}`);
  }
  try {
    await reactor?.sendMessage(message);
    log("out", `→ ${JSON.stringify(message)}`);
  } catch (e) {
    log("err", `${e.code}: ${e.message}`);
  }
};
