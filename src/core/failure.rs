//! The text of every failure the web shell reports as a value: the one
//! place these messages are made.

use super::io::{BadFrame, HttpFailure, PeerFailure};

/// How much of an unexpected coordinator frame an error message quotes.
pub const BAD_FRAME_SHOWN: usize = 200;

impl PeerFailure {
    pub fn message(&self) -> String {
        match self {
            PeerFailure::Create(why) => format!("the browser refused the peer connection: {why}"),
            PeerFailure::Offer(why) => format!("the browser could not make an offer: {why}"),
            PeerFailure::Answer(why) => format!("the machine's answer was refused: {why}"),
            PeerFailure::NoMid(track) => format!("the browser assigned no mid to track `{track}`"),
        }
    }
}

impl HttpFailure {
    /// Why there is no answer, for the message of the step that failed.
    pub fn message(&self) -> String {
        match self {
            HttpFailure::Unsendable(why) => format!("the browser would not send the request ({why})"),
            HttpFailure::Network(why) => format!("no connection, a refused one, or a CORS refusal ({why})"),
            HttpFailure::Aborted(why) => format!("the request was aborted ({why})"),
            HttpFailure::Other(why) => why.clone(),
        }
    }
}

impl BadFrame {
    pub fn message(&self) -> String {
        let prefix = "the coordinator sent an unexpected frame";
        match self {
            BadFrame::Binary => format!("{prefix}: a binary frame"),
            BadFrame::NotJson(text) => format!("{prefix}: {}", head(text, BAD_FRAME_SHOWN)),
            BadFrame::Unreadable { text, error } => format!("{prefix}: {} ({error})", head(text, BAD_FRAME_SHOWN)),
        }
    }
}

/// At most the first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}
