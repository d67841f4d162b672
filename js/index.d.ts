// Types of the package entry (index.js): the Reactor class and every type of
// the documented API, re-exported from the wasm-bindgen declarations. The
// low-level init functions are not part of the package's API.
export { Reactor } from "./reactor_sdk.js";
export type {
  ReactorCandidateType,
  ReactorConnectionQuality,
  ReactorError,
  ReactorEvents,
  ReactorJsonSchema,
  ReactorLink,
  ReactorOptions,
  ReactorQuality,
  ReactorQualityLimit,
  ReactorReconnected,
  ReactorReconnecting,
  ReactorRuntimeQuality,
  ReactorSchema,
  ReactorSchemaEntry,
  ReactorSchemaTrack,
  ReactorState,
  ReactorStats,
  ReactorStatus,
  ReactorWaitingInfo,
} from "./reactor_sdk.js";
