//! What a connection could not write yet. str0m refuses a write that does
//! not fit its SCTP send buffer, and a model's replies must not be
//! lost for that (a client sending faster than the link drains gets every
//! echo, late): they wait here, in order, and go out as the buffer drains.

use std::collections::VecDeque;

use str0m::channel::ChannelId;
use str0m::Rtc;

/// str0m's SCTP send buffer, set on each `Rtc`: room for the largest
/// message a client may send (256 KB) echoed in its envelope. (str0m's
/// default, 128 KB, would refuse that echo forever.)
pub(super) const SCTP_SEND_BUFFER: usize = 1 << 20;
/// Past this, a reply is dropped (and logged): a client that never reads
/// must not grow the machine without bound.
const BACKLOG_BYTES: usize = 64 << 20;

#[derive(Default)]
pub(super) struct Backlog {
    queue: VecDeque<(ChannelId, String)>,
    bytes: usize,
}

impl Backlog {
    /// Writes `text` on channel `id` behind whatever already waits.
    pub fn send(&mut self, rtc: &mut Rtc, id: ChannelId, text: String) {
        if text.len() > SCTP_SEND_BUFFER || self.bytes + text.len() > BACKLOG_BYTES {
            tracing::warn!(bytes = self.bytes, "send backlog full: a message was dropped");
            return;
        }
        self.bytes += text.len();
        self.queue.push_back((id, text));
        self.flush(rtc);
    }

    /// Writes what waits, in order, while str0m takes it.
    pub fn flush(&mut self, rtc: &mut Rtc) {
        while let Some((id, text)) = self.queue.front() {
            // A closed channel's messages have nowhere to go.
            let written = rtc.channel(*id).map_or(Ok(true), |mut channel| channel.write(false, text.as_bytes()));
            match written {
                Ok(false) => return,
                Ok(true) => {}
                Err(error) => tracing::debug!(%error, "channel write failed"),
            }
            self.bytes -= text.len();
            self.queue.pop_front();
        }
    }
}
