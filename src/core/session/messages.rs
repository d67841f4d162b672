//! `sendMessage()`: checked, then sent at once or queued ([`super::outbox`]),
//! or refused when nothing may wait. Its promise settles once the browser
//! took the message or refused it.

use reactor_protocol::ErrorCode;

use super::outbox::Route;
use super::Session;
use crate::core::io::{Channel, Outcome, Outgoing};
use crate::core::{Failure, ReactorError, Status};

impl<V> Session<V> {
    /// `sendMessage()`, with the message already serialized as its
    /// envelope: `bytes` is its UTF-8 length, `buffered` what the data
    /// channel still holds unsent.
    pub fn send_message(&mut self, now: f64, envelope: V, bytes: usize, buffered: usize) -> Outcome {
        // Before `ready` the channel's limit is not known yet: checked when it goes out.
        if self.status == Status::Ready {
            if let Some(err) = self.too_large(now, bytes) {
                return Outcome::Failed(err);
            }
        }
        let queued = match self.route(buffered) {
            Route::Send => {
                let promise = self.promise();
                self.send(Channel::Data, Outgoing::Application { envelope, promise });
                Ok(promise)
            }
            Route::Queue => self.enqueue(now, envelope, bytes, buffered),
            Route::Refuse => {
                let failure = Failure::NotReady { call: "sendMessage", status: self.status };
                Err(self.report(ReactorError::new(ErrorCode::MessageSendFailed, failure, now)))
            }
        };
        match queued {
            Ok(promise) => Outcome::Pending(promise),
            Err(err) => Outcome::Failed(err),
        }
    }

    /// A `sendMessage()` whose message is not JSON: reported, nothing sent.
    pub fn invalid_message(&mut self, now: f64, why: String) -> ReactorError {
        self.report(ReactorError::new(ErrorCode::InvalidMessage, Failure::NotJson(why), now))
    }

    /// A `sendMessage()` that does not fit the model's schema
    /// (`validateMessages`): reported, nothing sent. `why` names the parameter.
    pub fn invalid_command(&mut self, now: f64, why: String) -> ReactorError {
        self.report(ReactorError::new(ErrorCode::InvalidCommand, Failure::NotInSchema(why), now))
    }

    /// `MESSAGE_TOO_LARGE` (reported) when `bytes` pass the channel's maximum.
    pub(super) fn too_large(&mut self, now: f64, bytes: usize) -> Option<ReactorError> {
        if bytes <= self.max_message_size {
            return None;
        }
        let failure = Failure::TooLarge { bytes, max: self.max_message_size };
        Some(self.report(ReactorError::new(ErrorCode::MessageTooLarge, failure, now)))
    }
}
