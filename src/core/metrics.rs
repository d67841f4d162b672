//! Connection statistics: the raw counters the web shell reads from the
//! peer's `RTCStatsReport`, and the rates over an interval computed from
//! two of them. Plain arithmetic; the browser only supplies numbers.

/// The model video's `inbound-rtp` counters (cumulative since its start).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inbound {
    pub bytes: f64,
    pub packets: f64,
    pub packets_lost: f64,
    pub frames_decoded: f64,
    pub frames_dropped: f64,
    /// Seconds, as the browser reports it (not a counter).
    pub jitter_s: Option<f64>,
}

/// One reading of the peer connection's statistics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsSample {
    /// The report's timestamp (ms).
    pub at_ms: f64,
    /// `None` until the model's video has sent a packet.
    pub inbound: Option<Inbound>,
    /// Every `outbound-rtp`'s `bytesSent`, summed.
    pub bytes_sent: f64,
    /// Seconds: the selected candidate pair's `currentRoundTripTime`, or
    /// `remote-inbound-rtp`'s `roundTripTime`.
    pub rtt_s: Option<f64>,
    /// `candidateType` of the selected pair's local and remote candidates.
    pub local_candidate: Option<String>,
    pub remote_candidate: Option<String>,
}

/// The runtime's own `mediaStats` verdict and when it arrived.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RuntimeQos {
    /// 0 (worst) to 10.
    pub aggregate_qos: f64,
    /// Milliseconds since it arrived, at the sample's instant.
    pub age_ms: f64,
}

/// What the app sees (`stats` event, `getStats()`): rates are over
/// `interval_ms` ending at `timestamp`.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsReport {
    pub timestamp: f64,
    pub interval_ms: f64,
    pub rtt_ms: Option<f64>,
    pub received_kbps: f64,
    pub sent_kbps: f64,
    pub fps: f64,
    /// Share of the model video's packets lost in the interval, 0..1.
    pub packet_loss: f64,
    pub jitter_ms: Option<f64>,
    pub frames_dropped: f64,
    pub frames_dropped_total: f64,
    pub local_candidate: Option<String>,
    pub remote_candidate: Option<String>,
    pub runtime: Option<RuntimeQos>,
}

impl StatsSample {
    /// Whether `self` can be measured against `earlier`: later, and no
    /// counter went back (a new peer or receiver restarts them).
    pub fn follows(&self, earlier: &StatsSample) -> bool {
        let inbound_ok = match (&self.inbound, &earlier.inbound) {
            (Some(now), Some(then)) => {
                now.bytes >= then.bytes
                    && now.packets >= then.packets
                    && now.packets_lost >= then.packets_lost
                    && now.frames_decoded >= then.frames_decoded
                    && now.frames_dropped >= then.frames_dropped
            }
            (None, Some(_)) => false,
            _ => true,
        };
        self.at_ms > earlier.at_ms && self.bytes_sent >= earlier.bytes_sent && inbound_ok
    }

    /// The report over `[earlier, self]`; with no `earlier`, an empty
    /// interval whose rates are 0.
    pub fn report(&self, earlier: Option<&StatsSample>, runtime: Option<RuntimeQos>) -> StatsReport {
        let zero = Inbound::default();
        let now = self.inbound.as_ref().unwrap_or(&zero);
        let (interval_ms, then, sent_before) = match earlier {
            Some(e) => (self.at_ms - e.at_ms, e.inbound.as_ref().unwrap_or(&zero), e.bytes_sent),
            None => (0.0, now, self.bytes_sent),
        };
        let per_second = |delta: f64| if interval_ms > 0.0 { delta * 1000.0 / interval_ms } else { 0.0 };
        let lost = now.packets_lost - then.packets_lost;
        let expected = lost + now.packets - then.packets;
        StatsReport {
            timestamp: self.at_ms,
            interval_ms,
            rtt_ms: self.rtt_s.map(|s| round(s * 1000.0, 10.0)),
            received_kbps: round(per_second(now.bytes - then.bytes) * 8.0 / 1000.0, 10.0),
            sent_kbps: round(per_second(self.bytes_sent - sent_before) * 8.0 / 1000.0, 10.0),
            fps: round(per_second(now.frames_decoded - then.frames_decoded), 10.0),
            packet_loss: if expected > 0.0 { round(lost.max(0.0) / expected, 10_000.0) } else { 0.0 },
            jitter_ms: now.jitter_s.map(|s| round(s * 1000.0, 10.0)),
            frames_dropped: now.frames_dropped - then.frames_dropped,
            frames_dropped_total: now.frames_dropped,
            local_candidate: self.local_candidate.clone(),
            remote_candidate: self.remote_candidate.clone(),
            runtime,
        }
    }
}

/// `value` to the nearest `1 / scale`: the reports stay readable.
fn round(value: f64, scale: f64) -> f64 {
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: f64, bytes: f64, packets: f64, lost: f64, frames: f64) -> StatsSample {
        let inbound = Inbound {
            bytes,
            packets,
            packets_lost: lost,
            frames_decoded: frames,
            frames_dropped: 1.0,
            jitter_s: Some(0.0042),
        };
        StatsSample {
            at_ms,
            inbound: Some(inbound),
            bytes_sent: bytes / 2.0,
            rtt_s: Some(0.0015),
            ..Default::default()
        }
    }

    #[test]
    fn rates_are_over_the_interval() {
        let then = sample(1_000.0, 0.0, 0.0, 0.0, 0.0);
        let now = sample(3_000.0, 250_000.0, 190.0, 10.0, 60.0);
        let report = now.report(Some(&then), None);
        assert_eq!(report.interval_ms, 2_000.0);
        assert_eq!(report.received_kbps, 1_000.0);
        assert_eq!(report.sent_kbps, 500.0);
        assert_eq!(report.fps, 30.0);
        assert_eq!(report.packet_loss, 0.05);
        assert_eq!(report.rtt_ms, Some(1.5));
        assert_eq!(report.jitter_ms, Some(4.2));
        assert_eq!((report.frames_dropped, report.frames_dropped_total), (0.0, 1.0));
    }

    #[test]
    fn no_earlier_sample_is_an_empty_interval() {
        let report = sample(3_000.0, 250_000.0, 190.0, 10.0, 60.0).report(None, None);
        assert_eq!((report.interval_ms, report.received_kbps, report.fps, report.packet_loss), (0.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn counters_that_go_back_or_no_time_passing_do_not_follow() {
        let then = sample(1_000.0, 5_000.0, 50.0, 0.0, 30.0);
        assert!(sample(2_000.0, 6_000.0, 60.0, 0.0, 40.0).follows(&then));
        assert!(!sample(2_000.0, 100.0, 1.0, 0.0, 1.0).follows(&then), "a new peer");
        assert!(!sample(1_000.0, 6_000.0, 60.0, 0.0, 40.0).follows(&then), "the same instant");
        let mut lost_video = sample(2_000.0, 6_000.0, 60.0, 0.0, 40.0);
        lost_video.inbound = None;
        assert!(!lost_video.follows(&then), "a new receiver with no packets yet");
    }
}
