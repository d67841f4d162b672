// Every item of the documented API, as a TypeScript app uses it, type-checked
// with `tsc --strict` against the packaged declarations (index.d.ts, reached
// through package.json `exports` -> `types`). Never run: only compiled.
//
// The `@ts-expect-error` lines are the other half: each must be an error,
// so the check fails if the declarations become too loose (e.g. `any`).
import {
  Reactor,
  type ReactorError,
  type ReactorEvents,
  type ReactorOptions,
  type ReactorState,
  type ReactorStatus,
  type ReactorWaitingInfo,
  type ReactorSchema,
  type ReactorSchemaEntry,
  type ReactorSchemaTrack,
  type ReactorJsonSchema,
  type ReactorLink,
  type ReactorReconnecting,
  type ReactorReconnected,
  type ReactorStats,
  type ReactorConnectionQuality,
  type ReactorQuality,
  type ReactorQualityLimit,
  type ReactorCandidateType,
  type ReactorRuntimeQuality,
} from "@reactor-wasm/sdk";
import { assertType, type Equals } from "./expect";


// ---- options -------------------------------------------------------------------
const options: ReactorOptions = {
  modelName: "echo",
  insecureApiKey: "dev-key",
  queueing: true,
  coordinatorUrl: "http://localhost:8080",
  development: false,
  local: false,
};
const reactor = new Reactor(options);
const minimal: Reactor = new Reactor({ modelName: "echo", insecureApiKey: "dev-key" });
const local = new Reactor({ modelName: "echo", insecureApiKey: "unused", local: true, coordinatorUrl: "http://127.0.0.1:8081" });
const dev = new Reactor({ modelName: "echo", insecureApiKey: "dev-key", development: true });
new Reactor({ modelName: "echo", insecureApiKey: "dev-key", coordinatorUrl: ["http://a:8080", "http://b:8080"] });
// @ts-expect-error coordinatorUrl is a string or a list of strings
new Reactor({ modelName: "echo", insecureApiKey: "dev-key", coordinatorUrl: [8080] });

// @ts-expect-error modelName is required
new Reactor({ insecureApiKey: "dev-key" });
// @ts-expect-error insecureApiKey is required
new Reactor({ modelName: "echo" });
// @ts-expect-error queueing is a boolean
new Reactor({ modelName: "echo", insecureApiKey: "dev-key", queueing: "yes" });
// @ts-expect-error options are required
new Reactor();

// ---- status and state ------------------------------------------------------------
assertType<Equals<ReactorStatus, "disconnected" | "connecting" | "waiting" | "ready">>();
assertType<Equals<ReturnType<Reactor["getStatus"]>, ReactorStatus>>();
assertType<Equals<ReturnType<Reactor["getState"]>, ReactorState>>();
assertType<Equals<ReturnType<Reactor["getWaitingInfo"]>, ReactorWaitingInfo | undefined>>();
assertType<Equals<ReturnType<Reactor["getLastError"]>, ReactorError | undefined>>();

const status: ReactorStatus = reactor.getStatus();
const state: ReactorState = reactor.getState();
const stateStatus: ReactorStatus = state.status;
const stateWaiting: ReactorWaitingInfo | undefined = state.waitingInfo;
const stateError: ReactorError | undefined = state.lastError;
const waiting = reactor.getWaitingInfo();
const position: number | undefined = waiting?.position;
const estimatedWait: number | undefined = waiting?.estimatedWait;
const lastError = reactor.getLastError();

// ---- errors ------------------------------------------------------------------------
function describe(e: ReactorError): string {
  const code: string = e.code;
  const message: string = e.message;
  const timestamp: number = e.timestamp;
  const recoverable: boolean = e.recoverable;
  const component: "coordinator" | "gpu" = e.component;
  const retryAfter: number | undefined = e.retryAfter;
  return `${code} (${component}, ${recoverable ? "recoverable" : "fatal"}${retryAfter !== undefined ? `, retry in ${retryAfter} s` : ""}) at ${timestamp}: ${message}`;
}
if (lastError) describe(lastError);
// @ts-expect-error component is "coordinator" | "gpu", nothing else
const badComponent: ReactorError["component"] = "livekit";

