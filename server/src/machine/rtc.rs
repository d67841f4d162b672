//! One WebRTC connection: a thread that owns a str0m `Rtc` and its UDP
//! socket, drives the data channels, the ping timeout, and the model's video.
//!
//! A thread per connection (not a task) because encoding and decoding are
//! CPU work that must not stall the machine's HTTP side.

use std::collections::{HashMap, HashSet};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reactor_protocol::runtime::{
    ControlMessage, ControlRequest, ControlResponse, Empty, Envelope, MediaStats, RuntimeMessage, Scope, SdpOffer,
    TrackDirection, TrackEvent, TrackNotification, TypedMessage, VideoQos, CONTROL_CHANNEL, DATA_CHANNEL, MEDIA_STATS,
    MODEL_SCHEMA, PING_TIMEOUT_MS,
};
use serde::Serialize;
use serde_json::Value;
use str0m::channel::ChannelId;
use str0m::media::{KeyframeRequestKind, MediaData, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::sync::oneshot;

use super::backlog::{Backlog, SCTP_SEND_BUFFER};
use super::models::{Model, Outbox};
use crate::video::codec::{Decoder, Encoder};

/// How often the runtime pushes `mediaStats`.
const STATS_EVERY: Duration = Duration::from_secs(5);
/// Upper bound on how long the loop sleeps, so commands are seen quickly.
const MAX_IDLE: Duration = Duration::from_millis(20);
/// Silence from the browser after which the next frame is a keyframe. A
/// browser receiving our video sends RTCP at least about every second, so
/// this long without a packet means the path was down: the frames sent
/// meanwhile are lost, and so may be Chromium's request for a keyframe (it
/// asks 3 s into a stall, then every 3 s). reactor-runtime 2.10.1's video
/// comes back with the path after such a gap without a new request
/// (tests/runtime/recovery.test.mjs); so does ours.
const SILENCE_BEFORE_KEYFRAME: Duration = Duration::from_secs(2);

pub(crate) enum RtcCmd {
    /// A new offer on a live connection (`PUT sdp_params`, the runtime's
    /// reconnect): as the runtime does, it gets a new transport (socket,
    /// DTLS certificate, SCTP association) while the model and its state
    /// carry on.
    Offer {
        offer: SdpOffer,
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// A trickled remote candidate line.
    Candidate(String),
    Close,
}

pub(crate) struct RtcHandle {
    tx: Sender<RtcCmd>,
    alive: Arc<AtomicBool>,
}

impl RtcHandle {
    pub fn send(&self, cmd: RtcCmd) {
        let _ = self.tx.send(cmd);
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }
}

/// Starts the connection's thread; the SDP answer (or why there is none)
/// arrives on `reply`.
pub(crate) fn spawn(
    connection_id: String,
    offer: SdpOffer,
    candidates: Vec<String>,
    model: Box<dyn Model>,
    fps: u32,
    reply: oneshot::Sender<Result<String, String>>,
) -> RtcHandle {
    let (tx, rx) = mpsc::channel();
    let alive = Arc::new(AtomicBool::new(true));
    let flag = alive.clone();
    let name = format!("rtc-{connection_id}");
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let span = tracing::info_span!("rtc", connection = connection_id);
        let _enter = span.enter();
        match Peer::accept(offer, candidates, model, fps) {
            Ok((mut peer, answer)) => {
                let _ = reply.send(Ok(answer));
                tracing::info!(local = %peer.local, "answer ready");
                let reason = peer.run(rx);
                tracing::info!(reason, "connection closed");
            }
            Err(error) => {
                let _ = reply.send(Err(error));
            }
        }
        flag.store(false, Ordering::SeqCst);
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "could not start a connection thread");
        alive.store(false, Ordering::SeqCst);
    }
    RtcHandle { tx, alive }
}

struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    model: Box<dyn Model>,
    /// What each negotiated mid carries, from `track_mapping`.
    tracks: HashMap<Mid, (String, TrackDirection)>,
    channels: HashMap<ChannelId, String>,
    /// Messages waiting for room in the SCTP send buffer.
    backlog: Backlog,
    /// Output tracks that have not been resumed (all start paused).
    paused: HashSet<String>,
    last_ping: Instant,
    frame_period: Duration,
    next_frame: Instant,
    next_stats: Instant,
    next_second: Instant,
    frames_in: u64,
    frames_out: u64,
    decoder: Option<Decoder>,
    encoder: Option<Encoder>,
    want_keyframe: bool,
    last_keyframe_request: Option<Instant>,
    /// When the last packet from the browser arrived.
    last_heard: Instant,
    started: Instant,
}

fn str0m_offer(offer: &SdpOffer) -> Result<str0m::change::SdpOffer, String> {
    str0m::change::SdpOffer::from_sdp_string(&offer.sdp_offer).map_err(|e| format!("unreadable SDP offer: {e}"))
}

impl Peer {
    fn accept(
        offer: SdpOffer,
        candidates: Vec<String>,
        model: Box<dyn Model>,
        fps: u32,
    ) -> Result<(Peer, String), String> {
        let (rtc, socket, local, answer) = transport(&offer, candidates)?;
        let now = Instant::now();
        let mut peer = Peer {
            rtc,
            socket,
            local,
            model,
            tracks: HashMap::new(),
            channels: HashMap::new(),
            backlog: Backlog::default(),
            paused: HashSet::new(),
            last_ping: now,
            frame_period: Duration::from_secs_f64(1.0 / fps as f64),
            next_frame: now,
            next_stats: now + STATS_EVERY,
            next_second: now + Duration::from_secs(1),
            frames_in: 0,
            frames_out: 0,
            decoder: None,
            encoder: None,
            want_keyframe: true,
            last_keyframe_request: None,
            last_heard: now,
            started: now,
        };
        peer.map_tracks(&offer);
        Ok((peer, answer))
    }

    /// Swaps in a new transport for `offer`; what the old one carried
    /// (channels, paused outputs, the decoder's stream) starts over.
    fn replace(&mut self, offer: &SdpOffer) -> Result<String, String> {
        let (rtc, socket, local, answer) = transport(offer, Vec::new())?;
        self.rtc.disconnect();
        (self.rtc, self.socket, self.local) = (rtc, socket, local);
        self.tracks.clear();
        self.channels.clear();
        // Replies waiting for the old association's buffer go with it.
        self.backlog = Backlog::default();
        self.paused.clear();
        self.map_tracks(offer);
        self.decoder = None;
        self.want_keyframe = true;
        self.last_ping = Instant::now();
        tracing::info!(local = %self.local, "connection replaced by a new offer");
        Ok(answer)
    }

    fn map_tracks(&mut self, offer: &SdpOffer) {
        for mapping in &offer.track_mapping {
            let mid = Mid::from(mapping.mid.as_str());
            if mapping.direction == TrackDirection::Recvonly && !self.tracks.contains_key(&mid) {
                self.paused.insert(mapping.name.clone());
            }
            self.tracks.insert(mid, (mapping.name.clone(), mapping.direction));
        }
    }

