//! The `connectionQuality` verdict: each `stats` report judged on its own
//! (a raw verdict), then smoothed so that the verdict the app sees does not
//! flap. The thresholds and the rule are in the README ("Reading the
//! connection's quality"); the tests below pin them.

use super::metrics::StatsReport;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quality {
    Lost,
    Poor,
    Fair,
    Good,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Bandwidth,
    Latency,
    Loss,
    Stall,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub quality: Quality,
    /// What holds the quality down; `None` when good.
    pub limited_by: Option<Limit>,
}

impl Quality {
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Lost => "lost",
            Quality::Poor => "poor",
            Quality::Fair => "fair",
            Quality::Good => "good",
        }
    }
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Bandwidth => "bandwidth",
            Limit::Latency => "latency",
            Limit::Loss => "loss",
            Limit::Stall => "stall",
        }
    }
}

/// Packet loss (share of packets) at which the quality is fair, poor.
pub const LOSS_FAIR: f64 = 0.03;
pub const LOSS_POOR: f64 = 0.10;
/// Round-trip time (ms) at which the quality is fair, poor.
pub const RTT_FAIR_MS: f64 = 150.0;
pub const RTT_POOR_MS: f64 = 400.0;
/// Received fps as a share of the usual fps at which the quality is fair, poor.
pub const FPS_FAIR: f64 = 0.8;
pub const FPS_POOR: f64 = 0.5;
/// Round-trip time above the lowest seen (ms) that means packets queue
/// behind a bottleneck: what a bandwidth limit looks like.
pub const QUEUEING_MS: f64 = 100.0;
/// No frame decoded for this long (ms) is `lost`, told at once: the wait is the smoothing.
pub const STALL_MS: f64 = 2_000.0;
/// Consecutive reports a worse verdict needs before it is adopted, and a better one.
pub const WORSE_AFTER: u32 = 2;
pub const BETTER_AFTER: u32 = 3;
/// Received bitrate below this share of the usual: the link no longer carries the video.
pub const BITRATE_COLLAPSE: f64 = 0.5;
/// How much of the usual fps and bitrate is kept per report (they follow a
/// model that slows down for good).
const USUAL_KEPT: f64 = 0.99;

/// A run of raw verdicts on one side of the current one, and the one the
/// run would settle on: the least bad of a worsening run, the worst of an
/// improving one.
#[derive(Debug, Default)]
struct Run {
    count: u32,
    bound: Option<Verdict>,
}

#[derive(Debug, Default)]
pub struct Judge {
    current: Option<Verdict>,
    worse: Run,
    better: Run,
    usual_fps: Usual,
    usual_kbps: Usual,
    lowest_rtt_ms: Option<f64>,
}

/// The highest value held over two reports in a row, fading slowly: a
/// burst that catches up after a stall does not raise it.
#[derive(Debug, Default)]
struct Usual {
    value: f64,
    previous: Option<f64>,
}

impl Usual {
    fn update(&mut self, now: f64) -> f64 {
        let held = self.previous.replace(now).map_or(now, |previous| now.min(previous));
        self.value = (self.value * USUAL_KEPT).max(held);
        self.value
    }
}

impl Judge {
    pub fn current(&self) -> Option<Verdict> {
        self.current
    }

    /// Judges one report, `stalled_ms` after the last frame was decoded;
    /// returns the verdict when it changed.
    pub fn observe(&mut self, report: &StatsReport, stalled_ms: f64) -> Option<Verdict> {
        let raw = self.raw(report, stalled_ms);
        self.smooth(raw)
    }

    /// One report on its own.
    fn raw(&mut self, report: &StatsReport, stalled_ms: f64) -> Verdict {
        let usual_fps = self.usual_fps.update(report.fps);
        let usual_kbps = self.usual_kbps.update(report.received_kbps);
        if let Some(rtt) = report.rtt_ms {
            self.lowest_rtt_ms = Some(self.lowest_rtt_ms.map_or(rtt, |low| low.min(rtt)));
        }
        if stalled_ms >= STALL_MS {
            return Verdict { quality: Quality::Lost, limited_by: Some(Limit::Stall) };
        }
        let loss = level(report.packet_loss, LOSS_FAIR, LOSS_POOR);
        let rtt = report.rtt_ms.map_or(Quality::Good, |ms| level(ms, RTT_FAIR_MS, RTT_POOR_MS));
        let fps = match report.fps / usual_fps {
            share if share < FPS_POOR => Quality::Poor,
            share if share < FPS_FAIR => Quality::Fair,
            _ => Quality::Good,
        };
        let quality = loss.min(rtt).min(fps);
        let queueing = match (report.rtt_ms, self.lowest_rtt_ms) {
            (Some(rtt), Some(low)) => rtt - low >= QUEUEING_MS,
            _ => false,
        };
        let collapsed = report.received_kbps < usual_kbps * BITRATE_COLLAPSE;
        let limited_by = match quality {
            Quality::Good => None,
            _ if queueing || collapsed => Some(Limit::Bandwidth),
            _ if loss == quality => Some(Limit::Loss),
            _ if fps == quality => Some(Limit::Bandwidth),
            _ => Some(Limit::Latency),
        };
        Verdict { quality, limited_by }
    }

