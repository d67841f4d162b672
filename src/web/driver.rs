//! Runs the core: feeds it inputs one at a time, then carries out what it
//! asks for. No borrow is held while JS code runs, so handlers may call
//! back into the `Reactor` freely.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Function, JsString, Object, Promise, Reflect};
use reactor_protocol::runtime::{Envelope, Scope};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::{
    Action, Event, Input, Options, Outcome, Outgoing, PeerFailure, PromiseId, ReactorError, Session, Status,
    WaitingInfo,
};

use super::connection::Connection;
use super::errors::error_object;
use super::json::to_json;
use super::listeners::{call_all, EventName, Listeners};
use super::peer::Peer;
use super::sink::{Feed, Sink};
use super::socket::Socket;
use super::{http, json, schema, stats};

/// An input to handle: its generation, its peer's tag (for a peer's inputs), the input.
type Inbound = (u32, Option<u32>, Input<JsValue>);

pub struct Driver {
    me: Weak<Driver>,
    core: RefCell<Session<JsValue>>,
    connection: RefCell<Option<Connection>>,
    listeners: RefCell<Listeners>,
    /// `resolve` and `reject` of every promise the core will settle.
    promises: RefCell<Vec<(PromiseId, Function, Function)>>,
    /// The JS object of the last error, so `getLastError()` returns the
    /// very object the `error` event carried.
    last_error: RefCell<Option<(ReactorError, JsValue)>>,
    inbox: RefCell<VecDeque<Inbound>>,
    busy: Cell<bool>,
}

fn now() -> f64 {
    js_sys::Date::now()
}

impl Driver {
    pub fn new(options: Options) -> Rc<Driver> {
        Rc::new_cyclic(|me| Driver {
            me: me.clone(),
            core: RefCell::new(Session::new(options)),
            connection: RefCell::new(None),
            listeners: RefCell::default(),
            promises: RefCell::default(),
            last_error: RefCell::new(None),
            inbox: RefCell::default(),
            busy: Cell::new(false),
        })
    }

    pub fn connect(&self) -> Promise {
        let outcome = self.core.borrow_mut().connect(now());
        if let Outcome::Pending(_) = outcome {
            let generation = self.core.borrow().generation();
            let me: Weak<dyn Feed> = self.me.clone();
            // Replacing an old connection drops it: nothing of it survives.
            drop(self.connection.replace(Some(Connection::new(Sink::new(me, generation)))));
        }
        self.promise_for(outcome)
    }

    pub fn disconnect(&self) -> Promise {
        let outcome = self.core.borrow_mut().disconnect(now());
        self.promise_for(outcome)
    }

    pub fn send_message(&self, message: &JsValue) -> Promise {
        if let Some(outcome) = self.unfit_command(message) {
            return self.promise_for(outcome);
        }
        let outcome = match json::envelope_of(message) {
            Ok((text, bytes)) => {
                let buffered =
                    self.connection.borrow().as_ref().and_then(|c| c.peer.as_ref()).map_or(0, Peer::buffered);
                self.core.borrow_mut().send_message(now(), text.into(), bytes, buffered)
            }
            Err(why) => Outcome::Failed(self.core.borrow_mut().invalid_message(now(), why)),
        };
        self.promise_for(outcome)
    }

    /// With `validateMessages`, a message the schema does not allow: refused,
    /// its error naming the parameter (`parameter`).
    fn unfit_command(&self, message: &JsValue) -> Option<Outcome> {
        let (parameter, why) = {
            let core = self.core.borrow();
            schema::check(core.schema().filter(|_| core.validates_messages())?, message)?
        };
        let err = self.core.borrow_mut().invalid_command(now(), why);
        // Cached as the last error: the rejection and the `error` event carry this very object.
        let _ = Reflect::set(&self.error_js(&err), &"parameter".into(), &parameter);
        Some(Outcome::Failed(err))
    }

    pub fn get_stats(&self) -> Promise {
        let outcome = self.core.borrow_mut().get_stats();
        self.promise_for(outcome)
    }

    pub fn connection_quality(&self) -> Option<JsValue> {
        self.core.borrow().connection_quality().map(stats::verdict_object)
    }

    pub fn publish(&self, track: Option<JsValue>) -> Promise {
        let outcome = self.core.borrow_mut().publish(now(), track);
        self.promise_for(outcome)
    }

    pub fn unpublish(&self) {
        self.core.borrow_mut().unpublish(now());
        self.run_actions();
    }

    /// The JS promise for what a call came to; then runs what it started.
    fn promise_for(&self, outcome: Outcome) -> Promise {
        let promise = match outcome {
            Outcome::Done => Promise::resolve(&JsValue::UNDEFINED),
            Outcome::Failed(err) => Promise::reject(&self.error_js(&err)),
            Outcome::Pending(id) => Promise::new(&mut |resolve, reject| {
                self.promises.borrow_mut().push((id, resolve, reject));
            }),
        };
        self.run_actions();
        promise
    }

