//! `sendMessage()`: sent at once when ready, held for `ready` in
//! development mode, refused otherwise.

use reactor_protocol::text::decimal;
use reactor_protocol::{text, ErrorCode};

use super::Session;

/// How much may wait in the data channel's send buffer before `sendMessage`
/// refuses more. Browsers hold about 16 MB and may close the channel past
/// it; refusing at half keeps the session alive and tells the app to slow down.
pub const SEND_BUFFER_LIMIT: usize = 8 * 1024 * 1024;
use crate::core::io::{Channel, Outcome, Outgoing, PromiseId};
use crate::core::{pop_front, ReactorError, Status};

/// A message waiting for `ready` (development mode).
#[derive(Debug)]
pub(super) struct Held<V> {
    promise: PromiseId,
    envelope: V,
    bytes: usize,
}

impl<V> Session<V> {
    /// `sendMessage()`, with the message already serialized as its
    /// envelope: `bytes` is its UTF-8 length, `buffered` what the data
    /// channel still holds unsent.
    pub fn send_message(&mut self, now: f64, envelope: V, bytes: usize, buffered: usize) -> Outcome {
        if self.status == Status::Ready {
            if buffered.saturating_add(bytes) > SEND_BUFFER_LIMIT {
                let message = text!(
                    "the data channel still holds ",
                    decimal(buffered),
                    " bytes unsent; wait for it to drain and send again (nothing was sent)"
                );
                return Outcome::Failed(self.report(ReactorError::new(ErrorCode::MessageSendFailed, message, now)));
            }
            return match self.transmit(now, envelope, bytes) {
                Ok(()) => Outcome::Done,
                Err(err) => Outcome::Failed(err),
            };
        }
        if self.options.development {
            let promise = self.promise();
            self.held.push(Held { promise, envelope, bytes });
            return Outcome::Pending(promise);
        }
        let message = text!("sendMessage() needs status ready, but it is ", self.status.as_str());
        Outcome::Failed(self.report(ReactorError::new(ErrorCode::MessageSendFailed, message, now)))
    }

    /// A `sendMessage()` whose message is not JSON: reported, nothing sent.
    pub fn invalid_message(&mut self, now: f64, why: String) -> ReactorError {
        let message = text!("the message cannot be sent as JSON (", why, "); nothing was sent");
        self.report(ReactorError::new(ErrorCode::InvalidMessage, message, now))
    }

    /// The browser refused a message the core let through (its channel was
    /// closing): reported, so the `sendMessage()` rejects.
    pub fn send_failed(&mut self, now: f64, why: String) -> ReactorError {
        let message = text!("the data channel refused the message (", why, "); nothing was sent");
        self.report(ReactorError::new(ErrorCode::MessageSendFailed, message, now))
    }

    fn transmit(&mut self, now: f64, envelope: V, bytes: usize) -> Result<(), ReactorError> {
        if bytes > self.max_message_size {
            let message = text!(
                "the message is ",
                decimal(bytes),
                " bytes, more than the data channel's maximum of ",
                decimal(self.max_message_size),
                " bytes; nothing was sent"
            );
            return Err(self.report(ReactorError::new(ErrorCode::MessageTooLarge, message, now)));
        }
        self.send(Channel::Data, Outgoing::Application(envelope));
        Ok(())
    }

    /// At `ready`: everything held goes out, in order.
    pub(super) fn deliver_held(&mut self) {
        while let Some(held) = pop_front(&mut self.held) {
            let result = self.transmit(self.now, held.envelope, held.bytes);
            self.settle(held.promise, result);
        }
        self.deliver_held_publish();
    }

    pub(super) fn drop_held(&mut self, err: &ReactorError) {
        while let Some(held) = pop_front(&mut self.held) {
            self.settle(held.promise, Err(err.clone()));
        }
    }
}
