//! Drives a [`Session`] the way the web shell would and records what it asks for.

use reactor_protocol::coordinator::{Assigned, ErrorBody, IceServer, ServerFrame, TokenResponse};
use reactor_protocol::runtime::{Capabilities, ConnectionId, SdpAnswer, TrackDirection, TrackInfo, TrackKind};
use reactor_protocol::ErrorCode;

use crate::core::*;

pub type A = Action<String>;

pub const NOW: f64 = 1_700_000_000_000.0;
pub const URL: &str = "http://coord.test";

pub fn options() -> Options {
    Options {
        model_name: "echo".into(),
        api_key: "key-1".into(),
        queueing: true,
        coordinator_url: URL.into(),
        fallback_urls: Vec::new(),
        development: false,
        local: false,
        validate_messages: false,
        reconnect: DEFAULT_RECONNECT_DELAYS_MS.to_vec(),
    }
}

pub struct Driver {
    pub session: Session<String>,
}

impl Driver {
    pub fn new() -> Self {
        Driver { session: Session::new(options()) }
    }

    pub fn with(options: Options) -> Self {
        Driver { session: Session::new(options) }
    }

    /// `reconnect: false`: a dropped machine link ends the session.
    pub fn without_reconnect() -> Self {
        Driver::with(Options { reconnect: Vec::new(), ..options() })
    }

    /// Every action queued so far.
    pub fn drain(&mut self) -> Vec<A> {
        std::iter::from_fn(|| self.session.poll_action()).collect()
    }

    pub fn input(&mut self, input: Input<String>) -> Vec<A> {
        let generation = self.session.generation();
        self.session.handle(NOW, generation, input);
        self.drain()
    }

    pub fn connect(&mut self) -> Vec<A> {
        assert!(matches!(self.session.connect(NOW), Outcome::Pending(_)), "connect accepted");
        self.drain()
    }

    pub fn http(&mut self, purpose: Purpose, status: u16, reply: Reply) -> Vec<A> {
        self.input(Input::Http { purpose, result: HttpResult::Answered { status, reply } })
    }

    pub fn token(&mut self) -> Vec<A> {
        let token = TokenResponse { token: "tok-1".into(), expires_in: 60 };
        self.http(Purpose::Token, 200, Reply::Token(token))
    }

    pub fn frame(&mut self, frame: ServerFrame) -> Vec<A> {
        self.input(Input::SocketFrame(frame, None))
    }

    pub fn assigned(&mut self) -> Vec<A> {
        self.frame(ServerFrame::Assigned(Assigned {
            session_id: "s-1".into(),
            model: reactor_protocol::coordinator::ModelInfo { name: "echo".into() },
            capabilities: echo_capabilities(),
            ice_servers: vec![IceServer { urls: vec!["stun:127.0.0.1:3478".into()], username: None, credential: None }],
            resume: None,
            schema: None,
        }))
    }

    /// From idle to the moment the machine is assigned.
    pub fn reach_assigned(&mut self) -> Vec<A> {
        let mut all = self.connect();
        all.extend(self.token());
        all.extend(self.input(Input::SocketOpen));
        all.extend(self.assigned());
        all
    }

    /// From assigned to the answer applied.
    pub fn signal(&mut self) -> Vec<A> {
        let mut all = self.http(Purpose::RegisterConnection, 201, Reply::Connection(conn()));
        all.extend(self.input(offer_ready()));
        all.extend(self.http(Purpose::PostOffer, 202, Reply::Connection(conn())));
        all.extend(self.http(Purpose::GetAnswer, 200, Reply::Answer(answer())));
        all
    }

    pub fn up(&mut self) -> Vec<A> {
        let mut all = self.input(Input::PeerState(PeerState::Connected));
        all.extend(self.input(Input::ChannelOpen(Channel::Data)));
        all.extend(self.input(Input::ChannelOpen(Channel::Control)));
        all
    }

    pub fn reach_ready(&mut self) -> Vec<A> {
        let mut all = self.reach_assigned();
        all.extend(self.signal());
        all.extend(self.up());
        assert_eq!(self.session.status(), Status::Ready);
        all
    }
}

pub fn echo_capabilities() -> Capabilities {
    let track = |name: &str, direction| TrackInfo { name: name.into(), kind: TrackKind::Video, direction };
    Capabilities {
        protocol_version: "1.0".into(),
        // Deliberately output first: the SDK must still offer the input first.
        tracks: vec![track("main_video", TrackDirection::Recvonly), track("webcam", TrackDirection::Sendonly)],
        commands: vec![],
        emission_fps: Some(30.0),
    }
}

pub fn conn() -> ConnectionId {
    ConnectionId { connection_id: "c-1".into() }
}

pub fn answer() -> SdpAnswer {
    SdpAnswer { sdp_answer: "v=0 answer".into(), connection_id: "c-1".into() }
}

pub fn offer_ready() -> Input<String> {
    Input::OfferReady { sdp: "v=0 offer".into(), mids: vec![Some("0".into()), Some("1".into())] }
}

pub fn error_body(code: ErrorCode, retry_after: Option<f64>) -> Reply {
    Reply::Error(ErrorBody { code: code.into(), message: "refused".into(), retry_after })
}

/// The statuses announced in `actions`, in order.
pub fn statuses(actions: &[A]) -> Vec<Status> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(Event::StatusChanged(s)) => Some(*s),
            _ => None,
        })
        .collect()
}

pub fn http_requests(actions: &[A]) -> Vec<&HttpRequest> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Http(r) => Some(r),
            _ => None,
        })
        .collect()
}

pub fn errors(actions: &[A]) -> Vec<&ReactorError> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(Event::Error(e)) => Some(e),
            _ => None,
        })
        .collect()
}

/// Every application message sent, with the promise its answer settles.
pub fn application_sends(actions: &[A]) -> Vec<(String, PromiseId)> {
    let mut sends = Vec::new();
    for action in actions {
        if let Action::Send { message: Outgoing::Application { envelope, promise }, .. } = action {
            sends.push((envelope.clone(), *promise));
        }
    }
    sends
}

pub fn settled(actions: &[A]) -> Vec<&Result<(), ReactorError>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Settle { result, .. } => Some(result),
            _ => None,
        })
        .collect()
}

/// Asserts a failed connect: one error of `code`, the promise rejected with
/// it, everything torn down, status disconnected.
pub fn assert_connect_failed(d: &Driver, actions: &[A], code: ErrorCode) -> ReactorError {
    let errs = errors(actions);
    assert_eq!(errs.len(), 1, "one error event in {actions:#?}");
    assert_eq!(errs[0].code, code, "{actions:#?}");
    assert_eq!(settled(actions), vec![&Err(errs[0].clone())]);
    assert!(actions.contains(&Action::Teardown), "torn down: {actions:#?}");
    assert_eq!(statuses(actions).last(), Some(&Status::Disconnected));
    assert_eq!(d.session.status(), Status::Disconnected);
    assert_eq!(d.session.last_error(), Some(errs[0]));
    assert_eq!(d.session.waiting_info(), None);
    errs[0].clone()
}

/// The promise of an outcome that must be pending.
pub fn pending(outcome: Outcome) -> PromiseId {
    match outcome {
        Outcome::Pending(id) => id,
        other => panic!("expected pending, got {other:?}"),
    }
}

pub trait OutcomeExt {
    fn failed(self) -> ReactorError;
}

impl OutcomeExt for Outcome {
    fn failed(self) -> ReactorError {
        match self {
            Outcome::Failed(err) => err,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
