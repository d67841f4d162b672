//! The browser's RTCPeerConnection for one machine connection, with its
//! transceivers, the `data` and `control` channels and every listener.
//! Dropping a [`Peer`] closes all of it and detaches every callback.

use gloo_events::EventListener;
use js_sys::{Array, JsString, Object, Reflect};
use reactor_protocol::coordinator::IceServer;
use reactor_protocol::runtime::{IceCandidate, Scope, CONTROL_CHANNEL, DATA_CHANNEL};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    MediaStreamTrack, MessageEvent, RtcConfiguration, RtcRtpReceiver, RtcRtpSender, RtcDataChannel, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcPeerConnectionState, RtcRtpTransceiver, RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType,
    RtcSessionDescriptionInit, RtcTrackEvent,
};

use crate::core::{Channel, Input, PeerPlan, PeerState};

use super::json::{describe, from_text, parse};
use super::sink::Sink;

#[wasm_bindgen]
extern "C" {
    /// An `RTCDataChannel` seen through `send(string)` taking a JS string,
    /// so the text never makes a round trip through wasm memory.
    type TextChannel;
    #[wasm_bindgen(method, js_name = send, catch)]
    fn send_text(this: &TextChannel, text: &JsString) -> Result<(), JsValue>;
}

pub struct Peer {
    pc: RtcPeerConnection,
    data: RtcDataChannel,
    control: RtcDataChannel,
    /// The model's first input, where a published camera goes.
    input: Option<RtcRtpSender>,
    /// The model's first output, whose statistics give `fps`.
    output: Option<RtcRtpReceiver>,
    _listeners: Vec<EventListener>,
}

impl Peer {
    /// Builds the connection as planned and starts the offer; the offer
    /// and everything after arrive at `sink`.
    pub fn create(plan: &PeerPlan, sink: Sink) -> Result<Peer, JsValue> {
        let config = RtcConfiguration::new();
        config.set_ice_servers(&ice_servers(&plan.ice_servers));
        let pc = RtcPeerConnection::new_with_configuration(&config)?;
        // Inputs first: a video-to-video model drops input placed after its output.
        let transceivers: Vec<RtcRtpTransceiver> = plan
            .send
            .iter()
            .map(|_| RtcRtpTransceiverDirection::Sendonly)
            .chain(plan.receive.iter().map(|_| RtcRtpTransceiverDirection::Recvonly))
            .map(|direction| {
                let init = RtcRtpTransceiverInit::new();
                init.set_direction(direction);
                pc.add_transceiver_with_str_and_init("video", &init)
            })
            .collect();
        let data = pc.create_data_channel(DATA_CHANNEL);
        let control = pc.create_data_channel(CONTROL_CHANNEL);
        let listeners = vec![
            on_candidate(&pc, sink.clone()),
            on_state(&pc, sink.clone()),
            on_track(&pc, sink.clone()),
            EventListener::new(&data, "open", opened(&sink, Channel::Data)),
            EventListener::new(&data, "close", closed(&sink, Channel::Data)),
            EventListener::new(&data, "message", on_data(sink.clone())),
            EventListener::new(&control, "open", opened(&sink, Channel::Control)),
            EventListener::new(&control, "close", closed(&sink, Channel::Control)),
            EventListener::new(&control, "message", on_control(sink.clone())),
        ];
        let input = plan.send.first().map(|_| transceivers[0].sender());
        let output = plan.receive.first().map(|_| transceivers[plan.send.len()].receiver());
        spawn_local(offer(pc.clone(), transceivers, sink));
        Ok(Peer { pc, data, control, input, output, _listeners: listeners })
    }

    pub fn set_answer(&self, sdp: String, sink: Sink) {
        let pc = self.pc.clone();
        spawn_local(async move {
            let answer = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
            answer.set_sdp(&sdp);
            match JsFuture::from(pc.set_remote_description(&answer)).await {
                Ok(_) => {
                    if let Some(size) = max_message_size(&pc) {
                        sink.push(Input::MaxMessageSize(size));
                    }
                }
                Err(e) => sink.push(Input::PeerFailed(format!("the machine's answer was refused: {}", describe(&e)))),
            }
        });
    }

    /// Swaps what the input transceiver sends, without renegotiation.
    pub fn replace_track(&self, track: Option<JsValue>) {
        let Some(sender) = self.input.clone() else { return };
        let track: Option<MediaStreamTrack> = track.map(|t| t.unchecked_into());
        spawn_local(async move {
            if let Err(e) = JsFuture::from(sender.replace_track(track.as_ref())).await {
                web_sys::console::warn_2(&"Reactor: replaceTrack failed".into(), &e);
            }
        });
    }

    /// Reads the output receiver's `inbound-rtp` report.
    pub fn read_stats(&self, sink: Sink) {
        let Some(receiver) = self.output.clone() else { return };
        spawn_local(async move {
            let Ok(report) = JsFuture::from(receiver.get_stats()).await else { return };
            let report: js_sys::Map = report.unchecked_into();
            for entry in report.values() {
                let Ok(stats) = entry else { continue };
                let field = |key: &str| Reflect::get(&stats, &key.into()).ok();
                if field("type").and_then(|t| t.as_string()).as_deref() != Some("inbound-rtp") {
                    continue;
                }
                let frames = field("framesDecoded").and_then(|f| f.as_f64());
                let at = field("timestamp").and_then(|t| t.as_f64());
                if let (Some(frames_decoded), Some(at_ms)) = (frames, at) {
                    sink.push(Input::Stats { frames_decoded, at_ms });
                }
                return;
            }
        });
    }