// ---- events ------------------------------------------------------------------------
assertType<Equals<ReactorEvents["statusChanged"], ReactorStatus>>();
assertType<Equals<ReactorEvents["waitingInfoChanged"], ReactorWaitingInfo>>();
assertType<Equals<ReactorEvents["fps"], number>>();
assertType<Equals<ReactorEvents["streamChanged"], MediaStreamTrack | null>>();
assertType<Equals<ReactorEvents["error"], ReactorError>>();
assertType<Equals<ReactorEvents["schemaReceived"], ReactorSchema>>();
assertType<Equals<ReactorEvents["reconnecting"], ReactorReconnecting>>();
assertType<Equals<ReactorEvents["reconnected"], ReactorReconnected>>();
assertType<Equals<ReactorLink, "coordinator" | "machine">>();
assertType<Equals<ReactorEvents["stats"], ReactorStats>>();
assertType<Equals<ReactorEvents["connectionQuality"], ReactorConnectionQuality>>();
assertType<
  Equals<
    keyof ReactorEvents,
    "statusChanged" | "waitingInfoChanged" | "newMessage" | "fps" | "streamChanged" | "schemaReceived" | "error" | "reconnecting" | "reconnected" | "stats" | "connectionQuality"
  >
>();

const video = document.createElement("video");
reactor.on("statusChanged", (s) => {
  const next: ReactorStatus = s;
});
reactor.on("waitingInfoChanged", (info) => {
  const p: number | undefined = info.position;
  const w: number | undefined = info.estimatedWait;
});
reactor.on("newMessage", (message) => {
  console.log("model says", message);
});
reactor.on("fps", (fps) => {
  const n: number = fps;
});
reactor.on("streamChanged", (track) => {
  video.srcObject = track ? new MediaStream([track]) : null;
});
reactor.on("error", (e) => describe(e));
reactor.on("reconnecting", (r: ReactorReconnecting) => {
  const link: ReactorLink = r.link;
  const n: number = r.attempt + r.delayMs;
  const why: string = r.reason;
  void [link, n, why];
});
reactor.on("reconnected", (r: ReactorReconnected) => {
  const n: number = r.attempts + r.downtimeMs;
  void n;
});
new Reactor({ modelName: "echo", insecureApiKey: "dev-key", reconnect: false });
new Reactor({ modelName: "echo", insecureApiKey: "dev-key", reconnect: [0, 500, 2000] });
// @ts-expect-error reconnect is a boolean or an array of delays
new Reactor({ modelName: "echo", insecureApiKey: "dev-key", reconnect: { delays: [0] } });
// ---- connection quality -----------------------------------------------------------
reactor.on("stats", (s) => {
  const numbers: number[] = [s.timestamp, s.intervalMs, s.receivedKbps, s.sentKbps, s.fps, s.packetLoss, s.framesDropped, s.framesDroppedTotal];
  const optional: (number | undefined)[] = [s.rttMs, s.jitterMs, s.runtime?.aggregateQos, s.runtime?.ageMs];
  const kinds: (ReactorCandidateType | undefined)[] = [s.localCandidateType, s.remoteCandidateType];
  const runtime: ReactorRuntimeQuality | undefined = s.runtime;
  void [numbers, optional, kinds, runtime];
});
reactor.on("connectionQuality", ({ quality, limitedBy }) => {
  const q: ReactorQuality = quality;
  const l: ReactorQualityLimit | undefined = limitedBy;
  void [q, l];
});
async function readStats(): Promise<number> {
  const now: ReactorStats | undefined = await reactor.getStats();
  const verdict: ReactorConnectionQuality | undefined = reactor.getConnectionQuality();
  return (now?.fps ?? 0) + (verdict?.quality === "good" ? 1 : 0);
}
void readStats;
assertType<Equals<ReactorQuality, "good" | "fair" | "poor" | "lost">>();
assertType<Equals<ReactorQualityLimit, "bandwidth" | "latency" | "loss" | "stall">>();
assertType<Equals<ReactorCandidateType, "host" | "srflx" | "prflx" | "relay">>();
// @ts-expect-error a verdict is one of four words
const great: ReactorConnectionQuality = { quality: "great" };
// @ts-expect-error limitedBy is one of four causes
const why: ReactorConnectionQuality = { quality: "poor", limitedBy: "weather" };
async function unchecked() {
  // @ts-expect-error getStats() is undefined without a peer connection: check it first
  return (await reactor.getStats()).fps;
}
// @ts-expect-error the stats payload is a report, not a number
reactor.on("stats", (s: number) => s);
void [great, why, unchecked];
reactor.on("schemaReceived", (schema) => {
  for (const command of schema.commands) console.log(command.name, command.description, Object.keys(command.parameters));
});

