//! The `Reactor` class exactly as documented: constructor options, methods,
//! events. Each method hands over to the driver; nothing is decided here.

use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::MediaStream;

use crate::core::{OptionValue, Options, RawOptions};
use crate::web::{option_error, Driver, EventName};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export type ReactorStatus = "disconnected" | "connecting" | "waiting" | "ready";

export interface ReactorWaitingInfo {
  /** 1 = next in line. */
  position?: number;
  /** Estimated seconds until a machine is free, when the coordinator gives one. */
  estimatedWait?: number;
}

export interface ReactorError {
  code: string;
  message: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  recoverable: boolean;
  component: "coordinator" | "gpu";
  /** Suggested delay before retrying, in seconds. */
  retryAfter?: number;
}

export interface ReactorState {
  status: ReactorStatus;
  waitingInfo?: ReactorWaitingInfo;
  lastError?: ReactorError;
}

export interface ReactorOptions {
  modelName: string;
  insecureApiKey: string;
  /** Wait in a FIFO queue when no machine is free (default false: fail at once). */
  queueing?: boolean;
  /**
   * Default "http://localhost:8080". Several coordinators sharing one Redis: a list, tried in
   * turn (README "Several coordinators"). In local mode, the runtime's URL (one only).
   */
  coordinatorUrl?: string | string[];
  /** Hold sendMessage/publishVideoStream before ready instead of rejecting. */
  development?: boolean;
  /** Connect straight to one runtime at coordinatorUrl: no token, no queue. */
  local?: boolean;
  /** Check each sendMessage against the model's schema first (INVALID_COMMAND); default false. */
  validateMessages?: boolean;
  /**
   * How a dropped link of a live session is re-made (README "When the network fails"):
   * `true` (default: attempts after 0, 300, 1200, 2700 and 4800 ms), `false` (a drop ends
   * the session), or the delays in ms before each attempt (at most 32, each 0–60000).
   */
  reconnect?: boolean | number[];
}

/** A JSON Schema (draft 2020-12, as OpenAPI 3.1 embeds it); the keywords the SDK reads are typed. */
export interface ReactorJsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  properties?: Record<string, ReactorJsonSchema>;
  required?: string[];
  [keyword: string]: unknown;
}

/** A command the model takes (`{type: name, data}`), or a message it sends. */
export interface ReactorSchemaEntry {
  name: string;
  description?: string;
  /** `data`'s properties: one JSON Schema per parameter (local `$ref`s resolved). */
  parameters: Record<string, ReactorJsonSchema>;
  required: string[];
  /** The whole JSON Schema of `data`. */
  schema: ReactorJsonSchema;
}

export interface ReactorSchemaTrack {
  name: string;
  kind: "video" | "audio";
  /** From the model's side: "in" is the input it takes, "out" what it sends. */
  direction: "in" | "out";
}

/** The model's schema, built from the runtime's OpenAPI 3.1 document (kept as `openapi`). */
export interface ReactorSchema {
  commands: ReactorSchemaEntry[];
  messages: ReactorSchemaEntry[];
  tracks: ReactorSchemaTrack[];
  openapi: Record<string, unknown>;
}

/** Which link of a live session dropped: the coordinator's WebSocket or the machine's peer connection. */
export type ReactorLink = "coordinator" | "machine";

export interface ReactorReconnecting {
  link: ReactorLink;
  /** 1 for the first attempt. */
  attempt: number;
  /** How long the SDK waits before this attempt, in ms. */
  delayMs: number;
  /** What dropped, in words. */
  reason: string;
}

export interface ReactorReconnected {
  link: ReactorLink;
  /** The attempt that succeeded. */
  attempts: number;
  /** From the drop to the link being back, in ms. */
  downtimeMs: number;
}

/** `candidateType` of an ICE candidate: direct (host), seen through NAT (srflx, prflx), or through a TURN relay. */
export type ReactorCandidateType = "host" | "srflx" | "prflx" | "relay";

/** The runtime's own `mediaStats` score, the last one it sent. */
export interface ReactorRuntimeQuality {
  /** 0 (worst) to 10. */
  aggregateQos: number;
  /** How long ago it arrived, in ms. */
  ageMs: number;
}

