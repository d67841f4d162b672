/// `ReactorStatus`: where the session is on its one path
/// `disconnected → connecting → waiting → ready → disconnected`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// No connection.
    Disconnected,
    /// Reaching the coordinator (or, in local mode, the machine).
    Connecting,
    /// Connected to the coordinator, waiting for a machine and then for the
    /// machine connection to come up.
    Waiting,
    /// Connected to the machine: messages and video flow.
    Ready,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Disconnected => "disconnected",
            Status::Connecting => "connecting",
            Status::Waiting => "waiting",
            Status::Ready => "ready",
        }
    }
}

/// `ReactorWaitingInfo`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WaitingInfo {
    /// 1 = next in line; `None` before the coordinator has said.
    pub position: Option<u32>,
    /// Seconds, when the coordinator estimates it.
    pub estimated_wait: Option<f64>,
}
