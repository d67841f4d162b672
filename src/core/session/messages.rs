//! `sendMessage()`: sent at once when ready, held for `ready` in
//! development mode, refused otherwise. Its promise settles once the
//! browser took the message or refused it.

use reactor_protocol::ErrorCode;

use super::Session;

/// How much may wait in the data channel's send buffer before `sendMessage`
/// refuses more. Browsers hold about 16 MB and may close the channel past
/// it; refusing at half keeps the session alive and tells the app to slow down.
pub const SEND_BUFFER_LIMIT: usize = 8 * 1024 * 1024;
use crate::core::io::{Channel, Outcome, Outgoing, PromiseId};
use crate::core::{ReactorError, Status};

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
                let message = format!(
                    "the data channel still holds {buffered} bytes unsent; wait for it to drain and send again (nothing was sent)"
                );
                return Outcome::Failed(self.report(ReactorError::new(ErrorCode::MessageSendFailed, message, now)));
            }
            let promise = self.promise();
            return match self.transmit(now, envelope, bytes, promise) {
                Ok(()) => Outcome::Pending(promise),
                Err(err) => Outcome::Failed(err),
            };
        }
        if self.options.development {
            let promise = self.promise();
            self.held.push_back(Held { promise, envelope, bytes });
            return Outcome::Pending(promise);
        }
        let message = format!("sendMessage() needs status ready, but it is {}", self.status.as_str());
        Outcome::Failed(self.report(ReactorError::new(ErrorCode::MessageSendFailed, message, now)))
    }

    /// A `sendMessage()` whose message is not JSON: reported, nothing sent.
    pub fn invalid_message(&mut self, now: f64, why: String) -> ReactorError {
        let message = format!("the message cannot be sent as JSON ({why}); nothing was sent");
        self.report(ReactorError::new(ErrorCode::InvalidMessage, message, now))
    }

    /// A `sendMessage()` that does not fit the model's schema
    /// (`validateMessages`): reported, nothing sent. `why` names the parameter.
    pub fn invalid_command(&mut self, now: f64, why: String) -> ReactorError {
        let message = format!("{why}; nothing was sent");
        self.report(ReactorError::new(ErrorCode::InvalidCommand, message, now))
    }

    /// The shell's answer to an [`Outgoing::Application`] send: `refused`
    /// says why the browser did not take it (its channel was closing, or
    /// there was none). Settles that send's promise; a refusal is reported.
    pub fn sent(&mut self, now: f64, promise: PromiseId, refused: Option<String>) {
        let result = match refused {
            None => Ok(()),
            Some(why) => {
                let message = format!("the data channel refused the message ({why}); nothing was sent");
                Err(self.report(ReactorError::new(ErrorCode::MessageSendFailed, message, now)))
            }
        };
        self.settle(promise, result);
    }

    /// Puts the message on the data channel, unless it is too large for it;
    /// `promise` then settles with the browser's answer ([`Self::sent`]).
    fn transmit(&mut self, now: f64, envelope: V, bytes: usize, promise: PromiseId) -> Result<(), ReactorError> {
        if bytes > self.max_message_size {
            let message = format!(
                "the message is {bytes} bytes, more than the data channel's maximum of {} bytes; nothing was sent",
                self.max_message_size
            );
            return Err(self.report(ReactorError::new(ErrorCode::MessageTooLarge, message, now)));
        }
        self.send(Channel::Data, Outgoing::Application { envelope, promise });
        Ok(())
    }

    /// At `ready`: everything held goes out, in order.
    pub(super) fn deliver_held(&mut self) {
        while let Some(held) = self.held.pop_front() {
            if let Err(err) = self.transmit(self.now, held.envelope, held.bytes, held.promise) {
                self.settle(held.promise, Err(err));
            }
        }
        self.deliver_held_publish();
    }

    pub(super) fn drop_held(&mut self, err: &ReactorError) {
        while let Some(held) = self.held.pop_front() {
            self.settle(held.promise, Err(err.clone()));
        }
    }
}
