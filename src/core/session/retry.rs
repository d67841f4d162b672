//! The retry cursor both links of a live session share: how many attempts
//! were made since the drop, the delay of the next one under `reconnect`,
//! and the `reconnecting` / `reconnected` events the app sees.

use std::rc::Rc;

use crate::core::io::{Event, LinkKind};
use crate::core::Failure;

#[derive(Debug)]
pub(super) struct Retry {
    link: LinkKind,
    /// When the link dropped (ms since the epoch).
    since: f64,
    /// Attempts started so far.
    attempts: u32,
}

impl Retry {
    pub fn new(link: LinkKind, since: f64) -> Retry {
        Retry { link, since, attempts: 0 }
    }

    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub fn since(&self) -> f64 {
        self.since
    }

    /// The delay before the next attempt: `delays` in turn, then `None`, or
    /// the last one again when `repeat_last` (the coordinator link, which is
    /// bounded by its grace period instead).
    pub fn next_delay(&self, delays: &[u32], repeat_last: bool) -> Option<u32> {
        let at = self.attempts as usize;
        match delays.get(at) {
            Some(&delay) => Some(delay),
            None if repeat_last => delays.last().copied(),
            None => None,
        }
    }

    /// The next attempt starts in `delay_ms`: counted, and announced.
    pub fn reconnecting<V>(&mut self, delay_ms: u32, reason: Rc<Failure>) -> Event<V> {
        self.attempts += 1;
        Event::Reconnecting { link: self.link, attempt: self.attempts, delay_ms, reason }
    }

    /// The link is back at `now`.
    pub fn reconnected<V>(&self, now: f64) -> Event<V> {
        Event::Reconnected { link: self.link, attempts: self.attempts, downtime_ms: now - self.since }
    }
}
