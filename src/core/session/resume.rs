//! Coordinator loss while waiting or on a machine: the WebSocket is opened
//! again in the background and `resume` takes the place or the session
//! back. The status does not change meanwhile: the queue place is held by
//! the coordinator, and media and messages run on the machine's peer
//! connection, which does not need the coordinator (README "When the
//! network fails").

use std::rc::Rc;

use reactor_protocol::coordinator::{ClientFrame, ResumeInfo};
use reactor_protocol::ErrorCode;

use super::retry::Retry;
use super::signaling::session_base;
use super::{ws_url, Phase, Session};
use crate::core::io::{Action, LinkKind, Timer};
use crate::core::{Failure, ReactorError, Step};

/// From opening a new socket to `resumed`; a blackholed attempt gives way
/// to the next one.
pub const RESUME_ATTEMPT_TIMEOUT_MS: u32 = 5_000;

#[derive(Debug, Default)]
pub(super) struct Resume {
    /// What the coordinator gave for `resume`, once it did.
    info: Option<ResumeInfo>,
    /// The assigned session, whose signaling base follows the coordinator.
    session_id: Option<String>,
    down: Option<Down>,
}

/// The socket is gone and being re-made.
#[derive(Debug)]
struct Down {
    retry: Retry,
    /// The current attempt's socket exists (opening, or `resume` sent).
    trying: bool,
}

impl<V> Session<V> {
    /// The `resume` of a `queued` or `assigned` frame, and the session an
    /// `assigned` names.
    pub(super) fn remember_resume(&mut self, info: Option<ResumeInfo>, session_id: Option<&str>) {
        if info.is_some() {
            self.resume.info = info;
        }
        if let Some(id) = session_id {
            self.resume.session_id.get_or_insert_with(|| id.to_string());
        }
    }

    /// The coordinator's socket closed, not by its own `error`: resume in the
    /// background if it holds something for us, else try the next URL
    /// (before admission), else end.
    pub(super) fn on_socket_closed(&mut self, now: f64, code: u16, reason: String) {
        self.socket_open = false;
        let why = Failure::SocketClosed { code, reason };
        if self.resume.down.is_none() && self.resumable() {
            self.resume.down = Some(Down { retry: Retry::new(LinkKind::Coordinator, now), trying: false });
        }
        if self.resume.down.is_some() {
            return self.retry(now, why);
        }
        if self.before_admission() && self.fail_over() {
            return;
        }
        self.fail(ReactorError::new(ErrorCode::CoordinatorConnectionError, why, now));
    }

    fn resumable(&self) -> bool {
        let grace = self.resume.info.as_ref().map_or(0.0, |info| info.grace);
        !self.options.reconnect.is_empty()
            && grace > 0.0
            && matches!(self.phase, Phase::Queue { .. } | Phase::Machine(_))
    }

    /// Schedules the next attempt on the next URL, or gives up once the
    /// coordinator's grace period is over: the delays of `reconnect` in
    /// turn, then its last one again, the last attempt at the grace's end.
    fn retry(&mut self, now: f64, why: Failure) {
        let delays = &self.options.reconnect;
        let grace = self.resume.info.as_ref().map_or(0.0, |info| info.grace);
        let Some(down) = &mut self.resume.down else { return };
        down.trying = false;
        let left = down.retry.since() + grace * 1000.0 - now;
        if down.retry.attempts() > 0 && left <= 0.0 {
            let failure = Failure::ResumeGaveUp { grace, attempts: down.retry.attempts(), last: Rc::new(why) };
            return self.fail(ReactorError::new(ErrorCode::CoordinatorConnectionError, failure, now));
        }
        let delay = down.retry.next_delay(delays, true).unwrap_or(0).min(left.max(0.0) as u32);
        let event = down.retry.reconnecting(delay, Rc::new(why));
        self.rotate_url();
        self.actions.push_back(Action::Emit(event));
        self.set_timer(Timer::Resume, delay);
    }

    /// [`Timer::Resume`]: the delay is over (open a socket), or the attempt
    /// took too long (drop its socket, try again).
    pub(super) fn on_resume_timer(&mut self, now: f64) {
        let Some(down) = &mut self.resume.down else { return };
        if down.trying {
            self.socket_open = false;
            self.actions.push_back(Action::CloseSocket);
            return self.retry(now, Failure::TimedOut(Step::Resume));
        }
        down.trying = true;
        let url = ws_url(self.coordinator());
        self.actions.push_back(Action::OpenSocket { url });
        self.set_timer(Timer::Resume, RESUME_ATTEMPT_TIMEOUT_MS);
    }

    /// A new socket opened: while resuming it says `resume`, not `hello`.
    pub(super) fn send_resume(&mut self) -> bool {
        let (Some(_), Some(info)) = (&self.resume.down, &self.resume.info) else { return false };
        let frame = ClientFrame::Resume { resume_token: info.token.clone() };
        self.socket_open = true;
        self.actions.push_back(Action::SendFrame(frame));
        true
    }

    /// `resumed`: the place or session is ours again; signaling follows the
    /// coordinator that took it (every process proxies every session).
    pub(super) fn on_resumed(&mut self, now: f64) {
        let Some(down) = self.resume.down.take() else { return };
        self.actions.push_back(Action::CancelTimer(Timer::Resume));
        let base = self.resume.session_id.as_deref().map(|id| session_base(self.coordinator(), id));
        if let (Phase::Machine(link), Some(base)) = (&mut self.phase, base) {
            link.rebase(base);
        }
        self.actions.push_back(Action::Emit(down.retry.reconnected(now)));
    }
}