    /// Runs until the peer goes away; returns why.
    fn run(&mut self, commands: Receiver<RtcCmd>) -> &'static str {
        let mut buf = vec![0u8; 2000];
        loop {
            loop {
                match commands.try_recv() {
                    Ok(RtcCmd::Close) | Err(TryRecvError::Disconnected) => {
                        self.rtc.disconnect();
                        return "closed by the machine";
                    }
                    Ok(RtcCmd::Candidate(line)) => add_remote(&mut self.rtc, &line),
                    Ok(RtcCmd::Offer { offer, reply }) => {
                        let _ = reply.send(self.replace(&offer));
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }

            self.backlog.flush(&mut self.rtc);
            let timeout = match self.drain() {
                Ok(timeout) => timeout,
                Err(reason) => return reason,
            };
            let now = Instant::now();
            if now.duration_since(self.last_ping) > Duration::from_millis(PING_TIMEOUT_MS as u64) {
                self.rtc.disconnect();
                return "no ping within the timeout";
            }
            if now >= self.next_stats {
                self.next_stats = now + STATS_EVERY;
                self.send_stats(now);
            }
            if now >= self.next_second {
                self.next_second = now + Duration::from_secs(1);
                if self.connected() {
                    let mut out = Outbox::new();
                    self.model.every_second(self.frames_out, &mut out);
                    self.send_application(out);
                }
            }
            if now >= self.next_frame {
                // Skip missed ticks instead of bursting to catch up.
                while self.next_frame <= now {
                    self.next_frame += self.frame_period;
                }
                self.emit_frame(now);
            }

            let wake = timeout.min(self.next_frame).min(self.next_stats).min(now + MAX_IDLE);
            let wait = wake.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                if self.rtc.handle_input(Input::Timeout(Instant::now())).is_err() {
                    return "WebRTC error on timeout";
                }
                continue;
            }
            let _ = self.socket.set_read_timeout(Some(wait));
            buf.resize(2000, 0);
            let input = match self.socket.recv_from(&mut buf) {
                Ok((n, source)) => {
                    let now = Instant::now();
                    self.heard(now);
                    let Ok(contents) = buf[..n].try_into() else { continue };
                    Input::Receive(now, Receive { proto: Protocol::Udp, source, destination: self.local, contents })
                }
                // Interrupted: a socket with a read timeout returns EINTR when
                // the process is stopped and continued (SIGSTOP, SIGCONT; see
                // signal(7)), with no handler involved. A machine that was
                // frozen for a moment carries on, as the runtime does.
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {
                    Input::Timeout(Instant::now())
                }
                Err(error) => {
                    tracing::warn!(%error, "socket error");
                    return "socket error";
                }
            };
            if let Err(error) = self.rtc.handle_input(input) {
                tracing::debug!(%error, "input refused");
            }
        }
    }

    fn heard(&mut self, now: Instant) {
        if now.duration_since(self.last_heard) >= SILENCE_BEFORE_KEYFRAME {
            self.want_keyframe = true;
        }
        self.last_heard = now;
    }

    fn connected(&self) -> bool {
        self.channels.values().any(|label| label == DATA_CHANNEL)
    }

