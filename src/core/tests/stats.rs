//! `fps`, `stats`, `getStats()` and `connectionQuality` as the session
//! drives them: the readings, their cadence, and teardown.

use super::harness::*;
use crate::core::*;

/// A reading at `at_ms` with `frames` decoded; bytes and packets grow with them.
fn reading(frames: f64, at_ms: f64) -> Input<String> {
    let inbound = Inbound {
        bytes: frames * 4_000.0,
        packets: frames * 4.0,
        packets_lost: 0.0,
        frames_decoded: frames,
        frames_dropped: 0.0,
        jitter_s: Some(0.002),
    };
    let sample = StatsSample {
        at_ms,
        inbound: Some(inbound),
        bytes_sent: frames * 1_000.0,
        rtt_s: Some(0.001),
        local_candidate: Some("host".into()),
        remote_candidate: Some("host".into()),
    };
    Input::Stats { sample: Some(sample), promise: None }
}

fn reports(actions: &[A]) -> Vec<&StatsReport> {
    actions.iter().filter_map(|a| if let Action::Emit(Event::Stats(r)) = a { Some(r) } else { None }).collect()
}

fn verdicts(actions: &[A]) -> Vec<Verdict> {
    let of = |a: &A| if let Action::Emit(Event::ConnectionQuality(v)) = a { Some(*v) } else { None };
    actions.iter().filter_map(of).collect()
}

fn ready_with_video() -> Driver {
    let mut d = Driver::new();
    d.reach_ready();
    let actions = d.input(Input::RemoteTrack("video".into()));
    assert!(actions.contains(&Action::ReadStats { promise: None }), "a first reading at once");
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Stats, ms: 1000 }));
    d
}

#[test]
fn fps_comes_from_frames_decoded_once_a_second() {
    let mut d = ready_with_video();
    let tick = d.input(Input::Timer(Timer::Stats));
    assert_eq!(tick, vec![Action::ReadStats { promise: None }, Action::SetTimer { timer: Timer::Stats, ms: 1000 }]);
    assert!(d.input(reading(10.0, 1000.0)).is_empty(), "one sample is no rate");
    let first = d.input(reading(40.0, 2000.0));
    assert_eq!(first, vec![Action::Emit(Event::Fps(30.0))]);
    let second = d.input(reading(54.0, 2500.0));
    assert_eq!(second[0], Action::Emit(Event::Fps(28.0)));
    assert!(!d.input(reading(3.0, 3500.0)).iter().any(|a| matches!(a, Action::Emit(_))), "a reset counter");
    assert!(d.input(reading(3.0, 3500.0)).is_empty(), "no time passed");
}

#[test]
fn a_report_every_second_reading_over_two_seconds() {
    let mut d = ready_with_video();
    d.input(reading(0.0, 0.0));
    assert!(reports(&d.input(reading(30.0, 1_000.0))).is_empty());
    let actions = d.input(reading(60.0, 2_000.0));
    let report = reports(&actions)[0];
    assert_eq!((report.interval_ms, report.fps, report.received_kbps, report.sent_kbps), (2_000.0, 30.0, 960.0, 240.0));
    assert_eq!((report.local_candidate.as_deref(), report.rtt_ms), (Some("host"), Some(1.0)));
    assert_eq!(verdicts(&actions), vec![Verdict { quality: Quality::Good, limited_by: None }]);
    assert_eq!(d.session.connection_quality().map(|v| v.quality), Some(Quality::Good));
    assert!(reports(&d.input(reading(90.0, 3_000.0))).is_empty());
    let actions = d.input(reading(120.0, 4_000.0));
    assert_eq!(reports(&actions)[0].interval_ms, 2_000.0);
    assert!(verdicts(&actions).is_empty(), "only changes are told");
}

#[test]
fn a_new_peer_starts_the_interval_afresh_instead_of_negative_rates() {
    let mut d = ready_with_video();
    d.input(reading(500.0, 0.0));
    d.input(reading(530.0, 1_000.0));
    // The peer was replaced: its counters start again.
    assert!(reports(&d.input(reading(10.0, 2_000.0))).is_empty());
    assert!(reports(&d.input(reading(40.0, 3_000.0))).is_empty());
    let actions = d.input(reading(70.0, 4_000.0));
    let report = reports(&actions)[0];
    assert_eq!((report.interval_ms, report.fps), (2_000.0, 30.0));
    assert!(report.received_kbps >= 0.0 && report.sent_kbps >= 0.0);
}

