//! The one queue of `sendMessage()`: messages go to the data channel in the
//! order they were sent, at once while the channel's buffer is low, and
//! otherwise wait here until it drains (`bufferedamountlow`), up to a bound.
//! The same queue holds messages while the gate is shut: before `ready` in
//! development mode, and whenever other code calls [`Session::pause_sending`].
//!
//! Order holds because a message goes to the channel only from the head of
//! the queue, or when the queue is empty. Nothing waits forever: a message
//! waits only while the gate is shut (opening it sends), behind another that
//! waits, or while the channel holds at least [`SEND_BUFFER_HIGH`] bytes, in
//! which case the browser fires `bufferedamountlow` when it falls to
//! [`SEND_BUFFER_LOW`]. Teardown rejects whatever waits.

use std::collections::VecDeque;

use reactor_protocol::ErrorCode;

use super::Session;
use crate::core::io::{Channel, Outgoing, PromiseId};
use crate::core::{Failure, ReactorError};

/// While the data channel holds this many bytes unsent, new messages wait in
/// the SDK. Twice [`SEND_BUFFER_LOW`], so each `bufferedamountlow` wake-up
/// sends about a MiB rather than one message, and the browser's buffer stays
/// far below the 16 MiB at which Chromium calls its send queue full.
pub const SEND_BUFFER_HIGH: usize = 2 << 20;
/// The channel's `bufferedAmountLowThreshold`: waiting messages go out when
/// the buffer falls to it. 1 MiB is still tens of milliseconds of sending on
/// loopback and more on a real link, so the channel does not run dry while
/// the event travels to the SDK.
pub const SEND_BUFFER_LOW: usize = 1 << 20;
/// At most this many bytes of messages wait in the SDK: as much as Chromium's
/// own send buffer holds, so an app that used to rely on the browser's buffer
/// meets no smaller limit. A message that would pass it is refused at once.
pub const SEND_QUEUE_BYTES: usize = 16 << 20;
/// At most this many messages wait in the SDK (each costs a pending promise
/// besides its text), however small they are.
pub const SEND_QUEUE_MESSAGES: usize = 4096;

/// Whether messages may go to the channel.
#[derive(Debug, PartialEq, Eq)]
enum Gate {
    /// Not `ready` yet: development mode holds messages, otherwise refused.
    Shut,
    Open,
    /// [`Session::pause_sending`]: held, whatever the status.
    Paused,
}

#[derive(Debug)]
struct Waiting<V> {
    promise: PromiseId,
    envelope: V,
    bytes: usize,
}

#[derive(Debug)]
pub(super) struct Outbox<V> {
    queue: VecDeque<Waiting<V>>,
    /// The sum of `queue`'s `bytes`.
    bytes: usize,
    gate: Gate,
}

impl<V> Default for Outbox<V> {
    fn default() -> Self {
        Outbox { queue: VecDeque::new(), bytes: 0, gate: Gate::Shut }
    }
}

/// What becomes of a `sendMessage()` that passed its checks.
pub(super) enum Route {
    /// The channel may take it now.
    Send,
    /// It waits in the queue.
    Queue,
    /// The gate is shut and nothing may wait (not development mode).
    Refuse,
}

impl<V> Session<V> {
    /// Where a message goes, with the channel holding `buffered`.
    pub(super) fn route(&self, buffered: usize) -> Route {
        match self.outbox.gate {
            Gate::Open if self.outbox.queue.is_empty() && buffered < SEND_BUFFER_HIGH => Route::Send,
            Gate::Open | Gate::Paused => Route::Queue,
            Gate::Shut if self.options.development => Route::Queue,
            Gate::Shut => Route::Refuse,
        }
    }

