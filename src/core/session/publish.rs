//! `publishVideoStream()` / `unpublishVideoStream()`: the camera goes to
//! the model's first input track by `replaceTrack` on a transceiver that was
//! negotiated up front (no renegotiation), and the runtime is asked for the
//! track's publisher slot with `publish_track`.

use reactor_protocol::runtime::{
    ControlMessage, ControlMethod, ControlRequest, ControlResponse, TrackEvent, TrackNotification, TrackRef,
};
use reactor_protocol::ErrorCode;

use super::{Phase, Session};
use crate::core::io::{Action, Channel, Outcome, Outgoing, PromiseId, Timer};
use crate::core::{Failure, ReactorError, Status, Step};

/// How long the runtime may take to answer `publish_track`.
pub const PUBLISH_TIMEOUT_MS: u32 = 10_000;

#[derive(Debug)]
pub(super) struct Publishing<V> {
    /// The runtime granted the publisher slot.
    published: bool,
    /// The `publish_track` request in flight, and who waits for its answer.
    request: Option<(String, Vec<PromiseId>)>,
    /// Development mode: a track waiting for `ready`.
    held: Option<(V, PromiseId)>,
    requests_made: u32,
}

impl<V> Default for Publishing<V> {
    fn default() -> Self {
        Publishing { published: false, request: None, held: None, requests_made: 0 }
    }
}

impl<V> Session<V> {
    /// `publishVideoStream()`: `track` is the stream's first video track,
    /// `None` when it has none.
    pub fn publish(&mut self, now: f64, track: Option<V>) -> Outcome {
        let Some(track) = track else {
            let err = ReactorError::new(ErrorCode::InvalidStream, Failure::NoVideoTrack, now);
            return Outcome::Failed(self.report(err));
        };
        if self.status == Status::Ready {
            let promise = self.promise();
            return match self.start_publish(now, track, promise) {
                Ok(true) => Outcome::Pending(promise),
                Ok(false) => Outcome::Done,
                Err(err) => Outcome::Failed(err),
            };
        }
        if self.options.development {
            let promise = self.promise();
            // The latest track wins, as a second publish replaces the first.
            if let Some((_, earlier)) = self.publishing.held.replace((track, promise)) {
                self.settle(earlier, Ok(()));
            }
            return Outcome::Pending(promise);
        }
        let failure = Failure::NotReady { call: "publishVideoStream", status: self.status };
        Outcome::Failed(self.report(ReactorError::new(ErrorCode::PublishFailed, failure, now)))
    }

    /// Sends `track`; `Ok(true)` when `promise` now waits for the runtime's
    /// answer, `Ok(false)` when the slot was already ours (a replacement).
    fn start_publish(&mut self, now: f64, track: V, promise: PromiseId) -> Result<bool, ReactorError> {
        let Some(input) = self.input_track() else {
            let failure = Failure::NoVideoInput { model: self.options.model_name.clone() };
            return Err(self.report(ReactorError::new(ErrorCode::PublishFailed, failure, now)));
        };
        self.actions.push_back(Action::ReplaceTrack(Some(track)));
        if self.publishing.published {
            return Ok(false);
        }
        if let Some((_, waiting)) = &mut self.publishing.request {
            waiting.push(promise);
            return Ok(true);
        }
        self.request_publish(input, vec![promise]);
        Ok(true)
    }

    /// Asks the runtime for `input`'s publisher slot; `waiting` settle with its answer.
    fn request_publish(&mut self, input: String, waiting: Vec<PromiseId>) {
        self.publishing.requests_made += 1;
        let request_id = format!("publish-{}", self.publishing.requests_made);
        let request = ControlMessage::Request(ControlRequest {
            method: ControlMethod::PublishTrack,
            request_id: request_id.clone(),
            data: TrackRef { name: input },
        });
        self.send(Channel::Control, Outgoing::Control(request));
        self.set_timer(Timer::Publish, PUBLISH_TIMEOUT_MS);
        self.publishing.request = Some((request_id, waiting));
    }

