//! The browser's RTCPeerConnection for one machine connection, with its
//! transceivers, the `data` and `control` channels and every listener.
//! Dropping a [`Peer`] closes all of it and detaches every callback.

use gloo_events::EventListener;
use js_sys::{JsString, Reflect};
use reactor_protocol::runtime::{
    Envelope, IceCandidate, MediaStats, Scope, CONTROL_CHANNEL, DATA_CHANNEL, MEDIA_STATS,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Event, MediaStreamTrack, MessageEvent, RtcConfiguration, RtcDataChannel, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpReceiver, RtcRtpSender, RtcRtpTransceiver,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use crate::core::{Channel, Input, PeerFailure, PeerPlan, PeerState, PromiseId, SEND_BUFFER_LOW};

use super::json::{decode, describe, parse, to_js, Opaque};
use super::sink::{listen, Sink};
use super::stats;

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
    /// The model's first output, whose statistics give `fps` and `stats`.
    output: Option<RtcRtpReceiver>,
    /// Where this peer's events and tasks go, tagged with the peer.
    sink: Sink,
    _listeners: Vec<EventListener>,
}

impl Peer {
    /// Builds the connection as planned and starts the offer; the offer
    /// and everything after arrive at `sink`.
    pub fn create(plan: &PeerPlan, sink: &Sink) -> Result<Peer, JsValue> {
        let config = RtcConfiguration::new();
        // The coordinator's ICE servers are already in the browser's shape.
        config.set_ice_servers(&to_js(&plan.ice_servers));
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
        data.set_buffered_amount_low_threshold(SEND_BUFFER_LOW as u32);
        let control = pc.create_data_channel(CONTROL_CHANNEL);
        let listeners = vec![
            listen(&pc, "icecandidate", sink, candidate),
            listen(&pc, "connectionstatechange", sink, state),
            listen(&pc, "track", sink, track),
            listen(&data, "open", sink, |_| Some(Input::ChannelOpen(Channel::Data))),
            listen(&data, "close", sink, |_| Some(Input::ChannelClosed(Channel::Data))),
            listen(&data, "message", sink, data_message),
            listen(&data, "bufferedamountlow", sink, |_| Some(Input::SendBufferLow)),
            listen(&control, "open", sink, |_| Some(Input::ChannelOpen(Channel::Control))),
            listen(&control, "close", sink, |_| Some(Input::ChannelClosed(Channel::Control))),
            listen(&control, "message", sink, control_message),
        ];
        // Inputs, then outputs: the first of each, if the model has one.
        let input = transceivers.first().filter(|_| !plan.send.is_empty()).map(|t| t.sender());
        let output = transceivers.get(plan.send.len()).map(|t| t.receiver());
        offer(&pc, transceivers, sink);
        Ok(Peer { pc, data, control, input, output, sink: sink.clone(), _listeners: listeners })
    }

    pub fn sink(&self) -> &Sink {
        &self.sink
    }

    /// What the input transceiver sends now (JS `null` when nothing).
    pub fn sent_track(&self) -> Option<JsValue> {
        self.input.as_ref()?.track().map(JsValue::from)
    }

    pub fn set_answer(&self, sdp: String) {
        let answer = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        answer.set_sdp(&sdp);
        let (pc, sink) = (self.pc.clone(), self.sink.clone());
        spawn_local(async move {
            match JsFuture::from(pc.set_remote_description(&answer)).await {
                Ok(_) => {
                    if let Some(size) = max_message_size(&pc) {
                        sink.push(Input::MaxMessageSize(size));
                    }
                }
                Err(e) => sink.push(Input::PeerFailed(PeerFailure::Answer(describe(&e)))),
            }
        });
    }

    /// Swaps what the input transceiver sends, without renegotiation.
    pub fn replace_track(&self, track: Option<JsValue>) {
        let Some(sender) = &self.input else { return };
        let track: Option<MediaStreamTrack> = track.map(|t| t.unchecked_into());
        let replaced = JsFuture::from(sender.replace_track(track.as_ref()));
        spawn_local(async move {
            if let Err(e) = replaced.await {
                web_sys::console::warn_2(&"Reactor: replaceTrack failed".into(), &e);
            }
        });
    }

    /// Reads the connection's statistics, the model video's among them.
    pub fn read_stats(&self, promise: Option<PromiseId>) {
        let track = self.output.as_ref().map(|receiver| receiver.track().id());
        stats::read(&self.pc, track, &self.sink, promise);
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
    let (pc, sink) = (pc.clone(), sink.clone());
    spawn_local(async move {
        let input = match make_offer(&pc).await {
            // Read only now: the browser assigns mids in setLocalDescription.
            Ok(sdp) => Input::OfferReady { sdp, mids: transceivers.iter().map(|t| t.mid()).collect() },
            Err(e) => Input::PeerFailed(PeerFailure::Offer(describe(&e))),
        };
        sink.push(input);
    });
}

async fn make_offer(pc: &RtcPeerConnection) -> Result<String, JsValue> {
    let offer = JsFuture::from(pc.create_offer()).await?;
    JsFuture::from(pc.set_local_description(offer.unchecked_ref())).await?;
    Ok(pc.local_description().map(|d| d.sdp()).unwrap_or_default())
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

/// A channel message, parsed where it is (the text stays in JS).
fn parsed(event: &Event) -> Option<JsValue> {
    parse(&event.unchecked_ref::<MessageEvent>().data()).ok()
}

/// A runtime sends the client only responses; anything else, or a response
/// the SDK cannot read, is not for it (a newer runtime's).
fn control_message(event: &Event) -> Option<Input<JsValue>> {
    let message = parsed(event)?;
    let kind = stats::text(&message, "type")?;
    (kind == "response").then(|| decode(message).ok().map(Input::ControlResponse))?
}

/// The envelope is decoded; the app's `data` stays a JS value.
fn data_message(event: &Event) -> Option<Input<JsValue>> {
    let Envelope { scope, data: Opaque(data) } = decode(parsed(event)?).ok()?;
    // Read as control messages are: the tag first, then only its body's struct.
    if scope == Scope::Runtime && stats::text(&data, "type").as_deref() == Some(MEDIA_STATS) {
        let body = Reflect::get(&data, &"data".into()).ok()?;
        return decode::<MediaStats>(body).ok()?.video.map(|video| Input::RuntimeQos(video.aggregate_qos));
    }
    Some(Input::DataMessage { scope: Some(scope), data })
}