// ---- the model's schema ----------------------------------------------------------------
assertType<Equals<ReturnType<Reactor["getSchema"]>, ReactorSchema | undefined>>();
const schema = reactor.getSchema();
const command: ReactorSchemaEntry | undefined = schema?.commands[0];
const brightness: ReactorJsonSchema | undefined = command?.parameters["brightness"];
const max: number | undefined = brightness?.maximum;
const required: string[] | undefined = command?.required;
const track: ReactorSchemaTrack | undefined = schema?.tracks[0];
const direction: "in" | "out" | undefined = track?.direction;
const openapi: Record<string, unknown> | undefined = schema?.openapi;
const validating = new Reactor({ modelName: "echo", insecureApiKey: "dev-key", validateMessages: true });
// @ts-expect-error validateMessages is a boolean
new Reactor({ modelName: "echo", insecureApiKey: "dev-key", validateMessages: "on" });
// @ts-expect-error a track's direction is "in" or "out"
const badDirection: ReactorSchemaTrack["direction"] = "sendonly";

const onStatus = (s: ReactorStatus) => console.log(s);
reactor.on("statusChanged", onStatus);
reactor.off("statusChanged", onStatus);
const onError = (e: ReactorError) => console.log(e.code);
reactor.on("error", onError);
reactor.off("error", onError);

// @ts-expect-error unknown event name
reactor.on("statusChange", () => {});
// @ts-expect-error the fps payload is a number
reactor.on("fps", (fps: string) => fps);
// @ts-expect-error the statusChanged payload is a status, not an error
reactor.off("statusChanged", onError);

// ---- methods -------------------------------------------------------------------------
assertType<Equals<ReturnType<Reactor["connect"]>, Promise<void>>>();
assertType<Equals<ReturnType<Reactor["disconnect"]>, Promise<void>>>();
assertType<Equals<ReturnType<Reactor["sendMessage"]>, Promise<void>>>();
assertType<Equals<ReturnType<Reactor["publishVideoStream"]>, Promise<void>>>();
assertType<Equals<ReturnType<Reactor["unpublishVideoStream"]>, Promise<void>>>();

async function session(): Promise<void> {
  try {
    await reactor.connect();
  } catch (e) {
    // Rejections carry Error objects with the ReactorError fields.
    const err = e as Error & ReactorError;
    console.log(err instanceof Error, describe(err));
    return;
  }
  await reactor.sendMessage({ type: "set_brightness", data: { brightness: 0.5 } });
  await reactor.sendMessage(["any", "JSON", 1, true, null]);
  const camera = await navigator.mediaDevices.getUserMedia({ video: true });
  await reactor.publishVideoStream(camera);
  // @ts-expect-error publishVideoStream takes a MediaStream
  await reactor.publishVideoStream(camera.getVideoTracks()[0]);
  await reactor.unpublishVideoStream();
  await reactor.disconnect();
  await dev.sendMessage("held until ready in development mode");
  await Promise.all([minimal.disconnect(), local.disconnect(), dev.disconnect()]);
}
session();

// @ts-expect-error sendMessage needs a message
reactor.sendMessage();

// ---- the package exports the API, not wasm-bindgen's init functions ------------------
async function noInitExports(): Promise<void> {
  const sdk = await import("@reactor-wasm/sdk");
  // @ts-expect-error no init() to call: the entry initialises itself
  sdk.default();
  // @ts-expect-error no initSync either
  sdk.initSync(new Uint8Array());
}
noInitExports();

export { status, stateStatus, stateWaiting, stateError, position, estimatedWait, badComponent };
export { max, required, direction, openapi, validating, badDirection };