#[test]
fn no_frames_while_ready_is_lost_then_back() {
    let mut d = ready_with_video();
    let mut told = Vec::new();
    let mut at = 0.0;
    // 30 fps for 4 s, none for 4 s, 30 fps again for 12 s.
    let mut frames = 0.0;
    for second in 0..=20 {
        if !(4..8).contains(&second) && second > 0 {
            frames += 30.0;
        }
        told.extend(verdicts(&d.input(reading(frames, at))));
        at += 1_000.0;
    }
    let lost = Verdict { quality: Quality::Lost, limited_by: Some(Limit::Stall) };
    let good = Verdict { quality: Quality::Good, limited_by: None };
    // Back through fair: the first report after the stall had half its frames.
    let fair = Verdict { quality: Quality::Fair, limited_by: Some(Limit::Bandwidth) };
    assert_eq!(told, vec![good, lost, fair, good]);
}

#[test]
fn nothing_is_judged_before_ready() {
    let mut d = Driver::new();
    d.reach_assigned();
    d.signal();
    d.input(Input::RemoteTrack("video".into()));
    for second in 0..6 {
        let actions = d.input(reading(second as f64 * 30.0, second as f64 * 1_000.0));
        assert!(reports(&actions).is_empty() && verdicts(&actions).is_empty());
    }
    assert_eq!(d.session.connection_quality(), None);
}

#[test]
fn the_runtime_score_comes_with_its_age() {
    let mut d = ready_with_video();
    d.input(Input::RuntimeQos(7.0));
    d.input(reading(0.0, 0.0));
    d.input(reading(30.0, 1_000.0));
    let actions = d.input(reading(60.0, 2_000.0));
    // The harness feeds every input at NOW: no time passed since it came.
    assert_eq!(reports(&actions)[0].runtime, Some(RuntimeQos { aggregate_qos: 7.0, age_ms: 0.0 }));
}

#[test]
fn get_stats_reads_now_and_is_undefined_without_a_peer() {
    let mut d = Driver::new();
    assert_eq!(d.session.get_stats(), Outcome::Done, "disconnected");
    let mut d = ready_with_video();
    d.input(reading(0.0, 0.0));
    d.input(reading(30.0, 1_000.0));
    let promise = pending(d.session.get_stats());
    assert_eq!(d.drain(), vec![Action::ReadStats { promise: Some(promise) }]);
    let Input::Stats { sample, .. } = reading(45.0, 1_500.0) else { unreachable!() };
    let actions = d.input(Input::Stats { sample, promise: Some(promise) });
    let [Action::StatsReady { promise: answered, report: Some(report) }] = &actions[..] else {
        panic!("one answer: {actions:?}")
    };
    assert_eq!((*answered, report.interval_ms, report.fps), (promise, 1_500.0, 30.0));
    // A failed read answers `undefined`; an answer to nobody is dropped.
    let promise = pending(d.session.get_stats());
    d.drain();
    let actions = d.input(Input::Stats { sample: None, promise: Some(promise) });
    assert_eq!(actions, vec![Action::StatsReady { promise, report: None }]);
    assert!(d.input(Input::Stats { sample: None, promise: Some(promise) }).is_empty());
}

#[test]
fn teardown_answers_get_stats_and_stops_the_readings() {
    let mut d = ready_with_video();
    d.input(reading(10.0, 1000.0));
    let promise = pending(d.session.get_stats());
    d.drain();
    d.session.disconnect(NOW);
    let actions = d.drain();
    assert!(actions.contains(&Action::StatsReady { promise, report: None }));
    assert!(d.input(Input::Timer(Timer::Stats)).is_empty());
    assert_eq!(d.session.connection_quality(), None);
    // A new connection starts measuring afresh.
    d.reach_ready();
    d.input(Input::RemoteTrack("video".into()));
    assert!(d.input(reading(500.0, 9000.0)).is_empty());
}
