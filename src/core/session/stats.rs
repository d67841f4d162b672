//! `fps`: frames per second of the model's video, from the receiver's
//! `framesDecoded` sampled about once a second.

use super::Session;
use crate::core::io::{Action, Event, Timer};

pub const STATS_INTERVAL_MS: u32 = 1_000;

#[derive(Debug, Default)]
pub(super) struct Stats {
    running: bool,
    /// The previous sample: frames decoded, at (ms).
    last: Option<(f64, f64)>,
}

impl<V> Session<V> {
    pub(super) fn start_stats(&mut self) {
        if !self.stats.running {
            self.stats.running = true;
            self.set_timer(Timer::Stats, STATS_INTERVAL_MS);
        }
    }

    pub(super) fn read_stats(&mut self) {
        self.actions.push_back(Action::ReadStats);
        self.set_timer(Timer::Stats, STATS_INTERVAL_MS);
    }

    pub(super) fn on_stats(&mut self, frames_decoded: f64, at_ms: f64) {
        let previous = self.stats.last.replace((frames_decoded, at_ms));
        let Some((frames_before, at_before)) = previous else { return };
        // A report from the same instant, or counters that went back (a new
        // receiver), say nothing about the rate.
        if at_ms <= at_before || frames_decoded < frames_before {
            return;
        }
        let fps = (frames_decoded - frames_before) * 1000.0 / (at_ms - at_before);
        self.actions.push_back(Action::Emit(Event::Fps((fps * 10.0).round() / 10.0)));
    }
}