    pub fn listeners(&self) -> std::cell::RefMut<'_, Listeners> {
        self.listeners.borrow_mut()
    }

    pub fn status(&self) -> Status {
        self.core.borrow().status()
    }

    pub fn waiting_info(&self) -> Option<JsValue> {
        self.core.borrow().waiting_info().map(waiting_object)
    }

    pub fn schema(&self) -> Option<JsValue> {
        self.core.borrow().schema().cloned()
    }

    pub fn last_error(&self) -> Option<JsValue> {
        let core = self.core.borrow();
        let latest = core.last_error()?;
        Some(self.error_js(latest))
    }

    fn run_actions(&self) {
        loop {
            let action = self.core.borrow_mut().poll_action();
            match action {
                Some(action) => self.perform(action),
                None => break,
            }
        }
    }

    fn perform(&self, action: Action<JsValue>) {
        match action {
            Action::Emit(event) => self.emit(event),
            Action::Settle { promise, result } => self.settle(promise, result),
            Action::StatsReady { promise, report } => {
                self.resolve(promise, report.as_ref().map_or(JsValue::UNDEFINED, stats::report_object))
            }
            Action::Teardown => {
                let connection = self.connection.borrow_mut().take();
                drop(connection);
            }
            action => self.with_connection(action),
        }
    }

    /// Actions that act on the current connection's resources.
    fn with_connection(&self, action: Action<JsValue>) {
        let mut slot = self.connection.borrow_mut();
        let Some(conn) = slot.as_mut() else {
            drop(slot);
            // Every application send is answered, or its promise would hang.
            if let Action::Send { message: Outgoing::Application { promise, .. }, .. } = action {
                self.core.borrow_mut().sent(now(), promise, Err("the connection is closed".into()));
            }
            return;
        };
        let sink = conn.sink.clone();
        let mut answer = None;
        let failure = match action {
            Action::Http(request) => {
                // A peer's signaling answers carry its tag, like its events.
                let peer = conn.peer.as_ref().filter(|_| request.purpose.is_signaling());
                http::send(request, peer.map_or(&sink, Peer::sink));
                None
            }
            Action::OpenSocket { url } => match Socket::open(&url, &sink) {
                Ok(socket) => {
                    conn.socket = Some(socket);
                    None
                }
                Err(why) => Some(Input::SocketClosed { code: 1006, reason: why }),
            },
            Action::CloseSocket => {
                conn.socket = None;
                None
            }
            Action::SendFrame(frame) => {
                if let Some(socket) = &conn.socket {
                    socket.send(&frame);
                }
                None
            }
            Action::SetTimer { timer, ms } => {
                conn.set_timer(timer, ms);
                None
            }
            Action::CancelTimer(timer) => {
                conn.cancel_timer(timer);
                None
            }
            Action::CreatePeer(plan) => match Peer::create(&plan, &sink.for_peer(self.core.borrow().peer())) {
                Ok(peer) => {
                    // A replaced peer hands the camera it sent to the new one,
                    // and closes with every listener it had.
                    if let Some(track) = conn.peer.take().and_then(|old| old.sent_track()) {
                        peer.replace_track(Some(track));
                    }
                    conn.peer = Some(peer);
                    None
                }
                Err(e) => Some(Input::PeerFailed(PeerFailure::Create(json::describe(&e)))),
            },
            Action::SetRemoteAnswer(sdp) => {
                if let Some(peer) = &conn.peer {
                    peer.set_answer(sdp);
                }
                None
            }
            Action::ReplaceTrack(track) => {
                if let Some(peer) = &conn.peer {
                    peer.replace_track(track);
                }
                None
            }
            Action::ReadStats { promise } => match &conn.peer {
                Some(peer) => {
                    peer.read_stats(promise);
                    None
                }
                // Every `getStats()` is answered.
                None => promise.map(|promise| Input::Stats { sample: None, promise: Some(promise) }),
            },
            Action::Send { channel, message } => {
                let (text, promise): (JsString, _) = match message {
                    Outgoing::Application { envelope, promise } => (envelope.unchecked_into(), Some(promise)),
                    Outgoing::Runtime(message) => (to_json(&Envelope { scope: Scope::Runtime, data: message }), None),
                    Outgoing::Control(message) => (to_json(&message), None),
                };
                let taken = match conn.peer.as_ref().map(|peer| peer.send(channel, &text).map(|()| peer.buffered())) {
                    Some(Ok(buffered)) => Ok(buffered),
                    Some(Err(e)) => Err(json::describe(&e)),
                    None => Err("there is no peer connection".into()),
                };
                // A refused runtime or control message means the channel is
                // closing, and its `close` event will end the session; an
                // application message's promise says what became of it.
                answer = promise.map(|promise| (promise, taken));
                None
            }
            Action::Emit(_) | Action::Settle { .. } | Action::StatsReady { .. } | Action::Teardown => None,
        };
        drop(slot);
        if let Some((promise, taken)) = answer {
            self.core.borrow_mut().sent(now(), promise, taken);
        }
        if let Some(input) = failure {
            sink.push(input);
        }
    }

    fn emit(&self, event: Event<JsValue>) {
        let (name, payload) = match event {
            Event::StatusChanged(status) => (EventName::StatusChanged, JsValue::from_str(status.as_str())),
            Event::WaitingInfoChanged(info) => (EventName::WaitingInfoChanged, waiting_object(info)),
            Event::NewMessage(message) => (EventName::NewMessage, message),
            Event::StreamChanged(track) => (EventName::StreamChanged, track.unwrap_or(JsValue::NULL)),
            Event::Fps(fps) => (EventName::Fps, JsValue::from_f64(fps)),
            Event::Stats(report) => (EventName::Stats, stats::report_object(&report)),
            Event::ConnectionQuality(verdict) => (EventName::ConnectionQuality, stats::verdict_object(verdict)),
            Event::SchemaReceived => (EventName::SchemaReceived, self.schema().unwrap_or(JsValue::UNDEFINED)),
            Event::Error(err) => (EventName::Error, self.error_js(&err)),
            Event::Reconnecting { link, attempt, delay_ms, reason } => {
                let fields = [
                    ("link", link.as_str().into()),
                    ("attempt", attempt.into()),
                    ("delayMs", delay_ms.into()),
                    ("reason", reason.message().into()),
                ];
                (EventName::Reconnecting, object(&fields))
            }
            Event::Reconnected { link, attempts, downtime_ms } => {
                let fields =
                    [("link", link.as_str().into()), ("attempts", attempts.into()), ("downtimeMs", downtime_ms.into())];
                (EventName::Reconnected, object(&fields))
            }
        };
        let handlers = self.listeners.borrow().of(name);
        call_all(handlers, &payload);
    }

    fn settle(&self, id: PromiseId, result: Result<(), ReactorError>) {
        let Some((_, resolve, reject)) = self.take_promise(id) else { return };
        let _ = match result {
            Ok(()) => resolve.call0(&JsValue::UNDEFINED),
            Err(err) => reject.call1(&JsValue::UNDEFINED, &self.error_js(&err)),
        };
    }

    /// Resolves promise `id` with `value`.
    fn resolve(&self, id: PromiseId, value: JsValue) {
        if let Some((_, resolve, _)) = self.take_promise(id) {
            let _ = resolve.call1(&JsValue::UNDEFINED, &value);
        }
    }

    fn take_promise(&self, id: PromiseId) -> Option<(PromiseId, Function, Function)> {
        let mut promises = self.promises.borrow_mut();
        let at = promises.iter().position(|(p, _, _)| *p == id)?;
        Some(promises.swap_remove(at))
    }

    /// The JS object for `err`: the cached one when it is the last error.
    fn error_js(&self, err: &ReactorError) -> JsValue {
        let mut cache = self.last_error.borrow_mut();
        if let Some((cached, js)) = cache.as_ref() {
            if cached.is(err) {
                return js.clone();
            }
        }
        let js = error_object(err);
        *cache = Some((err.clone(), js.clone()));
        js
    }
}

