//! The connection's statistics: the peer's report is read once a second.
//! Each reading gives `fps` (frames decoded since the one before); every
//! second reading gives a `stats` report over the last two seconds and the
//! `connectionQuality` verdict drawn from it. `getStats()` reads once more,
//! on demand. Counters that go back (a new peer) start the measuring afresh.

use std::collections::VecDeque;

use super::{Phase, Session};
use crate::core::io::{Action, Event, Outcome, PromiseId, Timer};
use crate::core::metrics::{RuntimeQos, StatsSample};
use crate::core::quality::{Judge, Verdict};

pub const STATS_INTERVAL_MS: u32 = 1_000;
/// Readings per `stats` report: one every 2 s.
pub const READINGS_PER_REPORT: u32 = 2;

#[derive(Debug, Default)]
pub(super) struct Stats {
    running: bool,
    /// The previous reading for `fps`: frames decoded, at (ms).
    last: Option<(f64, f64)>,
    /// The last readings, newest last: the report's interval starts at the oldest.
    history: VecDeque<StatsSample>,
    since_report: u32,
    /// `getStats()` calls whose reading is under way.
    asked: Vec<PromiseId>,
    /// The runtime's last `mediaStats` score, and when it came (ms).
    runtime: Option<(f64, f64)>,
    /// When the frames decoded last went up (ms); judging starts with the first frame.
    frame_at: Option<f64>,
    judge: Judge,
}

impl<V> Session<V> {
    pub(super) fn start_stats(&mut self) {
        if !self.stats.running {
            self.stats.running = true;
            self.read_stats();
        }
    }

    pub(super) fn read_stats(&mut self) {
        self.actions.push_back(Action::ReadStats { promise: None });
        self.set_timer(Timer::Stats, STATS_INTERVAL_MS);
    }

    /// `getStats()`: a reading now, against the last periodic ones;
    /// `undefined` (done at once) with no peer connection.
    pub fn get_stats(&mut self) -> Outcome {
        if !matches!(self.phase, Phase::Machine(_)) {
            return Outcome::Done;
        }
        let promise = self.promise();
        self.stats.asked.push(promise);
        self.actions.push_back(Action::ReadStats { promise: Some(promise) });
        Outcome::Pending(promise)
    }

    /// The verdict last told by `connectionQuality`, while it stands.
    pub fn connection_quality(&self) -> Option<Verdict> {
        self.stats.judge.current().filter(|_| self.live())
    }

    /// Once ready the connection is judged (and it stays so while the
    /// machine link is being recovered).
    fn live(&self) -> bool {
        matches!(&self.phase, Phase::Machine(link) if link.ready)
    }

    pub(super) fn on_runtime_qos(&mut self, aggregate_qos: f64) {
        self.stats.runtime = Some((aggregate_qos, self.now));
    }

    pub(super) fn on_stats(&mut self, sample: Option<StatsSample>, promise: Option<PromiseId>) {
        match (promise, sample) {
            (Some(promise), sample) => self.answer_stats(promise, sample),
            (None, Some(sample)) => self.on_reading(sample),
            (None, None) => {}
        }
    }

    fn answer_stats(&mut self, promise: PromiseId, sample: Option<StatsSample>) {
        let Some(at) = self.stats.asked.iter().position(|p| *p == promise) else { return };
        self.stats.asked.swap_remove(at);
        let report = sample.map(|sample| {
            // Over at least a second when there is one: shorter says little.
            let history = &self.stats.history;
            let base = history.iter().rev().nth(1).or(history.back()).filter(|base| sample.follows(base));
            sample.report(base, self.runtime_qos())
        });
        self.actions.push_back(Action::StatsReady { promise, report });
    }

    fn on_reading(&mut self, sample: StatsSample) {
        if let Some(inbound) = &sample.inbound {
            if inbound.frames_decoded > self.stats.last.map_or(0.0, |(frames, _)| frames) {
                self.stats.frame_at = Some(sample.at_ms);
            }
            self.emit_fps(inbound.frames_decoded, sample.at_ms);
        }
        let qos = self.runtime_qos();
        let stats = &mut self.stats;
        if stats.history.back().is_some_and(|newest| !sample.follows(newest)) {
            stats.history.clear();
            stats.since_report = 0;
        }
        stats.history.push_back(sample);
        if stats.history.len() > READINGS_PER_REPORT as usize + 1 {
            stats.history.pop_front();
        }
        stats.since_report += 1;
        if stats.history.len() <= READINGS_PER_REPORT as usize || stats.since_report < READINGS_PER_REPORT {
            return;
        }
        stats.since_report = 0;
        let (Some(base), Some(newest)) = (stats.history.front(), stats.history.back()) else { return };
        let report = newest.report(Some(base), qos);
        if !self.live() {
            return;
        }
        let stalled_ms = self.stats.frame_at.map(|at| report.timestamp - at);
        let verdict = stalled_ms.and_then(|stalled_ms| self.stats.judge.observe(&report, stalled_ms));
        self.actions.push_back(Action::Emit(Event::Stats(report)));
        if let Some(verdict) = verdict {
            self.actions.push_back(Action::Emit(Event::ConnectionQuality(verdict)));
        }
    }

    fn runtime_qos(&self) -> Option<RuntimeQos> {
        let (aggregate_qos, at) = self.stats.runtime?;
        Some(RuntimeQos { aggregate_qos, age_ms: (self.now - at).max(0.0) })
    }

    /// The documented `fps` event: frames decoded between two readings.
    fn emit_fps(&mut self, frames_decoded: f64, at_ms: f64) {
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

    /// The machine link is re-made with a new peer: its counters start from
    /// zero, so measuring starts afresh; `getStats()` calls under way, the
    /// runtime's score and the verdict (with what it learnt) carry on.
    pub(super) fn stats_for_new_peer(&mut self) {
        let old = std::mem::take(&mut self.stats);
        self.stats = Stats { asked: old.asked, runtime: old.runtime, judge: old.judge, ..Stats::default() };
    }

    /// Teardown: `getStats()` calls still waiting resolve with `undefined`.
    pub(super) fn end_stats(&mut self) {
        for promise in std::mem::take(&mut self.stats.asked) {
            self.actions.push_back(Action::StatsReady { promise, report: None });
        }
        self.stats = Stats::default();
    }
}
