//! A full session against a simulated machine: token, hello, signaling
//! through the proxy, then a native WebRTC peer (str0m, as a browser would
//! be) on loopback exchanging data-channel messages and video.

mod common;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::*;
use reactor_protocol::runtime::{
    ControlMessage, ControlMethod, ControlRequest, ControlResponse, Envelope, NewConnection, Scope, SdpAnswer,
    SdpOffer, TrackDirection, TrackEvent, TrackKind, TrackMapping, TrackNotification, TrackRef, TypedMessage,
};
use reactor_server::video::codec::{Decoder, Encoder};
use reactor_server::video::Frame;
use reactor_server::{Config, ModelKind};
use serde_json::{json, Value};
use str0m::channel::ChannelId;
use str0m::format::Codec;
use str0m::media::MediaTime;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};

/// What the client peer saw.
#[derive(Default, Debug)]
struct Seen {
    data: Vec<Value>,
    control: Vec<ControlMessage>,
    frames: HashMap<Mid, usize>,
    /// Mean luma of each decoded output picture, when decoding is on.
    lumas: Vec<f64>,
}

struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    channels: HashMap<ChannelId, String>,
    decoder: Option<Decoder>,
}

impl Peer {
    fn send(&mut self, label: &str, text: &str) {
        let id = *self.channels.iter().find(|(_, l)| *l == label).expect("channel open").0;
        self.rtc.channel(id).unwrap().write(false, text.as_bytes()).unwrap();
    }

    /// Drives the connection until `done` says so or the deadline passes.
    fn run_until(
        &mut self,
        seen: &mut Seen,
        deadline: Instant,
        mut done: impl FnMut(&mut Peer, &Seen) -> bool,
    ) -> bool {
        let mut buf = vec![0u8; 2000];
        let local = self.socket.local_addr().unwrap();
        loop {
            let timeout = loop {
                match self.rtc.poll_output().expect("client peer healthy") {
                    Output::Timeout(t) => break t,
                    Output::Transmit(t) => {
                        self.socket.send_to(&t.contents, t.destination).unwrap();
                    }
                    Output::Event(event) => match event {
                        Event::ChannelOpen(id, label) => {
                            self.channels.insert(id, label);
                        }
                        Event::ChannelData(d) => {
                            let label = self.channels.get(&d.id).cloned().unwrap_or_default();
                            let text = String::from_utf8(d.data).unwrap();
                            if label == "data" {
                                seen.data.push(serde_json::from_str(&text).unwrap());
                            } else {
                                seen.control.push(serde_json::from_str(&text).unwrap());
                            }
                        }
                        Event::MediaData(m) => {
                            *seen.frames.entry(m.mid).or_default() += 1;
                            if let Some(decoder) = &mut self.decoder {
                                if let Ok(Some(frame)) = decoder.decode(&m.data) {
                                    seen.lumas.push(frame.mean_luma());
                                }
                            }
                        }
                        _ => {}
                    },
                }
            };
            if done(self, seen) {
                return true;
            }
            let now = Instant::now();
            if now > deadline || !self.rtc.is_alive() {
                return false;
            }
            let wait = timeout.min(now + Duration::from_millis(20)).saturating_duration_since(now);
            if wait.is_zero() {
                self.rtc.handle_input(Input::Timeout(Instant::now())).unwrap();
                continue;
            }
            self.socket.set_read_timeout(Some(wait)).unwrap();
            let input = match self.socket.recv_from(&mut buf) {
                Ok((n, source)) => Input::Receive(
                    Instant::now(),
                    Receive {
                        proto: Protocol::Udp,
                        source,
                        destination: local,
                        contents: buf[..n].try_into().unwrap(),
                    },
                ),
                Err(_) => Input::Timeout(Instant::now()),
            };
            self.rtc.handle_input(input).unwrap();
        }
    }
}

fn app(seen: &Seen, kind: &str) -> Vec<Value> {
    seen.data
        .iter()
        .filter(|m| m["scope"] == "application" && m["data"]["type"] == kind)
        .map(|m| m["data"]["data"].clone())
        .collect()
}

fn runtime(seen: &Seen, kind: &str) -> usize {
    seen.data.iter().filter(|m| m["scope"] == "runtime" && m["data"]["type"] == kind).count()
}

