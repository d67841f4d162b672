//! The app's event handlers. A handler that throws is reported on the
//! console and the others still run; the SDK carries on.

use js_sys::Function;
use wasm_bindgen::JsValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventName {
    StatusChanged,
    WaitingInfoChanged,
    NewMessage,
    Fps,
    StreamChanged,
    SchemaReceived,
    Error,
    Reconnecting,
    Reconnected,
    Stats,
    ConnectionQuality,
}

impl EventName {
    pub const ALL: [EventName; 11] = [
        EventName::StatusChanged,
        EventName::WaitingInfoChanged,
        EventName::NewMessage,
        EventName::Fps,
        EventName::StreamChanged,
        EventName::SchemaReceived,
        EventName::Error,
        EventName::Reconnecting,
        EventName::Reconnected,
        EventName::Stats,
        EventName::ConnectionQuality,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventName::StatusChanged => "statusChanged",
            EventName::WaitingInfoChanged => "waitingInfoChanged",
            EventName::NewMessage => "newMessage",
            EventName::Fps => "fps",
            EventName::StreamChanged => "streamChanged",
            EventName::SchemaReceived => "schemaReceived",
            EventName::Error => "error",
            EventName::Reconnecting => "reconnecting",
            EventName::Reconnected => "reconnected",
            EventName::Stats => "stats",
            EventName::ConnectionQuality => "connectionQuality",
        }
    }

    pub fn parse(name: &str) -> Option<EventName> {
        EventName::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

#[derive(Default)]
pub struct Listeners {
    handlers: Vec<(EventName, Function)>,
}

impl Listeners {
    /// Adding the same handler twice for one event keeps one (as the DOM does).
    pub fn add(&mut self, event: EventName, handler: Function) {
        if !self.handlers.iter().any(|(e, h)| *e == event && h == &handler) {
            self.handlers.push((event, handler));
        }
    }

    pub fn remove(&mut self, event: EventName, handler: &Function) {
        self.handlers.retain(|(e, h)| !(*e == event && h == handler));
    }

    /// The handlers for `event` now; emitting works on this copy so that a
    /// handler may add or remove handlers safely.
    pub fn of(&self, event: EventName) -> Vec<Function> {
        let mut of = Vec::new();
        for (e, handler) in &self.handlers {
            if *e == event {
                of.push(handler.clone());
            }
        }
        of
    }
}

pub fn call_all(handlers: Vec<Function>, payload: &JsValue) {
    for handler in handlers {
        if let Err(thrown) = handler.call1(&JsValue::UNDEFINED, payload) {
            web_sys::console::error_2(&"Reactor: an event handler threw".into(), &thrown);
        }
    }
}
