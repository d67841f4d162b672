//! Reaching the machine: the token, the coordinator's frames, and every
//! HTTP answer on the way to the peer connection (signaling included).

use reactor_protocol::coordinator::{Assigned, ClientFrame, ErrorBody, Queued, ServerFrame, WS_PATH};
use reactor_protocol::runtime::{paths, LOCAL_SESSION_ID};
use reactor_protocol::ErrorCode;

use super::{Phase, Session, CONNECT_TIMEOUT_MS, HELLO_TIMEOUT_MS, SOCKET_TIMEOUT_MS};
use crate::core::io::{Action, Event, HttpResult, Purpose, Reply, Timer};
use crate::core::{Failure, ReactorError, Status, WaitingInfo};

impl<V> Session<V> {
    pub(super) fn on_http(&mut self, now: f64, purpose: Purpose, result: HttpResult) {
        if self.recovery_http(now, purpose, &result) {
            return;
        }
        let (status, reply) = match result {
            HttpResult::Answered { status, reply } => (status, reply),
            HttpResult::Failed(failure) => {
                if purpose == Purpose::Token && self.fail_over() {
                    return;
                }
                let failure = Failure::Unreachable { purpose, url: self.coordinator().to_string(), failure };
                return self.fail(ReactorError::new(error_code_for(purpose), failure, now));
            }
        };
        // A coordinator that cannot serve (5xx) may have a sibling that can; a refusal (4xx) holds for all.
        if purpose == Purpose::Token && status >= 500 && self.fail_over() {
            return;
        }
        match (purpose, reply) {
            (_, Reply::Error(body)) => self.fail(from_body(body, now)),
            (_, Reply::Other | Reply::Unreadable(_)) if !is_success(status) => {
                self.fail(status_error(purpose, status, now))
            }
            (_, Reply::Unreadable(error)) => {
                let failure = Failure::Unreadable { purpose, status, error };
                self.fail(ReactorError::new(error_code_for(purpose), failure, now));
            }
            (Purpose::Token, Reply::Token(token)) => {
                if let Phase::Token = self.phase {
                    self.phase = Phase::Socket { token: token.token };
                    let url = ws_url(self.coordinator());
                    self.actions.push_back(Action::OpenSocket { url });
                    self.set_timer(Timer::Step, SOCKET_TIMEOUT_MS);
                }
            }
            (Purpose::StartSession, Reply::Session(descriptor)) => {
                let base = format!("{}/sessions/{LOCAL_SESSION_ID}{}", self.options.coordinator_url, paths::WEBRTC);
                self.start_link(base, None, descriptor.capabilities, Vec::new());
            }
            (Purpose::RegisterConnection, Reply::Connection(c)) => {
                if let Phase::Machine(link) = &mut self.phase {
                    if let Some(request) = link.set_connection_id(c.connection_id.to_string()) {
                        self.actions.push_back(Action::Http(request));
                    }
                }
            }
            (Purpose::PostOffer, _) => {
                if let Phase::Machine(link) = &mut self.phase {
                    let answer = link.get_answer();
                    let candidates = link.offer_posted();
                    self.actions.push_back(Action::Http(answer));
                    if let Some(candidates) = candidates {
                        self.actions.push_back(Action::Http(candidates));
                    }
                }
            }
            (Purpose::GetAnswer, Reply::Answer(answer)) => {
                if let Phase::Machine(link) = &mut self.phase {
                    let Some(sdp) = link.accept_answer(answer.sdp_answer) else {
                        let ms = link.next_poll_ms();
                        return self.set_timer(Timer::AnswerPoll, ms);
                    };
                    self.actions.push_back(Action::SetRemoteAnswer(sdp));
                    let ms = if self.recovering() { super::ATTEMPT_CONNECT_MS } else { CONNECT_TIMEOUT_MS };
                    self.set_timer(Timer::Step, ms);
                }
            }
            (Purpose::GetAnswer, _) => {
                if let Phase::Machine(link) = &mut self.phase {
                    let ms = link.next_poll_ms();
                    self.set_timer(Timer::AnswerPoll, ms);
                }
            }
            (Purpose::StopSession | Purpose::PostCandidates, _) => {}
            (purpose, _) => {
                let failure = Failure::Unexpected { purpose, status };
                self.fail(ReactorError::new(error_code_for(purpose), failure, now));
            }
        }
    }

    pub(super) fn on_socket_open(&mut self) {
        if self.send_resume() {
            return;
        }
        if let Phase::Socket { token } = &self.phase {
            let token = token.clone();
            self.socket_open = true;
            self.actions.push_back(Action::SendFrame(ClientFrame::Hello {
                token: token.clone(),
                model: self.options.model_name.clone(),
                queueing: self.options.queueing,
            }));
            self.phase = Phase::Queue { token, heard: false };
            self.waiting = Some(WaitingInfo { position: None, estimated_wait: None });
            self.set_status(Status::Waiting);
            self.set_timer(Timer::Step, HELLO_TIMEOUT_MS);
        }
    }

    pub(super) fn on_frame(&mut self, now: f64, frame: ServerFrame) {
        match frame {
            ServerFrame::Error(body) => self.fail(from_body(body, now)),
            ServerFrame::Resumed => self.on_resumed(now),
            ServerFrame::Queued(Queued { position, estimated_wait, resume }) => {
                self.remember_resume(resume, None);
                let Phase::Queue { heard, .. } = &mut self.phase else { return };
                if !*heard {
                    *heard = true;
                    // Waiting in the queue has no deadline; the coordinator has answered.
                    self.actions.push_back(Action::CancelTimer(Timer::Step));
                }
                let info = WaitingInfo { position: Some(position), estimated_wait };
                if self.waiting != Some(info) {
                    self.waiting = Some(info);
                    self.actions.push_back(Action::Emit(Event::WaitingInfoChanged(info)));
                }
            }
            ServerFrame::Assigned(Assigned { session_id, capabilities, ice_servers, resume, .. }) => {
                self.remember_resume(resume, Some(&session_id));
                // On a machine already (an `assigned` repeated after `resumed`): nothing changes.
                let Phase::Queue { token, .. } = &self.phase else { return };
                let token = token.clone();
                let base = session_base(self.coordinator(), &session_id);
                self.start_link(base, Some(token), capabilities, ice_servers);
            }
        }
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Where a session's signaling goes through the coordinator's proxy.
pub(super) fn session_base(coordinator_url: &str, session_id: &str) -> String {
    format!("{coordinator_url}/sessions/{session_id}{}", paths::WEBRTC)
}

/// `http(s)://host` → `ws(s)://host/ws`.
pub fn ws_url(coordinator_url: &str) -> String {
    let rest = coordinator_url.strip_prefix("http").unwrap_or(coordinator_url);
    format!("ws{rest}{WS_PATH}")
}

/// The code for a failed step when the server gave no code of its own.
fn error_code_for(purpose: Purpose) -> ErrorCode {
    match purpose {
        Purpose::Token => ErrorCode::CoordinatorConnectionError,
        _ => ErrorCode::GpuConnectionFailed,
    }
}

fn from_body(body: ErrorBody, now: f64) -> ReactorError {
    let mut err = ReactorError::said(body.code, body.message, now);
    err.retry_after = body.retry_after;
    err
}

fn status_error(purpose: Purpose, status: u16, now: f64) -> ReactorError {
    let refused = purpose == Purpose::Token && (status == 401 || status == 403);
    let code = if refused { ErrorCode::AuthenticationFailed } else { error_code_for(purpose) };
    ReactorError::new(code, Failure::Status { purpose, status }, now)
}