    /// Sends what str0m wants sent and handles its events, until it only
    /// waits for time or input.
    fn drain(&mut self) -> Result<Instant, &'static str> {
        loop {
            if !self.rtc.is_alive() {
                return Err("peer connection ended");
            }
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => return Ok(at),
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(event)) => {
                    if let Some(reason) = self.on_event(event) {
                        return Err(reason);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "WebRTC failure");
                    return Err("WebRTC failure");
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) -> Option<&'static str> {
        match event {
            // Usually transient (a burst of lost packets, a stalled peer):
            // ICE keeps checking and comes back by itself. A peer that is
            // really gone stops pinging, and the ping timeout ends it.
            Event::IceConnectionStateChange(state) => tracing::debug!(?state, "ICE"),
            Event::Connected => tracing::info!(after = ?self.started.elapsed(), "DTLS connected"),
            Event::ChannelOpen(id, label) => {
                tracing::info!(label, "data channel open");
                if label == DATA_CHANNEL {
                    // The ping clock starts when the client can ping.
                    self.last_ping = Instant::now();
                }
                self.channels.insert(id, label);
            }
            Event::ChannelClose(id) => {
                self.channels.remove(&id);
            }
            Event::ChannelData(data) => {
                let label = self.channels.get(&data.id).cloned().unwrap_or_default();
                match std::str::from_utf8(&data.data) {
                    Ok(text) if label == DATA_CHANNEL => self.on_data(text),
                    Ok(text) if label == CONTROL_CHANNEL => self.on_control(text),
                    _ => tracing::debug!(label, "ignored a message"),
                }
            }
            Event::MediaData(media) => self.on_media(media),
            Event::KeyframeRequest(_) => self.want_keyframe = true,
            _ => {}
        }
        None
    }

    fn send_on(&mut self, label: &str, text: &str) {
        let Some(id) = self.channels.iter().find(|(_, l)| *l == label).map(|(id, _)| *id) else { return };
        self.backlog.send(&mut self.rtc, id, text.to_string());
    }

    fn send_application(&mut self, out: Outbox) {
        for message in out {
            let envelope = Envelope { scope: Scope::Application, data: message };
            let text = serde_json::to_string(&envelope).expect("serializable");
            self.send_on(DATA_CHANNEL, &text);
        }
    }

    fn send_runtime(&mut self, kind: &str, data: impl Serialize) {
        let envelope = Envelope { scope: Scope::Runtime, data: TypedMessage { kind: kind.to_string(), data } };
        let text = serde_json::to_string(&envelope).expect("serializable");
        self.send_on(DATA_CHANNEL, &text);
    }

    fn send_stats(&mut self, now: Instant) {
        if !self.connected() {
            return;
        }
        // The runtime's shape: a 0..10 quality score. Ours: the share of the
        // intended frame rate actually sent.
        let seconds = now.duration_since(self.started).as_secs_f64().max(0.001);
        let intended = seconds / self.frame_period.as_secs_f64();
        let qos = (self.frames_out as f64 / intended * 10.0).round().clamp(0.0, 10.0);
        let stats = MediaStats { video: Some(VideoQos { aggregate_qos: qos }) };
        self.send_runtime(MEDIA_STATS, stats);
    }

    fn on_data(&mut self, text: &str) {
        let Ok(envelope) = serde_json::from_str::<Envelope<Value>>(text) else {
            tracing::debug!("not an envelope on the data channel");
            return;
        };
        match envelope.scope {
            Scope::Runtime => match serde_json::from_value::<RuntimeMessage>(envelope.data) {
                Ok(RuntimeMessage::Ping) => self.last_ping = Instant::now(),
                Ok(RuntimeMessage::RequestSchema) => {
                    // As the runtime: the same OpenAPI document as the descriptor's `schema`.
                    let schema = self.model.kind().schema();
                    self.send_runtime(MODEL_SCHEMA, schema);
                }
                _ => {}
            },
            Scope::Application => {
                let mut out = Outbox::new();
                self.model.on_message(&envelope.data, &mut out);
                self.send_application(out);
            }
        }
    }

    fn on_control(&mut self, text: &str) {
        let Ok(message) = serde_json::from_str::<ControlMessage>(text) else {
            tracing::debug!(text, "unreadable control message");
            return;
        };
        match message {
            ControlMessage::Notification(TrackNotification { event, data }) => match event {
                TrackEvent::ResumeTrack => {
                    tracing::info!(track = data.name, "output resumed");
                    self.paused.remove(&data.name);
                    self.want_keyframe = true;
                }
                TrackEvent::PauseTrack => {
                    self.paused.insert(data.name);
                }
                TrackEvent::UnpublishTrack => tracing::debug!(track = data.name, "input unpublished"),
            },
            ControlMessage::Request(ControlRequest { method, request_id, data }) => {
                tracing::debug!(track = data.name, "input published");
                let answer =
                    ControlMessage::Response(ControlResponse { method, request_id, data: Empty {}, error: None });
                let text = serde_json::to_string(&answer).expect("serializable");
                self.send_on(CONTROL_CHANNEL, &text);
            }
            ControlMessage::Response(_) => {}
        }
    }

    fn on_media(&mut self, media: MediaData) {
        let Some((_, TrackDirection::Sendonly)) = self.tracks.get(&media.mid) else { return };
        self.frames_in += 1;
        if !media.contiguous {
            self.request_keyframe(media.mid);
        }
        let codec = media.params.spec().codec;
        let decoder = match &mut self.decoder {
            Some(d) if d.codec() == codec => d,
            _ => match Decoder::new(codec) {
                Ok(d) => self.decoder.insert(d),
                Err(error) => {
                    tracing::warn!(%error, ?codec, "cannot decode the input");
                    return;
                }
            },
        };
        match decoder.decode(&media.data) {
            Ok(Some(frame)) => self.model.on_input(frame),
            Ok(None) => {}
            Err(error) => {
                tracing::debug!(%error, "decode failed; asking for a keyframe");
                self.request_keyframe(media.mid);
            }
        }
    }

    fn request_keyframe(&mut self, mid: Mid) {
        let recent = self.last_keyframe_request.is_some_and(|t| t.elapsed() < Duration::from_millis(500));
        if recent {
            return;
        }
        if let Some(mut writer) = self.rtc.writer(mid) {
            let _ = writer.request_keyframe(None, KeyframeRequestKind::Pli);
            self.last_keyframe_request = Some(Instant::now());
        }
    }

    fn emit_frame(&mut self, now: Instant) {
        let Some((mid, name)) = self
            .tracks
            .iter()
            .find(|(_, (_, dir))| *dir == TrackDirection::Recvonly)
            .map(|(mid, (name, _))| (*mid, name.clone()))
        else {
            return;
        };
        if self.paused.contains(&name) {
            return;
        }
        let Some(writer) = self.rtc.writer(mid) else { return };
        // Encode in whatever the browser accepted for this line, if we can.
        // Prefer packetization mode 1 (mode 0 cannot split large frames),
        // then a baseline profile, which is what the encoder produces.
        let Some((pt, codec)) = writer
            .payload_params()
            .filter(|p| Encoder::supports(p.spec().codec))
            .max_by_key(|p| {
                let format = &p.spec().format;
                let baseline = format.profile_level_id.is_some_and(|id| id >> 16 == 0x42);
                (format.packetization_mode == Some(1), baseline)
            })
            .map(|p| (p.pt(), p.spec().codec))
        else {
            return;
        };
        let Some(frame) = self.model.render(self.frames_out) else { return };
        let encoder = match &mut self.encoder {
            Some(e) if e.codec() == codec && e.size() == (frame.width, frame.height) => e,
            _ => match Encoder::new(codec, frame.width, frame.height, self.frame_period) {
                Ok(e) => {
                    self.want_keyframe = true;
                    self.encoder.insert(e)
                }
                Err(error) => {
                    tracing::warn!(%error, ?codec, "cannot encode the output");
                    return;
                }
            },
        };
        let keyframe = std::mem::take(&mut self.want_keyframe);
        let data = match encoder.encode(&frame, keyframe) {
            Ok(Some(data)) => data,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "encode failed");
                return;
            }
        };
        let rtp_time = str0m::media::MediaTime::from_micros(now.duration_since(self.started).as_micros() as u64);
        let Some(writer) = self.rtc.writer(mid) else { return };
        match writer.write(pt, now, rtp_time, data) {
            Ok(()) => self.frames_out += 1,
            Err(error) => tracing::debug!(%error, "frame not written"),
        }
    }
}

