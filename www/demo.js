// The demo page: every part of the documented Reactor API, driven by hand.
// It never connects by itself (tests share its page and its machines).
//
// It imports the package entry exactly as an app does (the reference server
// serves pkg/ at /pkg/): no init() call, the entry instantiates the wasm.
import { Reactor } from "/pkg/index.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// The reference server serves this page and is the coordinator; ?coordinator= points elsewhere.
const coordinatorUrl = params.get("coordinator") ?? location.origin;

let reactor = null; // the current Reactor; a new one per Connect (the form's options may change)
let camera = null; // the webcam MediaStream while the toggle is on
let published = false;

// ---- the page's pieces ----------------------------------------------------------

function log(kind, text) {
  const li = document.createElement("li");
  li.className = kind;
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function showError(e) {
  if (!e) {
    $("error").hidden = true;
    return;
  }
  $("error-code").textContent = e.code ?? "ERROR";
  const meta = [e.component, e.recoverable === true ? "recoverable" : e.recoverable === false ? "not recoverable" : null];
  if (e.retryAfter != null) meta.push(`retry after ${e.retryAfter} s`);
  $("error-meta").textContent = meta.filter(Boolean).join(", ");
  $("error-message").textContent = e.message ?? String(e);
  $("error").hidden = false;
}

function showStatus(status) {
  $("status").textContent = status;
  $("status").dataset.status = status;
  $("connect").disabled = status !== "disconnected";
  $("disconnect").disabled = status === "disconnected";
  if (status !== "waiting") $("queue").textContent = "";
  if (status === "ready") showError(null);
}

function showWaiting(info) {
  if (!info || info.position == null) {
    $("queue").textContent = "waiting for a machine…";
    return;
  }
  const wait = info.estimatedWait != null ? `, about ${Math.round(info.estimatedWait)} s` : "";
  $("queue").textContent = `#${info.position} in line${wait}`;
}

function showTrack(track) {
  $("video").srcObject = track ? new MediaStream([track]) : null;
  $("no-video").hidden = !!track;
  if (!track) {
    $("fps").textContent = "– fps";
    $("size").textContent = "";
    showQuality(null);
    $("stats").textContent = "";
  }
}

function showQuality(verdict) {
  $("quality").textContent = verdict ? verdict.quality + (verdict.limitedBy ? ` (${verdict.limitedBy})` : "") : "–";
  $("quality").dataset.quality = verdict?.quality ?? "";
}

function showStats(s) {
  const rtt = s.rttMs != null ? `rtt ${s.rttMs.toFixed(0)} ms` : "rtt –";
  const parts = [`${s.fps.toFixed(0)} fps`, `↓ ${s.receivedKbps.toFixed(0)} kbit/s`, `↑ ${s.sentKbps.toFixed(0)} kbit/s`, rtt, `loss ${(s.packetLoss * 100).toFixed(1)} %`];
  if (s.localCandidateType) parts.push(s.localCandidateType);
  if (s.runtime) parts.push(`runtime QoS ${s.runtime.aggregateQos}/10`);
  $("stats").textContent = parts.join(" · ");
}

// Resolution and decoded-frame count of the model's video, per painted frame.
let frames = 0;
function onFrame(_now, meta) {
  frames += 1;
  $("size").textContent = `${meta.width}×${meta.height}`;
  $("video").dataset.frames = String(frames);
  $("video").requestVideoFrameCallback(onFrame);
}
$("video").requestVideoFrameCallback?.(onFrame);

// ---- the model's commands, from its schema (getSchema / schemaReceived) -------------

/** One input per parameter, from its JSON Schema: type, default, bounds, choices. */
function field(name, schema) {
  const label = document.createElement("label");
  label.title = schema.description ?? "";
  const types = [schema.type ?? schema.anyOf?.map((s) => s.type) ?? []].flat();
  let input;
  if (schema.enum) {
    input = document.createElement("select");
    for (const v of schema.enum) input.append(new Option(String(v), JSON.stringify(v)));
    if (schema.default !== undefined) input.value = JSON.stringify(schema.default);
    input.dataset.json = "";
  } else {
    input = document.createElement("input");
    if (types.includes("boolean")) {
      input.type = "checkbox";
      input.checked = schema.default === true;
    } else if (types.includes("number") || types.includes("integer")) {
      input.type = "number";
      input.step = types.includes("integer") ? "1" : "any";
      if (schema.minimum != null) input.min = String(schema.minimum);
      if (schema.maximum != null) input.max = String(schema.maximum);
      input.dataset.number = "";
    } else {
      input.type = /^#[0-9a-f]{6}$/i.test(schema.default ?? "") ? "color" : "text";
    }
    if (schema.default !== undefined && input.type !== "checkbox") input.value = String(schema.default);
  }
  input.name = name;
  label.append(`${name} `, input);
  if (schema.minimum != null || schema.maximum != null) {
    const range = document.createElement("small");
    range.className = "muted";
    range.textContent = ` ${schema.minimum ?? ""}…${schema.maximum ?? ""}`;
    label.append(range);
  }
  return label;
}

function valueOf(input) {
  if (input.type === "checkbox") return input.checked;
  if ("number" in input.dataset) return input.value === "" ? null : Number(input.value);
  if ("json" in input.dataset) return JSON.parse(input.value);
  return input.value;
}

/** A form per command; Send builds `{type, data}` from its inputs. */
function commandForm(command) {
  const form = document.createElement("form");
  form.className = "command";
  form.dataset.command = command.name;
  form.noValidate = true; // the SDK checks the values (validateMessages), and says which one is wrong
  const title = document.createElement("strong");
  title.textContent = command.name;
  title.title = command.description ?? "";
  form.append(title);
  for (const [name, schema] of Object.entries(command.parameters)) form.append(field(name, schema));
  const send = document.createElement("button");
  send.textContent = "Send";
  form.append(send);
  form.onsubmit = (event) => {
    event.preventDefault();
    const data = {};
    for (const input of form.querySelectorAll("[name]")) data[input.name] = valueOf(input);
    sendMessage({ type: command.name, data });
  };
  return form;
}

function showCommands(schema) {
  const box = $("commands");
  box.replaceChildren();
  if (!schema) {
    box.textContent = "the model's commands appear here once connected (from its schema)";
    return;
  }
  for (const command of schema.commands) box.append(commandForm(command));
  if (!schema.commands.length) box.textContent = "this model's schema lists no commands";
}

// ---- the Reactor ------------------------------------------------------------------

function create() {
  const r = new Reactor({
    modelName: $("model").value,
    insecureApiKey: $("key").value,
    queueing: $("queueing").checked,
    development: $("development").checked,
    validateMessages: $("validate").checked,
    coordinatorUrl,
  });
  r.on("statusChanged", (status) => {
    if (r !== reactor) return; // a previous Reactor winding down
    showStatus(status);
    log("status", `status: ${status}`);
    if (status === "ready" && camera && !published) publish();
    if (status === "disconnected") {
      published = false;
      showCommands(undefined);
    }
  });
  r.on("waitingInfoChanged", (info) => r === reactor && showWaiting(info));
  r.on("newMessage", (m) => {
    if (r !== reactor) return;
    if (m?.type === "progress") {
      $("progress").textContent = `progress: ${JSON.stringify(m.data)}`; // once a second: one line, not the console
      return;
    }
    log("in", `← ${JSON.stringify(m)}`);
  });
  r.on("error", (e) => {
    if (r !== reactor) return;
    showError(e);
    log("err", `${e.code}: ${e.message}`);
  });
  r.on("fps", (fps) => r === reactor && ($("fps").textContent = `${fps.toFixed(0)} fps`));
  r.on("stats", (s) => r === reactor && showStats(s));
  r.on("connectionQuality", (q) => r === reactor && showQuality(q));
  r.on("streamChanged", (track) => r === reactor && showTrack(track));
  r.on("schemaReceived", (schema) => r === reactor && showCommands(schema));
  return r;
}

async function publish() {
  try {
    await reactor.publishVideoStream(camera);
    published = true;
    log("out", "→ camera published");
  } catch (e) {
    showError(e);
    log("err", `publish: ${e.code ?? ""} ${e.message}`);
  }
}

$("connect").onclick = async () => {
  showError(null);
  const previous = reactor;
  reactor = create();
  await previous?.disconnect();
  try {
    await reactor.connect();
  } catch (e) {
    // The `error` event already showed it; connect()'s rejection carries the same fields.
    if (e?.code !== reactor.getLastError()?.code) {
      showError(e);
      log("err", `connect: ${e?.code ?? ""} ${e?.message ?? e}`);
    }
  }
};

$("disconnect").onclick = async () => {
  await reactor?.disconnect();
  log("status", "disconnected by the user");
};

$("camera").onclick = async () => {
  if (camera) {
    const r = reactor;
    camera.getTracks().forEach((t) => t.stop());
    camera = null;
    $("preview").srcObject = null;
    $("preview").hidden = true;
    $("camera").textContent = "Publish camera";
    $("camera").setAttribute("aria-pressed", "false");
    if (published && r) {
      published = false;
      try {
        await r.unpublishVideoStream();
        log("out", "→ camera unpublished");
      } catch (e) {
        showError(e);
        log("err", `unpublish: ${e.code ?? ""} ${e.message}`);
      }
    }
    return;
  }
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  } catch (e) {
    showError({ code: e.name, component: "camera", message: e.message });
    return;
  }
  $("preview").srcObject = camera;
  $("preview").hidden = false;
  $("camera").textContent = "Stop camera";
  $("camera").setAttribute("aria-pressed", "true");
  const status = reactor?.getStatus();
  if (status === "ready" || (reactor && status !== "disconnected" && $("development").checked)) {
    await publish();
  } else {
    log("status", "camera on: it is published once the status is ready");
  }
};

$("send").onsubmit = async (event) => {
  event.preventDefault();
  let message;
  try {
    message = JSON.parse($("message").value);
  } catch (e) {
    showError({ code: "NOT_JSON", component: "this page", message: `the message box does not hold JSON: ${e.message}` });
    return;
  }
  await sendMessage(message);
};

async function sendMessage(message) {
  if (!reactor) {
    showError({ code: "NOT_CONNECTED", component: "this page", message: "press Connect first" });
    return;
  }
  try {
    await reactor.sendMessage(message);
    log("out", `→ ${JSON.stringify(message)}`);
  } catch (e) {
    showError(e);
    log("err", `send: ${e.code ?? ""}${e.parameter ? ` (${e.parameter})` : ""} ${e.message}`);
  }
}

$("error-dismiss").onclick = () => showError(null);

showCommands(undefined);
showStatus("disconnected");
$("camera").disabled = false;
$("sdk").textContent = `SDK ready · coordinator ${coordinatorUrl}`;