    /// Queues a message behind those waiting, unless the bound is reached;
    /// with the gate open and the channel below [`SEND_BUFFER_HIGH`], the
    /// head goes out at once (it waited for an event that is still to come).
    pub(super) fn enqueue(
        &mut self,
        now: f64,
        envelope: V,
        bytes: usize,
        buffered: usize,
    ) -> Result<PromiseId, ReactorError> {
        let outbox = &self.outbox;
        if outbox.queue.len() >= SEND_QUEUE_MESSAGES || outbox.bytes.saturating_add(bytes) > SEND_QUEUE_BYTES {
            let failure = Failure::QueueFull { queued: outbox.queue.len(), queued_bytes: outbox.bytes, bytes };
            return Err(self.report(ReactorError::new(ErrorCode::MessageSendFailed, failure, now)));
        }
        let promise = self.promise();
        self.outbox.bytes += bytes;
        self.outbox.queue.push_back(Waiting { promise, envelope, bytes });
        if buffered < SEND_BUFFER_HIGH {
            self.send_next();
        }
        Ok(promise)
    }

    /// Holds every message in the SDK from now on, even when the channel
    /// could take it, and lets `sendMessage()` queue whatever the status
    /// (for a link being recovered). [`Self::resume_sending`] undoes it;
    /// teardown rejects what waits.
    pub fn pause_sending(&mut self) {
        self.outbox.gate = Gate::Paused;
    }

    /// Shuts the gate as before `ready` (the machine link is being re-made):
    /// what waits stays queued for the next `ready`; new messages are held in
    /// development mode and refused otherwise.
    pub(super) fn shut_sending(&mut self) {
        self.outbox.gate = Gate::Shut;
    }

    /// Opens the gate (at `ready`, or after [`Self::pause_sending`]): what
    /// waits goes out in order, as fast as the channel takes it.
    pub fn resume_sending(&mut self) {
        self.outbox.gate = Gate::Open;
        self.send_next();
    }

    /// `bufferedamountlow` on the `data` channel: what waits goes out.
    pub(super) fn on_send_buffer_low(&mut self) {
        self.send_next();
    }

    /// The shell's answer to an [`Outgoing::Application`] send: the
    /// channel's `bufferedAmount` after taking it, or why the browser did not
    /// (its channel was closing, or there was none). Settles that send's
    /// promise; a refusal is reported. While the channel is below
    /// [`SEND_BUFFER_HIGH`] the next waiting message follows.
    pub fn sent(&mut self, now: f64, promise: PromiseId, taken: Result<usize, String>) {
        match taken {
            Ok(buffered) => {
                self.settle(promise, Ok(()));
                if buffered < SEND_BUFFER_HIGH {
                    self.send_next();
                }
            }
            // The rest wait: a closing channel's `close` event rejects them
            // with the error that ends the session.
            Err(why) => {
                let err =
                    self.report(ReactorError::new(ErrorCode::MessageSendFailed, Failure::ChannelRefused(why), now));
                self.settle(promise, Err(err));
            }
        }
    }

    /// Puts the head of the queue on the channel, if the gate is open; its
    /// answer ([`Self::sent`]) sends the one after. A held message too large
    /// for the channel (its size was not known when it was queued) is refused.
    fn send_next(&mut self) {
        while self.outbox.gate == Gate::Open {
            let Some(next) = self.outbox.queue.pop_front() else { return };
            self.outbox.bytes -= next.bytes;
            match self.too_large(self.now, next.bytes) {
                Some(err) => self.settle(next.promise, Err(err)),
                None => {
                    let message = Outgoing::Application { envelope: next.envelope, promise: next.promise };
                    return self.send(Channel::Data, message);
                }
            }
        }
    }

    /// Rejects everything waiting with `err`, the error that ended the
    /// connection; the gate shuts until the next `ready`.
    pub(super) fn drop_waiting(&mut self, err: &ReactorError) {
        let outbox = std::mem::take(&mut self.outbox);
        for waiting in outbox.queue {
            self.settle(waiting.promise, Err(err.clone()));
        }
    }
}