/// A new WebRTC transport answering `offer`: loopback only, one host
/// candidate on 127.0.0.1, no STUN, no mDNS. Returns it with its socket,
/// address and answer.
fn transport(offer: &SdpOffer, candidates: Vec<String>) -> Result<(Rtc, UdpSocket, SocketAddr, String), String> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let mut rtc = Rtc::builder()
        .clear_codecs()
        // Only what the codec module both decodes and encodes, so the
        // browser has to send and receive exactly that.
        .enable_h264(true)
        .set_sctp_max_buffered_amount(SCTP_SEND_BUFFER)
        .build(Instant::now());
    let candidate = Candidate::host(local, "udp").map_err(|e| e.to_string())?;
    rtc.add_local_candidate(candidate);
    for line in candidates {
        add_remote(&mut rtc, &line);
    }
    let parsed = str0m_offer(offer)?;
    let answer = rtc.sdp_api().accept_offer(parsed).map_err(|e| format!("offer refused: {e}"))?;
    Ok((rtc, socket, local, answer.to_sdp_string()))
}

fn add_remote(rtc: &mut Rtc, line: &str) {
    let line = line.trim().trim_start_matches("a=");
    match Candidate::from_sdp_string(line) {
        Ok(candidate) => rtc.add_remote_candidate(candidate),
        Err(error) => tracing::debug!(%error, line, "remote candidate ignored"),
    }
}