/// Signals through the coordinator's proxy and returns a connected-to-be peer
/// plus the mids of (input, output).
async fn connect(server_url: &str, session: &str, token: &str, with_input: bool) -> (Peer, Option<Mid>, Mid) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut rtc = Rtc::builder().clear_codecs().enable_vp8(true).enable_h264(true).build(Instant::now());
    rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
    let mut api = rtc.sdp_api();
    // Model input first, then output, as the SDK does.
    let input = with_input.then(|| api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None));
    let output = api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
    api.add_channel("data".into());
    api.add_channel("control".into());
    let (offer, pending) = api.apply().unwrap();

    let base = format!("{server_url}/sessions/{session}/transport/webrtc");
    let auth = format!("Bearer {token}");
    let created: NewConnection = http()
        .post(format!("{base}/connections"))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut mapping = vec![];
    if let Some(mid) = input {
        mapping.push(TrackMapping {
            mid: mid.to_string(),
            name: "webcam".into(),
            kind: TrackKind::Video,
            direction: TrackDirection::Sendonly,
        });
    }
    mapping.push(TrackMapping {
        mid: output.to_string(),
        name: "main_video".into(),
        kind: TrackKind::Video,
        direction: TrackDirection::Recvonly,
    });
    let sdp_url = format!("{base}/connections/{}/sdp_params", created.connection_id);
    let posted = http()
        .post(&sdp_url)
        .header("Authorization", &auth)
        .json(&SdpOffer { sdp_offer: offer.to_sdp_string(), track_mapping: mapping, client_info: None })
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);
    let answer = tokio::time::timeout(SOON, async {
        loop {
            let polled = http().get(&sdp_url).header("Authorization", &auth).send().await.unwrap();
            if polled.status() == 200 {
                return polled.json::<SdpAnswer>().await.unwrap();
            }
            assert_eq!(polled.status(), 202);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("an answer in time");
    assert!(answer.sdp_answer.contains("127.0.0.1"), "a loopback host candidate in the answer");
    let parsed = str0m::change::SdpAnswer::from_sdp_string(&answer.sdp_answer).unwrap();
    rtc.sdp_api().accept_answer(pending, parsed).unwrap();
    (Peer { rtc, socket, channels: HashMap::new(), decoder: None }, input, output)
}

fn envelope(scope: Scope, kind: &str, data: Value) -> String {
    serde_json::to_string(&Envelope { scope, data: TypedMessage { kind: kind.into(), data } }).unwrap()
}

#[tokio::test]
async fn data_and_control_channels_work_end_to_end() {
    let server = start(Config::for_tests()).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "echo", true).await;
    let session = client.expect_assigned().await;
    let (mut peer, _, _) = connect(&server.url(), &session, &token, true).await;

    let seen = tokio::task::spawn_blocking(move || {
        let mut seen = Seen::default();
        let deadline = Instant::now() + SOON;
        let open = peer.run_until(&mut seen, deadline, |p, _| p.channels.len() == 2);
        assert!(open, "both data channels open");
        peer.send("data", &envelope(Scope::Runtime, "ping", Value::Null));
        peer.send("data", &envelope(Scope::Runtime, "requestSchema", Value::Null));
        peer.send("data", &envelope(Scope::Application, "hello", json!({"n": 1})));
        peer.send("data", &envelope(Scope::Application, "set_brightness", json!({"brightness": 0.25})));
        let request = ControlMessage::Request(ControlRequest {
            method: ControlMethod::PublishTrack,
            request_id: "r1".into(),
            data: TrackRef { name: "webcam".into() },
        });
        peer.send("control", &serde_json::to_string(&request).unwrap());
        let done = peer.run_until(&mut seen, deadline, |_, s| {
            runtime(s, "modelSchema") == 1 && app(s, "echo").len() == 2 && !s.control.is_empty()
        });
        assert!(done, "answers arrived: {seen:?}");
        seen
    })
    .await
    .unwrap();

    assert_eq!(app(&seen, "echo")[0], json!({"type":"hello","data":{"n":1}}));
    assert_eq!(app(&seen, "brightness_set"), vec![json!({"brightness": 0.25})]);
    assert!(matches!(
        &seen.control[0],
        ControlMessage::Response(ControlResponse { request_id, error: None, .. }) if request_id == "r1"
    ));
    client.leave().await;
    server.shutdown().await;
}

#[tokio::test]
async fn generator_video_starts_paused_and_flows_after_resume() {
    let server = start(Config { machines: vec![(ModelKind::Generator, 1)], ..Config::for_tests() }).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "generator", true).await;
    let session = client.expect_assigned().await;
    let (mut peer, _, output) = connect(&server.url(), &session, &token, false).await;

    tokio::task::spawn_blocking(move || {
        let mut seen = Seen::default();
        let deadline = Instant::now() + SOON;
        assert!(peer.run_until(&mut seen, deadline, |p, _| p.channels.len() == 2));
        // Paused: a second with no frames, but progress messages.
        let quiet = Instant::now() + Duration::from_millis(1200);
        peer.run_until(&mut seen, quiet, |_, _| false);
        assert_eq!(seen.frames.get(&output), None, "no frames before resume_track");
        let resume = ControlMessage::Notification(TrackNotification {
            event: TrackEvent::ResumeTrack,
            data: TrackRef { name: "main_video".into() },
        });
        peer.send("control", &serde_json::to_string(&resume).unwrap());
        let flowing = peer.run_until(&mut seen, deadline, |_, s| s.frames.get(&output).copied().unwrap_or(0) >= 30);
        assert!(flowing, "frames after resume: {:?}", seen.frames);
        assert!(!app(&seen, "progress").is_empty(), "progress messages");
    })
    .await
    .unwrap();
    client.leave().await;
    server.shutdown().await;
}

