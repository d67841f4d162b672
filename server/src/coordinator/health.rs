//! When a machine that fails its health checks is declared down: the same
//! rule in memory and in Redis mode.
//!
//! A machine that refuses the check, or answers it with an error, is gone
//! or broken: down after [`FAILED_CHECKS`] in a row. One that only stays
//! silent (the check times out) may be frozen for a moment or starved of
//! bandwidth; if it holds a live session, the browser's own link to it may
//! well still be up, and the SDK re-makes that link once the machine is
//! back. So a held machine may stay silent for [`SILENT_CHECKS`] checks
//! before its session is ended; a free one may not, since no one waits on it.

/// Consecutive failed checks before a machine is declared down.
pub const FAILED_CHECKS: u32 = 2;

/// Consecutive silent checks before a machine holding a session is declared
/// down: some 12–14 s of silence at the default 2 s interval (each check waits 2 s).
pub const SILENT_CHECKS: u32 = 6;

/// How a health check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Miss {
    /// Refused, reset, or answered with an error status.
    Refused,
    /// No answer within the check's timeout.
    Silent,
}

/// The failed checks of one machine since its last good one.
#[derive(Debug, Default)]
pub struct Failures {
    count: u32,
    /// Whether any check of the run was refused.
    refused: bool,
    declared: bool,
}

impl Failures {
    /// A check answered: the run is over.
    pub fn cleared(&mut self) {
        *self = Failures::default();
    }

    /// A check failed; true once, when the machine is to be declared down
    /// (`held`: it serves a session).
    pub fn failed(&mut self, miss: Miss, held: bool) -> bool {
        self.count += 1;
        self.refused |= miss == Miss::Refused;
        let allowed = if held && !self.refused { SILENT_CHECKS } else { FAILED_CHECKS };
        let down = self.count >= allowed;
        let first = down && !self.declared;
        self.declared |= down;
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Failing checks, one after another: the one (1-based) that declares the machine down.
    fn down_at(miss: impl Fn(u32) -> Miss, held: bool) -> Option<u32> {
        let mut failures = Failures::default();
        (1..=20).find(|&n| failures.failed(miss(n), held))
    }

    #[test]
    fn a_free_machine_is_down_after_two_failed_checks_of_any_kind() {
        assert_eq!(down_at(|_| Miss::Silent, false), Some(FAILED_CHECKS));
        assert_eq!(down_at(|_| Miss::Refused, false), Some(FAILED_CHECKS));
    }

    #[test]
    fn a_held_machine_that_refuses_is_down_as_soon() {
        assert_eq!(down_at(|_| Miss::Refused, true), Some(FAILED_CHECKS));
        assert_eq!(down_at(|n| if n == 1 { Miss::Silent } else { Miss::Refused }, true), Some(2));
        assert_eq!(down_at(|n| if n < 5 { Miss::Silent } else { Miss::Refused }, true), Some(5));
    }

    #[test]
    fn a_held_machine_that_only_stays_silent_has_its_grace() {
        assert_eq!(down_at(|_| Miss::Silent, true), Some(SILENT_CHECKS));
    }

    #[test]
    fn down_is_said_once_and_an_answer_starts_afresh() {
        let mut failures = Failures::default();
        assert!(!failures.failed(Miss::Refused, false));
        assert!(failures.failed(Miss::Refused, false));
        assert!(!failures.failed(Miss::Refused, false), "said once");
        failures.cleared();
        assert!(!failures.failed(Miss::Silent, true), "a new run");
        assert!(!failures.failed(Miss::Silent, true));
    }
}
