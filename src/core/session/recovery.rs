//! Machine link recovery. When the peer connection of a ready session
//! drops (`failed`, `disconnected` for longer than [`GRACE_MS`], or a data
//! channel closing on its own), the SDK builds a new peer and offers it on
//! the same machine connection (`PUT …/sdp_params`: the runtime replaces the
//! connection and keeps the session), under the `reconnect` policy. Status
//! meanwhile: `connecting`; `reconnecting` before each attempt,
//! `reconnected` once the new link is up as at first connect.
//!
//! A new peer and not an ICE restart: the runtime answers a re-offer with a
//! new transport (a new DTLS certificate and SCTP association), which the
//! old browser peer cannot take (see PROTOCOL.md, "Reconnect").

use std::rc::Rc;

use reactor_protocol::ErrorCode;

use super::retry::Retry;
use super::{Phase, Session};
use crate::core::io::{Action, HttpResult, Input, LinkKind, Purpose, Reply, Timer};
use crate::core::{Failure, ReactorError, Status};

/// How long a ready peer may stay `disconnected` before it is re-made.
/// Chromium says `disconnected` 5–6 s after the last packet from the
/// machine (measured by tests/faults/); a path back within the grace heals
/// in place, keeping the SCTP association and all it held, and past it a
/// re-offer (0.1 s on a simulated machine, 2–3 s on a real runtime) is far
/// quicker than waiting for `failed` (about 30 s).
pub const GRACE_MS: u32 = 2_000;
/// From the start of an attempt to the machine's answer: a real runtime
/// builds a new media pipeline for it (2.3–2.9 s measured on 2 cores).
pub const ATTEMPT_SIGNALING_MS: u32 = 8_000;
/// From the answer to the new link up (ICE, DTLS, channels: ~100 ms on loopback).
pub const ATTEMPT_CONNECT_MS: u32 = 5_000;

#[derive(Debug)]
pub(super) struct Recovery {
    retry: Retry,
    /// Why it dropped.
    reason: Rc<Failure>,
    /// Why the last attempt failed.
    last: Option<Rc<Failure>>,
}

impl<V> Session<V> {
    /// The tag of the current peer connection: the shell passes it back
    /// with every input of that peer and of its signaling
    /// ([`Self::handle_peer`]).
    pub fn peer(&self) -> u32 {
        self.peer
    }

    /// An input of peer `peer`, or of its signaling: dropped when that peer
    /// has been replaced, so that an old peer never reaches a new one.
    pub fn handle_peer(&mut self, now: f64, generation: u32, peer: u32, input: Input<V>) {
        if peer == self.peer {
            return self.handle(now, generation, input);
        }
        // A `getStats()` the replaced peer was reading is still answered
        // (with `undefined`), or its promise would never settle.
        if let Input::Stats { promise: Some(promise), .. } = input {
            self.handle(now, generation, Input::Stats { sample: None, promise: Some(promise) });
        }
    }

    pub(super) fn recovering(&self) -> bool {
        self.recovery.is_some()
    }

    /// A new peer as `plan` says, with a new tag.
    pub(super) fn create_peer(&mut self, plan: crate::core::PeerPlan) {
        self.peer = self.peer.wrapping_add(1);
        self.actions.push_back(Action::CreatePeer(plan));
    }

    /// The machine link broke: a ready one is re-made (unless the policy
    /// says never), an attempt's is retried; before ready it is the end.
    pub(super) fn link_dropped(&mut self, now: f64, why: Failure) {
        if self.recovering() {
            return self.attempt_failed(now, why);
        }
        let Phase::Machine(link) = &mut self.phase else { return };
        if !link.ready || self.options.reconnect.is_empty() {
            return self.fail_machine(now, why);
        }
        link.ready = false;
        // Late events of the dropped peer must not count for the next one.
        self.peer = self.peer.wrapping_add(1);
        for timer in [Timer::Grace, Timer::Ping, Timer::Stats, Timer::Publish] {
            self.actions.push_back(Action::CancelTimer(timer));
        }
        self.stats_for_new_peer();
        // Nothing more goes to the dead channel; what waits goes to the new one.
        self.shut_sending();
        self.recovery = Some(Recovery { retry: Retry::new(LinkKind::Machine, now), reason: Rc::new(why), last: None });
        self.set_status(Status::Connecting);
        self.schedule_attempt(now);
    }