/** The connection's statistics (README "Reading the connection's quality"). Rates are over `intervalMs`. */
export interface ReactorStats {
  /** When the browser read them, in ms since the epoch. */
  timestamp: number;
  /** The interval the rates cover, in ms: about 2000 for `stats`, 1000 to 2000 for getStats(); 0 when there was nothing to compare with (all rates 0). */
  intervalMs: number;
  /** Round-trip time of the selected ICE candidate pair, in ms. */
  rttMs?: number;
  /** The model's video as received, in kbit/s. */
  receivedKbps: number;
  /** Everything sent (the published camera), in kbit/s. */
  sentKbps: number;
  /** Frames per second of the model's video decoded over the interval. */
  fps: number;
  /** Share of the model video's packets lost over the interval, 0 to 1. */
  packetLoss: number;
  /** Jitter of the model's video, in ms. */
  jitterMs?: number;
  /** Frames of the model's video dropped over the interval. */
  framesDropped: number;
  /** Frames of the model's video dropped since its start. */
  framesDroppedTotal: number;
  localCandidateType?: ReactorCandidateType;
  remoteCandidateType?: ReactorCandidateType;
  /** When the runtime sends `mediaStats` (a real runtime, about every 5 s). */
  runtime?: ReactorRuntimeQuality;
}

export type ReactorQuality = "good" | "fair" | "poor" | "lost";
export type ReactorQualityLimit = "bandwidth" | "latency" | "loss" | "stall";

/** The smoothed verdict on the connection; `limitedBy` is absent when good. */
export interface ReactorConnectionQuality {
  quality: ReactorQuality;
  limitedBy?: ReactorQualityLimit;
}

export interface ReactorEvents {
  statusChanged: ReactorStatus;
  waitingInfoChanged: ReactorWaitingInfo;
  newMessage: any;
  fps: number;
  streamChanged: MediaStreamTrack | null;
  schemaReceived: ReactorSchema;
  error: ReactorError;
  reconnecting: ReactorReconnecting;
  reconnected: ReactorReconnected;
  stats: ReactorStats;
  connectionQuality: ReactorConnectionQuality;
}

export interface Reactor {
  on<K extends keyof ReactorEvents>(event: K, handler: (payload: ReactorEvents[K]) => void): void;
  off<K extends keyof ReactorEvents>(event: K, handler: (payload: ReactorEvents[K]) => void): void;
}
"#;

#[wasm_bindgen]
pub struct Reactor {
    driver: Rc<Driver>,
}