#[tokio::test]
async fn echo_returns_the_webcam_transformed_by_commands() {
    let server = start(Config::for_tests()).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "echo", true).await;
    let session = client.expect_assigned().await;
    let (mut peer, input, output) = connect(&server.url(), &session, &token, true).await;
    let input = input.unwrap();
    peer.decoder = Some(Decoder::new(Codec::H264).unwrap());

    tokio::task::spawn_blocking(move || {
        let mut seen = Seen::default();
        let deadline = Instant::now() + SOON;
        assert!(peer.run_until(&mut seen, deadline, |p, _| p.channels.len() == 2));
        let resume = ControlMessage::Notification(TrackNotification {
            event: TrackEvent::ResumeTrack,
            data: TrackRef { name: "main_video".into() },
        });
        peer.send("control", &serde_json::to_string(&resume).unwrap());

        // A light grey "webcam" at luma 200, sent as H.264 at about 30 fps.
        let mut encoder = Encoder::new(Codec::H264, 160, 120, Duration::from_millis(33)).unwrap();
        let picture = Frame::filled(160, 120, (200, 128, 128));
        let started = Instant::now();
        let mut sent = 0u64;
        let mut next_send = Instant::now();
        let mut send_frames = |p: &mut Peer| {
            if Instant::now() < next_send {
                return;
            }
            next_send += Duration::from_millis(33);
            let Some(data) = encoder.encode(&picture, sent.is_multiple_of(30)).unwrap() else { return };
            let writer = p.rtc.writer(input).expect("input writer");
            let pt = writer.payload_params().find(|x| x.spec().codec == Codec::H264).expect("H.264 negotiated").pt();
            let time = MediaTime::from_micros(started.elapsed().as_micros() as u64);
            writer.write(pt, Instant::now(), time, data).unwrap();
            sent += 1;
        };
        let near = |l: f64, target: f64| (l - target).abs() < 12.0;
        let got = peer.run_until(&mut seen, deadline, |p, s| {
            send_frames(p);
            s.lumas.iter().filter(|&&l| near(l, 200.0)).count() >= 5
        });
        assert!(got, "echoed frames at the input's brightness: {:?}", seen.lumas);

        peer.send("data", &envelope(Scope::Application, "set_brightness", json!({"brightness": -0.5})));
        let got = peer.run_until(&mut seen, deadline, |p, s| {
            send_frames(p);
            s.lumas.iter().filter(|&&l| near(l, 72.0)).count() >= 5
        });
        assert!(got, "darker frames after set_brightness: {:?}", &seen.lumas[seen.lumas.len().saturating_sub(10)..]);
        assert_eq!(app(&seen, "brightness_set"), vec![json!({"brightness": -0.5})]);

        peer.send("data", &envelope(Scope::Application, "set_invert", json!({"invert": true})));
        let got = peer.run_until(&mut seen, deadline, |p, s| {
            send_frames(p);
            s.lumas.iter().filter(|&&l| near(l, 255.0 - 72.0)).count() >= 5 && !app(s, "invert_set").is_empty()
        });
        assert!(got, "inverted frames after set_invert, and its confirmation: {:?}", seen.data);
        assert_eq!(app(&seen, "invert_set"), vec![json!({"invert": true})]);
        assert!(seen.frames.get(&output).copied().unwrap_or(0) >= 15, "{:?}", seen.frames);
        eprintln!("echo: {} frames back in {:?}", seen.lumas.len(), started.elapsed());
    })
    .await
    .unwrap();
    client.leave().await;
    server.shutdown().await;
}
