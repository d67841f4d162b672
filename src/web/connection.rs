//! Every browser resource of one connection attempt, owned in one place:
//! dropping a [`Connection`] closes the socket and the peer and cancels
//! every timer, and with them every callback they held.

use gloo_timers::callback::Timeout;

use crate::core::Timer;

use super::peer::Peer;
use super::sink::Sink;
use super::socket::Socket;

pub struct Connection {
    pub sink: Sink,
    pub socket: Option<Socket>,
    pub peer: Option<Peer>,
    timers: Vec<(Timer, Timeout)>,
}

impl Connection {
    pub fn new(sink: Sink) -> Self {
        Connection { sink, socket: None, peer: None, timers: Vec::new() }
    }

    pub fn set_timer(&mut self, timer: Timer, ms: u32) {
        self.cancel_timer(timer);
        let sink = self.sink.clone();
        let timeout = Timeout::new(ms, move || sink.push(crate::core::Input::Timer(timer)));
        self.timers.push((timer, timeout));
    }

    pub fn cancel_timer(&mut self, timer: Timer) {
        // Dropping a gloo Timeout clears it.
        self.timers.retain(|(t, _)| *t != timer);
    }
}