#[wasm_bindgen]
impl Reactor {
    /// Throws an `Error` with code `INVALID_OPTION` naming the bad option.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "ReactorOptions")] options: JsValue) -> Result<Reactor, JsValue> {
        if !options.is_object() {
            return Err(option_error(crate::core::OptionError {
                option: "options",
                message: "new Reactor() needs an options object".into(),
            }));
        }
        let get = |key: &str| option_value(Reflect::get(&options, &key.into()).unwrap_or(JsValue::UNDEFINED));
        let raw = RawOptions {
            model_name: get("modelName"),
            insecure_api_key: get("insecureApiKey"),
            queueing: get("queueing"),
            coordinator_url: get("coordinatorUrl"),
            development: get("development"),
            local: get("local"),
            validate_messages: get("validateMessages"),
            reconnect: get("reconnect"),
        };
        let options = Options::parse(raw).map_err(option_error)?;
        Ok(Reactor { driver: Driver::new(options) })
    }

    /// Resolves at `ready`; rejects with a `ReactorError`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn connect(&self) -> Promise {
        self.driver.connect()
    }

    /// Leaves the queue or the machine; safe in any state, any number of times.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn disconnect(&self) -> Promise {
        self.driver.disconnect()
    }

    /// Sends any JSON-serializable value to the model.
    #[wasm_bindgen(js_name = sendMessage, unchecked_return_type = "Promise<void>")]
    pub fn send_message(&self, message: JsValue) -> Promise {
        self.driver.send_message(&message)
    }

    /// Sends the first video track of `stream` to the model's input.
    #[wasm_bindgen(js_name = publishVideoStream, unchecked_return_type = "Promise<void>")]
    pub fn publish_video_stream(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MediaStream")] stream: &JsValue,
    ) -> Promise {
        let track = stream
            .dyn_ref::<MediaStream>()
            .and_then(|s| s.get_video_tracks().iter().next())
            .filter(|t| !t.is_undefined());
        self.driver.publish(track)
    }

    /// Stops sending the published video; nothing happens when none is.
    #[wasm_bindgen(js_name = unpublishVideoStream, unchecked_return_type = "Promise<void>")]
    pub fn unpublish_video_stream(&self) -> Promise {
        self.driver.unpublish();
        Promise::resolve(&JsValue::UNDEFINED)
    }

    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: &str, handler: Function) -> Result<(), JsValue> {
        self.driver.listeners().add(event_name(event)?, handler);
        Ok(())
    }

    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, event: &str, handler: Function) -> Result<(), JsValue> {
        self.driver.listeners().remove(event_name(event)?, &handler);
        Ok(())
    }

    #[wasm_bindgen(js_name = getStatus, unchecked_return_type = "ReactorStatus")]
    pub fn get_status(&self) -> String {
        self.driver.status().as_str().into()
    }

    #[wasm_bindgen(js_name = getWaitingInfo, unchecked_return_type = "ReactorWaitingInfo | undefined")]
    pub fn get_waiting_info(&self) -> JsValue {
        self.driver.waiting_info().unwrap_or(JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = getLastError, unchecked_return_type = "ReactorError | undefined")]
    pub fn get_last_error(&self) -> JsValue {
        self.driver.last_error().unwrap_or(JsValue::UNDEFINED)
    }

    /// The model's schema once it arrived (before `ready`); `undefined` when disconnected.
    #[wasm_bindgen(js_name = getSchema, unchecked_return_type = "ReactorSchema | undefined")]
    pub fn get_schema(&self) -> JsValue {
        self.driver.schema().unwrap_or(JsValue::UNDEFINED)
    }

    /// The connection's statistics read now; `undefined` with no peer connection.
    #[wasm_bindgen(js_name = getStats, unchecked_return_type = "Promise<ReactorStats | undefined>")]
    pub fn get_stats(&self) -> Promise {
        self.driver.get_stats()
    }

    /// The verdict `connectionQuality` last told; `undefined` before the first one or when not connected.
    #[wasm_bindgen(js_name = getConnectionQuality, unchecked_return_type = "ReactorConnectionQuality | undefined")]
    pub fn get_connection_quality(&self) -> JsValue {
        self.driver.connection_quality().unwrap_or(JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = getState, unchecked_return_type = "ReactorState")]
    pub fn get_state(&self) -> JsValue {
        let state = Object::new();
        let _ = Reflect::set(&state, &"status".into(), &self.get_status().into());
        if let Some(info) = self.driver.waiting_info() {
            let _ = Reflect::set(&state, &"waitingInfo".into(), &info);
        }
        if let Some(err) = self.driver.last_error() {
            let _ = Reflect::set(&state, &"lastError".into(), &err);
        }
        state.into()
    }
}

fn option_value(value: JsValue) -> OptionValue {
    if value.is_undefined() {
        OptionValue::Missing
    } else if let Some(s) = value.as_string() {
        OptionValue::Str(s)
    } else if let Some(b) = value.as_bool() {
        OptionValue::Bool(b)
    } else if let Some(n) = value.as_f64() {
        OptionValue::Number(n)
    } else if js_sys::Array::is_array(&value) {
        OptionValue::List(js_sys::Array::from(&value).iter().map(option_value).collect())
    } else {
        OptionValue::Other(if value.is_null() {
            "null".into()
        } else {
            value.js_typeof().as_string().unwrap_or_default()
        })
    }
}

fn event_name(name: &str) -> Result<EventName, JsValue> {
    EventName::parse(name).ok_or_else(|| {
        // By hand: `[&str]::join` brings a kilobyte of generic code and panics.
        let mut known = String::new();
        for event in EventName::ALL {
            if !known.is_empty() {
                known.push_str(", ");
            }
            known.push_str(event.as_str());
        }
        js_sys::TypeError::new(&format!("unknown event \"{name}\"; Reactor emits {known}")).into()
    })
}
