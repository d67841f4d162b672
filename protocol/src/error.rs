//! Every error code the SDK or the coordinator can report: the one definition.
//!
//! PROTOCOL.md and the README carry the same table; a test keeps them in step.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which side of the system an error comes from (`ReactorError.component`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Coordinator,
    Gpu,
}

impl Component {
    pub const fn as_str(self) -> &'static str {
        match self {
            Component::Coordinator => "coordinator",
            Component::Gpu => "gpu",
        }
    }
}

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal, $component:ident, $recoverable:literal;)*) => {
        /// An error code, as it appears in `ReactorError.code` and in the
        /// coordinator's error frames and bodies.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* #[serde(rename = $code)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as it appears on the wire and in `ReactorError.code`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The part of the system that reports it.
            pub const fn component(self) -> Component {
                match self { $(ErrorCode::$variant => Component::$component,)* }
            }

            /// Whether trying again (maybe after `retryAfter`) can succeed.
            pub const fn recoverable(self) -> bool {
                match self { $(ErrorCode::$variant => $recoverable,)* }
            }

            /// When it happens, for humans (the docs table is built from this).
            pub const fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc),*),)* }
            }

            /// A search of [`Self::ALL`]: each code's text is then held once.
            pub fn parse(code: &str) -> Option<ErrorCode> {
                let mut all = ErrorCode::ALL.iter();
                all.find(|c| c.as_str() == code).copied()
            }
        }
    };
}

error_codes! {
    /// The API key or the token was refused.
    AuthenticationFailed = "AUTHENTICATION_FAILED", Coordinator, false;
    /// The coordinator could not be reached, answered something unexpected, or dropped the connection.
    CoordinatorConnectionError = "COORDINATOR_CONNECTION_ERROR", Coordinator, true;
    /// No machine for this model is free and `queueing` is off; `retryAfter` suggests when to try again.
    NoCapacity = "NO_CAPACITY", Coordinator, true;
    /// The coordinator serves no model of this name.
    UnknownModel = "UNKNOWN_MODEL", Coordinator, false;
    /// This API key already holds as many sessions as it may.
    SessionLimitReached = "SESSION_LIMIT_REACHED", Coordinator, true;
    /// The session reached the coordinator's maximum session length and was ended.
    SessionTimeLimit = "SESSION_TIME_LIMIT", Coordinator, true;
    /// The coordinator is shutting down; connect again later.
    CoordinatorShutdown = "COORDINATOR_SHUTDOWN", Coordinator, true;
    /// The coordinator no longer holds the queue place or session a dropped connection left (its grace period passed, or the coordinator restarted); connect again.
    ResumeFailed = "RESUME_FAILED", Coordinator, true;
    /// A constructor option is missing, empty or of the wrong type; the error's `option` names it.
    InvalidOption = "INVALID_OPTION", Coordinator, false;
    /// `connect()` was called while already connecting or connected.
    AlreadyConnected = "ALREADY_CONNECTED", Coordinator, false;
    /// `connect()` was abandoned because `disconnect()` was called first.
    ConnectionAborted = "CONNECTION_ABORTED", Coordinator, true;
    /// Could not connect to the assigned machine (signaling, ICE or data channels failed).
    GpuConnectionFailed = "GPU_CONNECTION_FAILED", Gpu, true;
    /// The connection to the machine broke after it was ready.
    GpuConnectionError = "GPU_CONNECTION_ERROR", Gpu, true;
    /// A message could not be sent, and nothing of it was: the status is not `ready` (outside development mode), the SDK already holds its bound of messages waiting for the data channel (16 MiB or 4,096 messages; await earlier sends), or the browser refused it.
    MessageSendFailed = "MESSAGE_SEND_FAILED", Gpu, true;
    /// The message is not JSON-serializable (cyclic, BigInt, function, `undefined`); nothing was sent.
    InvalidMessage = "INVALID_MESSAGE", Gpu, true;
    /// `publishVideoStream()` got no `MediaStream` with a video track; nothing was published.
    InvalidStream = "INVALID_STREAM", Gpu, false;
    /// The video could not be published: not `ready`, the model takes no video input, or the machine refused or did not answer.
    PublishFailed = "PUBLISH_FAILED", Gpu, true;
    /// The serialized message is larger than the data channel's maximum message size; nothing was sent.
    MessageTooLarge = "MESSAGE_TOO_LARGE", Gpu, true;
    /// With `validateMessages`, the message does not fit the model's schema (unknown command, or a parameter of the wrong type, out of bounds or missing); the error's `parameter` names it; nothing was sent.
    InvalidCommand = "INVALID_COMMAND", Gpu, true;
}

/// An error code as it came on the wire. A code this SDK does not know
/// (a newer coordinator's) keeps its text, and is reported as it came:
/// from the coordinator, and not recoverable (nothing says trying again helps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    Known(ErrorCode),
    Unknown(String),
}

impl Code {
    pub fn as_str(&self) -> &str {
        match self {
            Code::Known(code) => code.as_str(),
            Code::Unknown(code) => code,
        }
    }

    pub fn component(&self) -> Component {
        match self {
            Code::Known(code) => code.component(),
            Code::Unknown(_) => Component::Coordinator,
        }
    }

    pub fn recoverable(&self) -> bool {
        match self {
            Code::Known(code) => code.recoverable(),
            Code::Unknown(_) => false,
        }
    }
}

impl From<ErrorCode> for Code {
    fn from(code: ErrorCode) -> Code {
        Code::Known(code)
    }
}

impl PartialEq<ErrorCode> for Code {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == Code::Known(*other)
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(ErrorCode::parse(&code).map_or(Code::Unknown(code), Code::Known))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_wire_names() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(!code.description().is_empty());
        }
    }

    #[test]
    fn documented_codes_keep_their_documented_meaning() {
        use ErrorCode::*;
        let documented = [
            (AuthenticationFailed, Component::Coordinator, false),
            (CoordinatorConnectionError, Component::Coordinator, true),
            (GpuConnectionFailed, Component::Gpu, true),
            (GpuConnectionError, Component::Gpu, true),
            (MessageSendFailed, Component::Gpu, true),
        ];
        for (code, component, recoverable) in documented {
            assert_eq!(code.component(), component, "{code:?}");
            assert_eq!(code.recoverable(), recoverable, "{code:?}");
        }
    }
}
