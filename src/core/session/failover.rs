//! A `coordinatorUrl` list: which coordinator is in use, and moving on to
//! the next one when this one cannot be reached (README "Several
//! coordinators").

use reactor_protocol::coordinator::TOKENS_PATH;

use super::{plain_request, Phase, Session, TOKEN_TIMEOUT_MS};
use crate::core::io::{Action, Purpose, Timer};

#[derive(Debug, Default)]
pub(super) struct Urls {
    /// Index in the list: 0 is `coordinator_url`.
    pub current: usize,
    /// URLs given up on in this `connect()` before admission.
    failed: usize,
}

impl<V> Session<V> {
    /// The coordinator URL in use.
    pub(super) fn coordinator(&self) -> &str {
        match self.urls.current {
            0 => &self.options.coordinator_url,
            i => &self.options.fallback_urls[i - 1],
        }
    }

    /// Round robin, for each resume attempt.
    pub(super) fn rotate_url(&mut self) {
        self.urls.current = (self.urls.current + 1) % (1 + self.options.fallback_urls.len());
    }

    /// `POST /tokens` at the coordinator in use.
    pub(super) fn request_token(&mut self) {
        self.phase = Phase::Token;
        let mut request = plain_request(Purpose::Token, format!("{}{TOKENS_PATH}", self.coordinator()));
        request.api_key = Some(self.options.api_key.clone());
        self.actions.push_back(Action::Http(request));
        self.set_timer(Timer::Step, TOKEN_TIMEOUT_MS);
    }

    /// Still getting in: the token, the socket, `hello` unanswered.
    pub(super) fn before_admission(&self) -> bool {
        matches!(self.phase, Phase::Token | Phase::Socket { .. } | Phase::Queue { heard: false, .. })
    }

    /// The coordinator in use could not be reached before admission: the next
    /// URL not tried yet in this `connect()` starts over from its token (a
    /// token of one process is no good on another in memory mode). `false`
    /// when every URL failed.
    pub(super) fn fail_over(&mut self) -> bool {
        if self.options.local || self.urls.failed >= self.options.fallback_urls.len() {
            return false;
        }
        self.urls.failed += 1;
        self.rotate_url();
        self.socket_open = false;
        self.actions.push_back(Action::CloseSocket);
        self.request_token();
        true
    }
}
