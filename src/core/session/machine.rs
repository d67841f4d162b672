//! The peer connection to the machine: planned from the model's tracks,
//! up when the peer is connected and both channels are open.

use reactor_protocol::runtime::{
    Capabilities, ControlMessage, TrackDirection, TrackEvent, TrackKind, TrackNotification, TrackRef,
};

use super::{Phase, Session, SIGNALING_TIMEOUT_MS};
use crate::core::io::{Action, Channel, Outgoing, PeerPlan, PeerState, Timer};
use crate::core::link::Link;
use crate::core::{Failure, Status};

impl<V> Session<V> {
    pub(super) fn start_link(
        &mut self,
        base: String,
        bearer: Option<String>,
        capabilities: Capabilities,
        ice_servers: Vec<reactor_protocol::coordinator::IceServer>,
    ) {
        let videos = |direction| {
            let mut names = Vec::new();
            for track in &capabilities.tracks {
                if track.kind == TrackKind::Video && track.direction == direction {
                    names.push(track.name.clone());
                }
            }
            names
        };
        let plan =
            PeerPlan { ice_servers, send: videos(TrackDirection::Sendonly), receive: videos(TrackDirection::Recvonly) };
        let link = Link::new(base, bearer, plan.clone());
        self.create_peer(plan);
        self.actions.push_back(Action::Http(link.register()));
        self.phase = Phase::Machine(link);
        self.set_timer(Timer::Step, SIGNALING_TIMEOUT_MS);
    }

    pub(super) fn on_offer(&mut self, now: f64, sdp: String, mids: Vec<Option<String>>) {
        let Phase::Machine(link) = &mut self.phase else { return };
        match link.set_offer(sdp, mids) {
            Ok(Some(request)) => self.actions.push_back(Action::Http(request)),
            Ok(None) => {}
            Err(failure) => self.link_dropped(now, Failure::Peer(failure)),
        }
    }

    pub(super) fn on_peer_state(&mut self, now: f64, state: PeerState) {
        let Phase::Machine(link) = &mut self.phase else { return };
        match state {
            PeerState::Connected => {
                link.peer_connected = true;
                if link.ready {
                    // Back from `disconnected` within the grace.
                    self.actions.push_back(Action::CancelTimer(Timer::Grace));
                }
                self.check_ready();
            }
            PeerState::Failed | PeerState::Closed => self.link_dropped(now, Failure::PeerEnded(state)),
            // Often transient: re-made only if it lasts (see `recovery`).
            PeerState::Disconnected => self.peer_disconnected(),
            PeerState::New | PeerState::Connecting => {}
        }
    }

    pub(super) fn on_channel_open(&mut self, channel: Channel) {
        let Phase::Machine(link) = &mut self.phase else { return };
        match channel {
            Channel::Data => link.data_open = true,
            Channel::Control => {
                link.control_open = true;
                // Outputs start paused on the runtime until resumed.
                let outputs = link.plan.receive.clone();
                for name in outputs {
                    let event = TrackEvent::ResumeTrack;
                    let message = ControlMessage::Notification(TrackNotification { event, data: TrackRef { name } });
                    self.send(Channel::Control, Outgoing::Control(message));
                }
            }
        }
        self.check_ready();
    }

    pub(super) fn check_ready(&mut self) {
        let Phase::Machine(link) = &mut self.phase else { return };
        if link.ready || !link.is_up() {
            return;
        }
        link.ready = true;
        self.actions.push_back(Action::CancelTimer(Timer::Step));
        self.ping();
        self.set_status(Status::Ready);
        self.link_restored();
        if let Some(promise) = self.connect_promise.take() {
            self.settle(promise, Ok(()));
        }
        self.resume_sending();
        self.deliver_held_publish();
    }
}