    /// The machine link was re-made: the new peer already sends the camera
    /// (the shell moves the track over), but a runtime starts a new
    /// connection's input paused until `publish_track`, and keeps the slot
    /// under the replaced connection's id: `unpublish_track` first frees it.
    /// A request that was in flight is made again for those waiting on it.
    pub(super) fn publish_again(&mut self) {
        let waiting = match self.publishing.request.take() {
            Some((_, waiting)) => waiting,
            None if self.publishing.published => Vec::new(),
            None => return,
        };
        let Some(input) = self.input_track() else { return };
        self.publishing.published = false;
        let notice = ControlMessage::Notification(TrackNotification {
            event: TrackEvent::UnpublishTrack,
            data: TrackRef { name: input.clone() },
        });
        self.send(Channel::Control, Outgoing::Control(notice));
        self.request_publish(input, waiting);
    }

    fn input_track(&self) -> Option<String> {
        match &self.phase {
            Phase::Machine(link) => link.plan.send.first().cloned(),
            _ => None,
        }
    }

    /// `unpublishVideoStream()`: stops sending; nothing to do when nothing
    /// is published.
    pub fn unpublish(&mut self, now: f64) {
        let err = ReactorError::new(ErrorCode::PublishFailed, Failure::Unpublished, now);
        if let Some((_, promise)) = self.publishing.held.take() {
            self.settle(promise, Err(err.clone()));
        }
        let in_flight = self.publishing.request.take();
        if !self.publishing.published && in_flight.is_none() {
            return;
        }
        self.actions.push_back(Action::CancelTimer(Timer::Publish));
        if let Some((_, waiting)) = in_flight {
            for promise in waiting {
                self.settle(promise, Err(err.clone()));
            }
        }
        self.publishing.published = false;
        self.actions.push_back(Action::ReplaceTrack(None));
        if let Some(name) = self.input_track() {
            let notice = ControlMessage::Notification(TrackNotification {
                event: TrackEvent::UnpublishTrack,
                data: TrackRef { name },
            });
            self.send(Channel::Control, Outgoing::Control(notice));
        }
    }

    /// The runtime's answer to `publish_track`.
    pub(super) fn on_control(&mut self, now: f64, response: ControlResponse) {
        let ControlResponse { request_id, error, .. } = response;
        let Some((expected, _)) = &self.publishing.request else { return };
        if *expected != request_id {
            return;
        }
        let Some((_, waiting)) = self.publishing.request.take() else { return };
        self.actions.push_back(Action::CancelTimer(Timer::Publish));
        let result = match error {
            None => {
                self.publishing.published = true;
                Ok(())
            }
            Some(refusal) => {
                self.actions.push_back(Action::ReplaceTrack(None));
                let failure = Failure::VideoRefused { code: refusal.code, message: refusal.message };
                Err(self.report(ReactorError::new(ErrorCode::PublishFailed, failure, now)))
            }
        };
        for promise in waiting {
            self.settle(promise, result.clone());
        }
    }

    pub(super) fn publish_timed_out(&mut self, now: f64) {
        let Some((_, waiting)) = self.publishing.request.take() else { return };
        self.actions.push_back(Action::ReplaceTrack(None));
        let err = self.report(ReactorError::new(ErrorCode::PublishFailed, Failure::TimedOut(Step::Publish), now));
        for promise in waiting {
            self.settle(promise, Err(err.clone()));
        }
    }

    /// At `ready` (development mode): the held track goes out.
    pub(super) fn deliver_held_publish(&mut self) {
        let Some((track, promise)) = self.publishing.held.take() else { return };
        match self.start_publish(self.now, track, promise) {
            Ok(true) => {}
            Ok(false) => self.settle(promise, Ok(())),
            Err(err) => self.settle(promise, Err(err)),
        }
    }

    pub(super) fn drop_publish(&mut self, err: &ReactorError) {
        if let Some((_, promise)) = self.publishing.held.take() {
            self.settle(promise, Err(err.clone()));
        }
        if let Some((_, waiting)) = self.publishing.request.take() {
            for promise in waiting {
                self.settle(promise, Err(err.clone()));
            }
        }
    }
}