    /// `disconnected` while ready: re-made if it does not come back in time.
    pub(super) fn peer_disconnected(&mut self) {
        let ready = matches!(&self.phase, Phase::Machine(link) if link.ready);
        if ready && !self.options.reconnect.is_empty() {
            self.set_timer(Timer::Grace, GRACE_MS);
        }
    }

    pub(super) fn grace_over(&mut self, now: f64) {
        self.link_dropped(now, Failure::StayedDisconnected(GRACE_MS));
    }

    fn schedule_attempt(&mut self, now: f64) {
        let Some(recovery) = &mut self.recovery else { return };
        let Some(delay_ms) = recovery.retry.next_delay(&self.options.reconnect, false) else {
            return self.give_up(now);
        };
        let reason = recovery.last.clone().unwrap_or_else(|| recovery.reason.clone());
        let event = recovery.retry.reconnecting(delay_ms, reason);
        self.actions.push_back(Action::Emit(event));
        self.set_timer(Timer::Reconnect, delay_ms);
    }

    /// A new peer, offered on the same machine connection.
    pub(super) fn start_attempt(&mut self) {
        let Phase::Machine(link) = &self.phase else { return };
        let link = link.again();
        self.create_peer(link.plan.clone());
        self.phase = Phase::Machine(link);
        self.set_timer(Timer::Step, ATTEMPT_SIGNALING_MS);
    }

    pub(super) fn attempt_failed(&mut self, now: f64, why: Failure) {
        let Some(recovery) = &mut self.recovery else { return };
        recovery.last = Some(Rc::new(why));
        self.peer = self.peer.wrapping_add(1);
        self.actions.push_back(Action::CancelTimer(Timer::Step));
        self.actions.push_back(Action::CancelTimer(Timer::AnswerPoll));
        self.schedule_attempt(now);
    }

    fn give_up(&mut self, now: f64) {
        let Some(recovery) = self.recovery.take() else { return };
        let failure = Failure::RecoveryGaveUp {
            attempts: recovery.retry.attempts(),
            dropped: recovery.reason,
            last: recovery.last,
        };
        self.fail(ReactorError::new(ErrorCode::GpuConnectionError, failure, now));
    }

    /// At `ready` again: the link is back.
    pub(super) fn link_restored(&mut self) {
        let Some(recovery) = self.recovery.take() else { return };
        self.actions.push_back(Action::Emit(recovery.retry.reconnected(self.now)));
        self.publish_again();
    }

    /// During recovery, a signaling answer that fails the attempt (true:
    /// handled here). The runtime forgets a connection once its side saw
    /// the peer go, and answers the re-offer 404: the same offer then goes
    /// to a newly registered connection of the same session.
    pub(super) fn recovery_http(&mut self, now: f64, purpose: Purpose, result: &HttpResult) -> bool {
        if !self.recovering() || !purpose.is_signaling() {
            return false;
        }
        let why = match result {
            HttpResult::Failed(failure) => Failure::ReofferUnanswered { purpose, failure: failure.clone() },
            HttpResult::Answered { status, reply: Reply::Error(body) } => {
                Failure::ReofferRefused { purpose, status: *status, message: Some(body.message.clone()) }
            }
            HttpResult::Answered { status, reply: Reply::Unreadable(error) } => {
                Failure::Unreadable { purpose, status: *status, error: error.clone() }
            }
            HttpResult::Answered { status, .. } if (200..300).contains(status) => return false,
            HttpResult::Answered { status: 404, .. } if purpose == Purpose::PostOffer => {
                if let Phase::Machine(link) = &mut self.phase {
                    if link.reoffer {
                        let request = link.register_again();
                        self.actions.push_back(Action::Http(request));
                        return true;
                    }
                }
                Failure::ReofferRefused { purpose, status: 404, message: None }
            }
            HttpResult::Answered { status, .. } => Failure::ReofferRefused { purpose, status: *status, message: None },
        };
        self.attempt_failed(now, why);
        true
    }
}
