//! The connection to one machine: signaling through its runtime API, then
//! waiting until the peer, both channels and the outputs are up.

use reactor_protocol::runtime::{
    paths, ClientInfo, IceCandidate, IceCandidates, SdpOffer, TrackDirection, TrackKind, TrackMapping,
};

use super::io::{Body, HttpRequest, Method, PeerFailure, PeerPlan, Purpose};
use super::session::{ANSWER_POLL_FIRST_MS, ANSWER_POLL_MS};

/// Signaling state of one machine connection.
#[derive(Debug)]
pub(crate) struct Link {
    /// `.../sessions/{id}/transport/webrtc`.
    base: String,
    /// The coordinator token, when signaling goes through its proxy.
    bearer: Option<String>,
    pub plan: PeerPlan,
    connection_id: Option<String>,
    offer: Option<SdpOffer>,
    /// The offer goes out as a `PUT` on the existing connection: the
    /// runtime's reconnect, which keeps the session.
    pub reoffer: bool,
    /// The offer last sent, for posting it again on a new connection.
    sent: Option<SdpOffer>,
    /// The machine's answer, once applied.
    answer: Option<String>,
    /// The answer of the connection this link replaces.
    replaced: Option<String>,
    offer_posted: bool,
    /// Answer requests that came back without the answer.
    polls: u32,
    pub answer_set: bool,
    candidates: Vec<IceCandidate>,
    gathering_done: bool,
    final_sent: bool,
    pub peer_connected: bool,
    pub data_open: bool,
    pub control_open: bool,
    pub ready: bool,
}

impl Link {
    pub fn new(base: String, bearer: Option<String>, plan: PeerPlan) -> Link {
        Link {
            base,
            bearer,
            plan,
            connection_id: None,
            offer: None,
            reoffer: false,
            sent: None,
            answer: None,
            replaced: None,
            offer_posted: false,
            polls: 0,
            answer_set: false,
            candidates: Vec::new(),
            gathering_done: false,
            final_sent: false,
            peer_connected: false,
            data_open: false,
            control_open: false,
            ready: false,
        }
    }

    /// A fresh link for a new peer on the same machine connection: its
    /// offer replaces the connection's (`PUT`).
    pub fn again(&self) -> Link {
        let mut link = Link::new(self.base.clone(), self.bearer.clone(), self.plan.clone());
        link.connection_id = self.connection_id.clone();
        link.reoffer = link.connection_id.is_some();
        link.replaced = self.answer.clone().or_else(|| self.replaced.clone());
        link
    }

    /// The machine's answer to apply, or `None` when it is still the one of
    /// the connection being replaced: a runtime serves that one until it has
    /// built the new transport (2.10.1 takes 2–3 s), and it cannot work for
    /// the new peer.
    pub fn accept_answer(&mut self, sdp: String) -> Option<String> {
        if self.replaced.as_deref() == Some(sdp.as_str()) {
            return None;
        }
        self.answer_set = true;
        self.answer = Some(sdp.clone());
        Some(sdp)
    }

    /// The runtime no longer knows the connection (it dropped it when its
    /// side saw the peer go): register a new one, then post the same offer.
    pub fn register_again(&mut self) -> HttpRequest {
        self.connection_id = None;
        self.reoffer = false;
        self.offer = self.sent.take();
        self.register()
    }

    /// Signaling goes on through another coordinator (after failover).
    pub fn rebase(&mut self, base: String) {
        self.base = base;
    }

    fn request(&self, purpose: Purpose, method: Method, path: &str, body: Body) -> HttpRequest {
        HttpRequest {
            purpose,
            method,
            url: format!("{}{path}", self.base),
            api_key: None,
            bearer: self.bearer.clone(),
            body,
        }
    }

    fn connection_path(&self, suffix: &str) -> String {
        let id = self.connection_id.as_deref().unwrap_or_default();
        format!("{}/{id}{suffix}", paths::CONNECTIONS)
    }

    pub fn register(&self) -> HttpRequest {
        self.request(Purpose::RegisterConnection, Method::Post, paths::CONNECTIONS, Body::Empty)
    }

    /// The wait before asking for the answer again (see [`ANSWER_POLL_FIRST_MS`]).
    pub fn next_poll_ms(&mut self) -> u32 {
        let ms = ANSWER_POLL_FIRST_MS.saturating_mul(1 << self.polls.min(8)).min(ANSWER_POLL_MS);
        self.polls += 1;
        ms
    }

    pub fn get_answer(&self) -> HttpRequest {
        self.request(Purpose::GetAnswer, Method::Get, &self.connection_path(paths::SDP_PARAMS), Body::Empty)
    }

    pub fn set_connection_id(&mut self, id: String) -> Option<HttpRequest> {
        self.connection_id = Some(id);
        self.post_offer()
    }

    /// Pairs the browser's mids with the planned tracks.
    pub fn set_offer(&mut self, sdp: String, mids: Vec<Option<String>>) -> Result<Option<HttpRequest>, PeerFailure> {
        let mut track_mapping = Vec::new();
        let mut mids = mids.into_iter();
        for (names, direction) in
            [(&self.plan.send, TrackDirection::Sendonly), (&self.plan.receive, TrackDirection::Recvonly)]
        {
            for name in names {
                let Some(mid) = mids.next().flatten() else {
                    return Err(PeerFailure::NoMid(name.clone()));
                };
                track_mapping.push(TrackMapping { mid, name: name.clone(), kind: TrackKind::Video, direction });
            }
        }
        let client_info =
            ClientInfo { sdk: Some("reactor-wasm".into()), version: Some(env!("CARGO_PKG_VERSION").into()) };
        self.offer = Some(SdpOffer { sdp_offer: sdp, track_mapping, client_info: Some(client_info) });
        Ok(self.post_offer())
    }

    /// The offer goes out as soon as both it and the connection id exist.
    fn post_offer(&mut self) -> Option<HttpRequest> {
        let _ = self.connection_id.as_ref()?;
        let offer = self.offer.take()?;
        self.sent = Some(offer.clone());
        let method = if self.reoffer { Method::Put } else { Method::Post };
        Some(self.request(Purpose::PostOffer, method, &self.connection_path(paths::SDP_PARAMS), Body::Offer(offer)))
    }

    /// The offer was accepted: from now on candidates go straight out.
    pub fn offer_posted(&mut self) -> Option<HttpRequest> {
        self.offer_posted = true;
        self.flush_candidates()
    }

    pub fn add_candidate(&mut self, candidate: Option<IceCandidate>) -> Option<HttpRequest> {
        match candidate {
            Some(c) => self.candidates.push(c),
            None => self.gathering_done = true,
        }
        self.flush_candidates()
    }

    fn flush_candidates(&mut self) -> Option<HttpRequest> {
        let finishing = self.gathering_done && !self.final_sent;
        if !self.offer_posted || (self.candidates.is_empty() && !finishing) {
            return None;
        }
        self.final_sent = self.gathering_done;
        let body = IceCandidates { candidates: std::mem::take(&mut self.candidates), is_final: self.gathering_done };
        Some(self.request(
            Purpose::PostCandidates,
            Method::Post,
            &self.connection_path(paths::ICE_CANDIDATES),
            Body::Candidates(body),
        ))
    }

    /// Everything `ready` needs: peer connected, both channels open (the
    /// outputs are resumed the moment `control` opens).
    pub fn is_up(&self) -> bool {
        self.peer_connected && self.data_open && self.control_open
    }
}