    pub fn send(&self, channel: Channel, text: &JsString) -> Result<(), JsValue> {
        match channel {
            Channel::Data => self.data.unchecked_ref::<TextChannel>().send_text(text),
            Channel::Control => self.control.unchecked_ref::<TextChannel>().send_text(text),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.data.close();
        self.control.close();
        self.pc.close();
    }
}

async fn offer(pc: RtcPeerConnection, transceivers: Vec<RtcRtpTransceiver>, sink: Sink) {
    let made = async {
        let offer = JsFuture::from(pc.create_offer()).await?;
        JsFuture::from(pc.set_local_description(offer.unchecked_ref())).await?;
        Ok::<_, JsValue>(pc.local_description().map(|d| d.sdp()).unwrap_or_default())
    };
    match made.await {
        Ok(sdp) => {
            // Read only now: the browser assigns mids in setLocalDescription.
            let mids = transceivers.iter().map(|t| t.mid()).collect();
            sink.push(Input::OfferReady { sdp, mids });
        }
        Err(e) => sink.push(Input::PeerFailed(format!("the browser could not make an offer: {}", describe(&e)))),
    }
}

/// `RTCConfiguration.iceServers`.
fn ice_servers(servers: &[IceServer]) -> JsValue {
    let list = Array::new();
    for server in servers {
        let entry = Object::new();
        let urls: Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
        let _ = Reflect::set(&entry, &"urls".into(), &urls);
        for (key, value) in [("username", &server.username), ("credential", &server.credential)] {
            if let Some(value) = value {
                let _ = Reflect::set(&entry, &key.into(), &value.into());
            }
        }
        list.push(&entry);
    }
    list.into()
}

/// `RTCSctpTransport.maxMessageSize` (not in web-sys).
fn max_message_size(pc: &RtcPeerConnection) -> Option<usize> {
    let sctp = Reflect::get(pc, &"sctp".into()).ok()?;
    let size = Reflect::get(&sctp, &"maxMessageSize".into()).ok()?.as_f64()?;
    // Infinity means no limit; keep it representable.
    (size > 0.0).then(|| size.min(usize::MAX as f64) as usize)
}

fn on_candidate(pc: &RtcPeerConnection, sink: Sink) -> EventListener {
    EventListener::new(pc, "icecandidate", move |event| {
        let event: &RtcPeerConnectionIceEvent = event.unchecked_ref();
        let candidate = event.candidate().filter(|c| !c.candidate().is_empty()).map(|c| IceCandidate {
            candidate: c.candidate(),
            sdp_mid: c.sdp_mid(),
            sdp_mline_index: c.sdp_m_line_index(),
        });
        sink.push(Input::LocalCandidate(candidate));
    })
}

fn on_state(pc: &RtcPeerConnection, sink: Sink) -> EventListener {
    let peer = pc.clone();
    EventListener::new(pc, "connectionstatechange", move |_| {
        let state = match peer.connection_state() {
            RtcPeerConnectionState::New => PeerState::New,
            RtcPeerConnectionState::Connecting => PeerState::Connecting,
            RtcPeerConnectionState::Connected => PeerState::Connected,
            RtcPeerConnectionState::Disconnected => PeerState::Disconnected,
            RtcPeerConnectionState::Failed => PeerState::Failed,
            _ => PeerState::Closed,
        };
        sink.push(Input::PeerState(state));
    })
}

fn on_track(pc: &RtcPeerConnection, sink: Sink) -> EventListener {
    EventListener::new(pc, "track", move |event| {
        let event: &RtcTrackEvent = event.unchecked_ref();
        let track = event.track();
        if track.kind() == "video" {
            sink.push(Input::RemoteTrack(track.into()));
        }
    })
}

fn opened(sink: &Sink, channel: Channel) -> impl FnMut(&web_sys::Event) {
    let sink = sink.clone();
    move |_| sink.push(Input::ChannelOpen(channel))
}

fn closed(sink: &Sink, channel: Channel) -> impl FnMut(&web_sys::Event) {
    let sink = sink.clone();
    move |_| sink.push(Input::ChannelClosed(channel))
}

fn on_control(sink: Sink) -> impl FnMut(&web_sys::Event) {
    move |event| {
        let event: &MessageEvent = event.unchecked_ref();
        if let Some(message) = event.data().as_string().and_then(|text| from_text(&text)) {
            sink.push(Input::Control(message));
        }
    }
}

fn on_data(sink: Sink) -> impl FnMut(&web_sys::Event) {
    move |event| {
        let event: &MessageEvent = event.unchecked_ref();
        let Some(message) = event.data().as_string().and_then(|text| parse(&text)) else { return };
        let scope = match Reflect::get(&message, &"scope".into()).ok().and_then(|s| s.as_string()).as_deref() {
            Some("application") => Some(Scope::Application),
            Some("runtime") => Some(Scope::Runtime),
            _ => None,
        };
        let data = Reflect::get(&message, &"data".into()).unwrap_or(JsValue::UNDEFINED);
        sink.push(Input::DataMessage { scope, data });
    }
}