    fn smooth(&mut self, raw: Verdict) -> Option<Verdict> {
        let Some(current) = self.current.filter(|_| raw.quality != Quality::Lost) else { return self.adopt(raw) };
        if raw.quality < current.quality {
            self.better = Run::default();
            if extend(&mut self.worse, raw, |bound| raw.quality > bound.quality) >= WORSE_AFTER {
                return self.adopt(self.worse.bound?);
            }
        } else if raw.quality > current.quality {
            self.worse = Run::default();
            if extend(&mut self.better, raw, |bound| raw.quality < bound.quality) >= BETTER_AFTER {
                return self.adopt(self.better.bound?);
            }
        } else {
            self.worse = Run::default();
            self.better = Run::default();
        }
        None
    }

    fn adopt(&mut self, verdict: Verdict) -> Option<Verdict> {
        self.worse = Run::default();
        self.better = Run::default();
        (self.current.replace(verdict) != Some(verdict)).then_some(verdict)
    }
}

/// Adds `raw` to `run`, making it the bound when `replaces` says so; the run's length.
fn extend(run: &mut Run, raw: Verdict, replaces: impl Fn(&Verdict) -> bool) -> u32 {
    if run.bound.as_ref().is_none_or(replaces) {
        run.bound = Some(raw);
    }
    run.count += 1;
    run.count
}