impl Feed for Driver {
    /// Called by callbacks, through their [`Sink`].
    fn feed(&self, generation: u32, input: Input<JsValue>) {
        self.enqueue(generation, None, input);
    }

    fn feed_peer(&self, generation: u32, peer: u32, input: Input<JsValue>) {
        self.enqueue(generation, Some(peer), input);
    }
}

impl Driver {
    fn enqueue(&self, generation: u32, peer: Option<u32>, input: Input<JsValue>) {
        self.inbox.borrow_mut().push_back((generation, peer, input));
        if self.busy.replace(true) {
            return; // the outer feed picks it up, in order
        }
        loop {
            let next = self.inbox.borrow_mut().pop_front();
            let Some((generation, peer, input)) = next else { break };
            match peer {
                Some(peer) => self.core.borrow_mut().handle_peer(now(), generation, peer, input),
                None => self.core.borrow_mut().handle(now(), generation, input),
            }
            self.run_actions();
        }
        self.busy.set(false);
    }
}

fn waiting_object(info: WaitingInfo) -> JsValue {
    let object = object(&[]);
    if let Some(position) = info.position {
        set(&object, "position", position.into());
    }
    if let Some(seconds) = info.estimated_wait {
        set(&object, "estimatedWait", seconds.into());
    }
    object
}

/// A plain JS object with these fields.
fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object: JsValue = Object::new().into();
    for (key, value) in fields {
        set(&object, key, value.clone());
    }
    object
}

fn set(object: &JsValue, key: &str, value: JsValue) {
    let _ = Reflect::set(object, &key.into(), &value);
}
