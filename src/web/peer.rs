//! The browser's RTCPeerConnection for one machine connection, with its
//! transceivers, the `data` and `control` channels and every listener.
//! Dropping a [`Peer`] closes all of it and detaches every callback.

use gloo_events::EventListener;
use js_sys::{Array, JsString, Object, Promise, Reflect};
use reactor_protocol::coordinator::IceServer;
use reactor_protocol::runtime::{IceCandidate, Scope, CONTROL_CHANNEL, DATA_CHANNEL};
use reactor_protocol::text;
use wasm_bindgen::prelude::*;
use web_sys::{
    Event, MediaStreamTrack, MessageEvent, RtcConfiguration, RtcDataChannel, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpReceiver, RtcRtpSender, RtcRtpTransceiver,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use crate::core::{Channel, Input, PeerPlan, PeerState};

use super::json::{describe, from_text, parse};
use super::sink::{listen, when_settled, Sink};

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
    pub fn create(plan: &PeerPlan, sink: &Sink) -> Result<Peer, JsValue> {
        let config = RtcConfiguration::new();
        config.set_ice_servers(&ice_servers(&plan.ice_servers));
        let pc = RtcPeerConnection::new_with_configuration(&config)?;
        // Inputs first: a video-to-video model drops input placed after its output.
        let mut transceivers = Vec::new();
        for (count, direction) in [
            (plan.send.len(), RtcRtpTransceiverDirection::Sendonly),
            (plan.receive.len(), RtcRtpTransceiverDirection::Recvonly),
        ] {
            for _ in 0..count {
                let init = RtcRtpTransceiverInit::new();
                init.set_direction(direction);
                transceivers.push(pc.add_transceiver_with_str_and_init("video", &init));
            }
        }
        let data = pc.create_data_channel(DATA_CHANNEL);
        let control = pc.create_data_channel(CONTROL_CHANNEL);
        let listeners = vec![
            listen(&pc, "icecandidate", sink, candidate),
            listen(&pc, "connectionstatechange", sink, state),
            listen(&pc, "track", sink, track),
            listen(&data, "open", sink, |_| Some(Input::ChannelOpen(Channel::Data))),
            listen(&data, "close", sink, |_| Some(Input::ChannelClosed(Channel::Data))),
            listen(&data, "message", sink, data_message),
            listen(&control, "open", sink, |_| Some(Input::ChannelOpen(Channel::Control))),
            listen(&control, "close", sink, |_| Some(Input::ChannelClosed(Channel::Control))),
            listen(&control, "message", sink, control_message),
        ];
        // Inputs, then outputs: the first of each, if the model has one.
        let input = transceivers.first().filter(|_| !plan.send.is_empty()).map(|t| t.sender());
        let output = transceivers.get(plan.send.len()).map(|t| t.receiver());
        offer(&pc, transceivers, sink);
        Ok(Peer { pc, data, control, input, output, _listeners: listeners })
    }

    pub fn set_answer(&self, sdp: String, sink: &Sink) {
        let answer = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        answer.set_sdp(&sdp);
        let pc = self.pc.clone();
        when_settled(
            sink,
            &self.pc.set_remote_description(&answer),
            Box::new(move |set| match set {
                Ok(_) => max_message_size(&pc).map(Input::MaxMessageSize),
                Err(e) => Some(Input::PeerFailed(text!("the machine's answer was refused: ", describe(&e)))),
            }),
        );
    }

    /// Swaps what the input transceiver sends, without renegotiation.
    pub fn replace_track(&self, track: Option<JsValue>, sink: &Sink) {
        let Some(sender) = &self.input else { return };
        let track: Option<MediaStreamTrack> = track.map(|t| t.unchecked_into());
        when_settled(
            sink,
            &sender.replace_track(track.as_ref()),
            Box::new(|replaced| {
                if let Err(e) = replaced {
                    web_sys::console::warn_2(&"Reactor: replaceTrack failed".into(), &e);
                }
                None
            }),
        );
    }

    /// Reads the output receiver's `inbound-rtp` report.
    pub fn read_stats(&self, sink: &Sink) {
        let Some(receiver) = &self.output else { return };
        when_settled(
            sink,
            &receiver.get_stats(),
            Box::new(|report| {
                let report: js_sys::Map = report.ok()?.unchecked_into();
                let inbound = report.values().into_iter().flatten().find(|stats| {
                    Reflect::get(stats, &"type".into()).ok().and_then(|t| t.as_string()).as_deref()
                        == Some("inbound-rtp")
                })?;
                let field = |key: &str| Reflect::get(&inbound, &key.into()).ok().and_then(|v| v.as_f64());
                Some(Input::Stats { frames_decoded: field("framesDecoded")?, at_ms: field("timestamp")? })
            }),
        );
    }

    /// Bytes the `data` channel holds unsent.
    pub fn buffered(&self) -> usize {
        self.data.buffered_amount() as usize
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

/// createOffer, then setLocalDescription; the offer (or why there is none)
/// arrives at `sink`.
fn offer(pc: &RtcPeerConnection, transceivers: Vec<RtcRtpTransceiver>, sink: &Sink) {
    let (pc, next) = (pc.clone(), sink.clone());
    when_settled(
        sink,
        &pc.create_offer(),
        Box::new(move |made| {
            // A refused offer goes on to the last step, as a rejection.
            let set = match made {
                Ok(offer) => pc.set_local_description(offer.unchecked_ref()),
                Err(e) => Promise::reject(&e),
            };
            when_settled(
                &next,
                &set,
                Box::new(move |set| {
                    Some(match set {
                        // Read only now: the browser assigns mids in setLocalDescription.
                        Ok(_) => Input::OfferReady {
                            sdp: pc.local_description().map(|d| d.sdp()).unwrap_or_default(),
                            mids: transceivers.iter().map(|t| t.mid()).collect(),
                        },
                        Err(e) => Input::PeerFailed(text!("the browser could not make an offer: ", describe(&e))),
                    })
                }),
            );
            None
        }),
    );
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

fn candidate(event: &Event) -> Option<Input<JsValue>> {
    let event: &RtcPeerConnectionIceEvent = event.unchecked_ref();
    let candidate = event.candidate().filter(|c| !c.candidate().is_empty()).map(|c| IceCandidate {
        candidate: c.candidate(),
        sdp_mid: c.sdp_mid(),
        sdp_mline_index: c.sdp_m_line_index(),
    });
    Some(Input::LocalCandidate(candidate))
}

fn state(event: &Event) -> Option<Input<JsValue>> {
    let pc: RtcPeerConnection = event.target()?.unchecked_into();
    Some(Input::PeerState(match pc.connection_state() {
        RtcPeerConnectionState::New => PeerState::New,
        RtcPeerConnectionState::Connecting => PeerState::Connecting,
        RtcPeerConnectionState::Connected => PeerState::Connected,
        RtcPeerConnectionState::Disconnected => PeerState::Disconnected,
        RtcPeerConnectionState::Failed => PeerState::Failed,
        _ => PeerState::Closed,
    }))
}

fn track(event: &Event) -> Option<Input<JsValue>> {
    let track = event.unchecked_ref::<RtcTrackEvent>().track();
    (track.kind() == "video").then(|| Input::RemoteTrack(track.into()))
}

fn text_of(event: &Event) -> Option<String> {
    event.unchecked_ref::<MessageEvent>().data().as_string()
}

fn control_message(event: &Event) -> Option<Input<JsValue>> {
    from_text(&text_of(event)?).map(Input::Control)
}

fn data_message(event: &Event) -> Option<Input<JsValue>> {
    let message = parse(&text_of(event)?)?;
    let scope = match Reflect::get(&message, &"scope".into()).ok().and_then(|s| s.as_string()).as_deref() {
        Some("application") => Some(Scope::Application),
        Some("runtime") => Some(Scope::Runtime),
        _ => None,
    };
    let data = Reflect::get(&message, &"data".into()).unwrap_or(JsValue::UNDEFINED);
    Some(Input::DataMessage { scope, data })
}