fn level(value: f64, fair: f64, poor: f64) -> Quality {
    if value >= poor {
        Quality::Poor
    } else if value >= fair {
        Quality::Fair
    } else {
        Quality::Good
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(fps: f64, loss: f64, rtt_ms: f64) -> StatsReport {
        StatsReport {
            timestamp: 0.0,
            interval_ms: 2_000.0,
            rtt_ms: Some(rtt_ms),
            received_kbps: 1_000.0,
            sent_kbps: 0.0,
            fps,
            packet_loss: loss,
            jitter_ms: None,
            frames_dropped: 0.0,
            frames_dropped_total: 0.0,
            local_candidate: None,
            remote_candidate: None,
            runtime: None,
        }
    }

    const GOOD: Verdict = Verdict { quality: Quality::Good, limited_by: None };

    fn verdict(quality: Quality, limit: Limit) -> Verdict {
        Verdict { quality, limited_by: Some(limit) }
    }

    /// What the app would see for a series: one entry per report, `Some` where an event goes out.
    /// A report with no frames stands for a stall of its whole interval.
    fn stalled(r: &StatsReport) -> f64 {
        if r.fps > 0.0 {
            0.0
        } else {
            r.interval_ms
        }
    }

    fn emitted(series: &[StatsReport]) -> Vec<Option<Verdict>> {
        let mut judge = Judge::default();
        series.iter().map(|r| judge.observe(r, stalled(r))).collect()
    }

    fn raw(judge: &mut Judge, r: StatsReport) -> Verdict {
        judge.raw(&r, stalled(&r))
    }

    #[test]
    fn each_factor_and_its_thresholds() {
        let mut judge = Judge::default();
        assert_eq!(raw(&mut judge, report(30.0, 0.0, 1.0)), GOOD);
        assert_eq!(raw(&mut judge, report(30.0, 0.03, 1.0)), verdict(Quality::Fair, Limit::Loss));
        assert_eq!(raw(&mut judge, report(30.0, 0.10, 1.0)), verdict(Quality::Poor, Limit::Loss));
        assert_eq!(raw(&mut judge, report(20.0, 0.0, 1.0)), verdict(Quality::Fair, Limit::Bandwidth));
        assert_eq!(raw(&mut judge, report(12.0, 0.0, 1.0)), verdict(Quality::Poor, Limit::Bandwidth));
        assert_eq!(raw(&mut judge, report(0.0, 0.0, 1.0)), verdict(Quality::Lost, Limit::Stall));
        // Loss explains the frames that went missing with it...
        assert_eq!(raw(&mut judge, report(20.0, 0.04, 1.0)), verdict(Quality::Fair, Limit::Loss));
        // ...unless packets queue, or the bitrate collapsed: then the link is full.
        assert_eq!(raw(&mut judge, report(12.0, 0.2, 300.0)), verdict(Quality::Poor, Limit::Bandwidth));
        let mut starved = report(12.0, 0.2, 1.0);
        starved.received_kbps = 400.0;
        assert_eq!(raw(&mut judge, starved), verdict(Quality::Poor, Limit::Bandwidth));
    }

    #[test]
    fn a_long_path_is_latency_a_queue_is_bandwidth() {
        let mut far = Judge::default();
        assert_eq!(raw(&mut far, report(30.0, 0.0, 450.0)), verdict(Quality::Poor, Limit::Latency));
        let mut near = Judge::default();
        assert_eq!(raw(&mut near, report(30.0, 0.0, 200.0)), verdict(Quality::Fair, Limit::Latency));
        assert_eq!(raw(&mut near, report(30.0, 0.0, 450.0)), verdict(Quality::Poor, Limit::Bandwidth));
    }

    #[test]
    fn a_catch_up_burst_does_not_raise_the_usual_fps() {
        let mut judge = Judge::default();
        for fps in [30.0, 30.0, 16.0, 37.0] {
            raw(&mut judge, report(fps, 0.0, 1.0));
        }
        assert_eq!(raw(&mut judge, report(28.0, 0.0, 1.0)), GOOD);
    }

    #[test]
    fn the_first_verdict_is_told_at_once_then_only_changes() {
        let good = report(30.0, 0.0, 1.0);
        assert_eq!(emitted(&[good.clone(), good.clone(), good]), vec![Some(GOOD), None, None]);
    }

    #[test]
    fn worse_takes_two_reports_better_takes_three() {
        let (good, poor) = (report(30.0, 0.0, 1.0), report(30.0, 0.2, 1.0));
        let series = [good.clone(), poor.clone(), poor.clone(), good.clone(), good.clone(), good];
        let poor_loss = verdict(Quality::Poor, Limit::Loss);
        assert_eq!(emitted(&series), vec![Some(GOOD), None, Some(poor_loss), None, None, Some(GOOD)]);
    }

    #[test]
    fn a_run_settles_on_its_mildest_report() {
        let series = [report(30.0, 0.0, 1.0), report(30.0, 0.2, 1.0), report(30.0, 0.05, 1.0)];
        assert_eq!(emitted(&series)[2], Some(verdict(Quality::Fair, Limit::Loss)));
    }

    #[test]
    fn flapping_inputs_do_not_flap() {
        let (good, poor, lost) = (report(30.0, 0.0, 1.0), report(30.0, 0.2, 1.0), report(0.0, 0.0, 1.0));
        let mut series = vec![good.clone()];
        for _ in 0..20 {
            series.push(poor.clone());
            series.push(good.clone());
        }
        let told: Vec<_> = emitted(&series).into_iter().flatten().collect();
        assert_eq!(told, vec![GOOD], "alternating good and poor keeps the first verdict");
        // Two bad, one good, repeated: worse sticks, since better needs three in a row.
        let mut series = vec![good.clone()];
        for _ in 0..10 {
            series.extend([poor.clone(), poor.clone(), good.clone()]);
        }
        let told: Vec<_> = emitted(&series).into_iter().flatten().collect();
        assert_eq!(told, vec![GOOD, verdict(Quality::Poor, Limit::Loss)]);
        // Stalls and good reports, two each: lost at once, and it sticks.
        let mut series = vec![good.clone()];
        for _ in 0..10 {
            series.extend([lost.clone(), good.clone(), good.clone()]);
        }
        let told: Vec<_> = emitted(&series).into_iter().flatten().collect();
        assert_eq!(told, vec![GOOD, verdict(Quality::Lost, Limit::Stall)]);
    }

    #[test]
    fn a_stall_is_lost_at_once_and_comes_back_after_three_reports() {
        let (good, stalled) = (report(30.0, 0.0, 1.0), report(0.0, 0.0, 1.0));
        let series = [good.clone(), stalled, good.clone(), good.clone(), good];
        let lost = verdict(Quality::Lost, Limit::Stall);
        assert_eq!(emitted(&series), vec![Some(GOOD), Some(lost), None, None, Some(GOOD)]);
        let mut judge = Judge::default();
        judge.observe(&report(30.0, 0.0, 1.0), 0.0);
        assert_eq!(judge.observe(&report(15.0, 0.0, 1.0), 1_999.0), None, "not yet a stall");
    }

    #[test]
    fn the_usual_fps_follows_a_model_that_slows_down_for_good() {
        let mut judge = Judge::default();
        raw(&mut judge, report(30.0, 0.0, 1.0));
        raw(&mut judge, report(30.0, 0.0, 1.0));
        let mut last = raw(&mut judge, report(20.0, 0.0, 1.0));
        assert_eq!(last.quality, Quality::Fair);
        for _ in 0..60 {
            last = raw(&mut judge, report(20.0, 0.0, 1.0));
        }
        assert_eq!(last, GOOD);
    }
}
