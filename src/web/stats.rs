//! The peer's `RTCStatsReport` read into the core's raw counters, and the
//! core's reports and verdicts as the app's plain objects. No arithmetic:
//! rates and verdicts are the core's.

use js_sys::{Map, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::RtcPeerConnection;

use crate::core::{Inbound, Input, PromiseId, StatsReport, StatsSample, Verdict};

use super::sink::Sink;

/// Reads `pc`'s report; the sample (or `None` when the browser refused)
/// arrives at `sink` tagged with `promise`.
pub fn read(pc: &RtcPeerConnection, track: Option<String>, sink: &Sink, promise: Option<PromiseId>) {
    let (report, sink) = (JsFuture::from(pc.get_stats()), sink.clone());
    spawn_local(async move {
        let sample = report.await.ok().map(|report| sample(&report.unchecked_into(), track.as_deref()));
        sink.push(Input::Stats { sample, promise });
    });
}

/// The counters of the model video (`track`'s `inbound-rtp`, else the first
/// video one), every `outbound-rtp`, and the selected candidate pair.
fn sample(report: &Map, track: Option<&str>) -> StatsSample {
    let mut sample = StatsSample::default();
    let (mut pair, mut remote_rtt) = (None, None);
    report.for_each(&mut |stat, _| {
        sample.at_ms = sample.at_ms.max(num(&stat, "timestamp").unwrap_or(0.0));
        match text(&stat, "type").as_deref() {
            Some("inbound-rtp") if is_model_video(&stat, sample.inbound.is_none(), track) => {
                sample.inbound = Some(inbound(&stat))
            }
            Some("outbound-rtp") => sample.bytes_sent += num(&stat, "bytesSent").unwrap_or(0.0),
            Some("transport") if pair.is_none() => pair = text(&stat, "selectedCandidatePairId"),
            Some("remote-inbound-rtp") => remote_rtt = remote_rtt.or_else(|| num(&stat, "roundTripTime")),
            _ => {}
        }
    });
    let pair = pair.map(|id| report.get(&id.into())).filter(|pair| pair.is_object());
    if let Some(pair) = pair {
        sample.rtt_s = num(&pair, "currentRoundTripTime");
        let kind = |key| text(&pair, key).and_then(|id| text(&report.get(&id.into()), "candidateType"));
        sample.local_candidate = kind("localCandidateId");
        sample.remote_candidate = kind("remoteCandidateId");
    }
    sample.rtt_s = sample.rtt_s.or(remote_rtt);
    sample
}

/// A video `inbound-rtp`: the first one seen, or `track`'s.
fn is_model_video(stat: &JsValue, first: bool, track: Option<&str>) -> bool {
    text(stat, "kind").as_deref() == Some("video") && (first || text(stat, "trackIdentifier").as_deref() == track)
}

fn inbound(stat: &JsValue) -> Inbound {
    let count = |key| num(stat, key).unwrap_or(0.0);
    Inbound {
        bytes: count("bytesReceived"),
        packets: count("packetsReceived"),
        packets_lost: count("packetsLost"),
        frames_decoded: count("framesDecoded"),
        frames_dropped: count("framesDropped"),
        jitter_s: num(stat, "jitter"),
    }
}

/// The `stats` event's payload and `getStats()`'s value.
pub fn report_object(report: &StatsReport) -> JsValue {
    let object: JsValue = Object::new().into();
    let numbers = [
        ("timestamp", Some(report.timestamp)),
        ("intervalMs", Some(report.interval_ms)),
        ("rttMs", report.rtt_ms),
        ("receivedKbps", Some(report.received_kbps)),
        ("sentKbps", Some(report.sent_kbps)),
        ("fps", Some(report.fps)),
        ("packetLoss", Some(report.packet_loss)),
        ("jitterMs", report.jitter_ms),
        ("framesDropped", Some(report.frames_dropped)),
        ("framesDroppedTotal", Some(report.frames_dropped_total)),
    ];
    for (key, value) in numbers {
        set(&object, key, value.map(JsValue::from_f64));
    }
    set(&object, "localCandidateType", report.local_candidate.as_deref().map(JsValue::from_str));
    set(&object, "remoteCandidateType", report.remote_candidate.as_deref().map(JsValue::from_str));
    if let Some(runtime) = report.runtime {
        let qos: JsValue = Object::new().into();
        set(&qos, "aggregateQos", Some(runtime.aggregate_qos.into()));
        set(&qos, "ageMs", Some(runtime.age_ms.into()));
        set(&object, "runtime", Some(qos));
    }
    object
}

/// The `connectionQuality` event's payload and `getConnectionQuality()`'s value.
pub fn verdict_object(verdict: Verdict) -> JsValue {
    let object: JsValue = Object::new().into();
    set(&object, "quality", Some(verdict.quality.as_str().into()));
    set(&object, "limitedBy", verdict.limited_by.map(|limit| limit.as_str().into()));
    object
}

/// Sets `key` when there is a value: absent fields stay absent, not `undefined`.
fn set(object: &JsValue, key: &str, value: Option<JsValue>) {
    if let Some(value) = value {
        let _ = Reflect::set(object, &key.into(), &value);
    }
}

fn get(object: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(object, &key.into()).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn num(object: &JsValue, key: &str) -> Option<f64> {
    get(object, key)?.as_f64()
}

/// A string field of a JS object (also the tag of a channel message).
pub(super) fn text(object: &JsValue, key: &str) -> Option<String> {
    get(object, key)?.as_string()
}
