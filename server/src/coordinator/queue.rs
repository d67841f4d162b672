//! Who holds which machine and who waits, per model: a plain state machine.
//!
//! No I/O and no clock of its own (times are passed in), so every ordering
//! rule is unit-tested in microseconds. The coordinator feeds it what
//! happened and performs the [`Event`]s it returns, in order.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

pub type ClientId = u64;
pub type MachineId = usize;

/// How many finished sessions feed the wait estimate.
const RECENT_SESSIONS: usize = 20;

/// What the coordinator must do next.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Start a session on `machine` for `client`.
    Assign { client: ClientId, machine: MachineId },
    /// Tell a waiting client its new place (1 = next).
    Position { client: ClientId, position: u32, estimated_wait: Option<f64> },
    /// The machine's session ended: reset it (`stop_session`), then call
    /// [`Scheduler::machine_ready`].
    Reset { machine: MachineId },
    /// The machine died under this client: end its session with an error.
    Lost { client: ClientId, machine: MachineId },
}

/// Answer to [`Scheduler::join`].
#[derive(Clone, Debug, PartialEq)]
pub enum Join {
    /// Events contain the `Assign`.
    Assigned,
    Queued {
        position: u32,
        estimated_wait: Option<f64>,
    },
    /// Queueing was off and nothing is free; suggested retry in seconds.
    NoCapacity {
        retry_after: f64,
    },
    UnknownModel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineState {
    Free,
    /// Being started for, or in a session with, this client.
    Held(ClientId),
    /// Its session ended; waiting for `stop_session` to finish.
    Resetting,
    /// Failed a health check or a call; not handed out until healthy.
    Down,
}

#[derive(Debug)]
struct Machine {
    model: String,
    state: MachineState,
    held_since: Option<Instant>,
}

#[derive(Debug, Default)]
struct ModelQueue {
    machines: Vec<MachineId>,
    waiting: VecDeque<ClientId>,
    recent: VecDeque<Duration>,
}

#[derive(Debug, Default)]
pub struct Scheduler {
    machines: Vec<Machine>,
    models: HashMap<String, ModelQueue>,
    /// Which model each waiting client waits for.
    waiting_for: HashMap<ClientId, String>,
    holding: HashMap<ClientId, MachineId>,
    /// Set at shutdown: nobody is told new positions any more.
    quiet: bool,
}

/// Wait estimate when no session has finished yet (seconds per turn).
pub(crate) const DEFAULT_SESSION_SECS: f64 = 60.0;

impl Scheduler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a machine (initially free) and returns its id.
    pub fn add_machine(&mut self, model: &str) -> MachineId {
        let id = self.machines.len();
        self.machines.push(Machine { model: model.to_string(), state: MachineState::Free, held_since: None });
        self.models.entry(model.to_string()).or_default().machines.push(id);
        id
    }

    pub fn has_model(&self, model: &str) -> bool {
        self.models.contains_key(model)
    }

    pub fn models(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    pub fn machine_state(&self, machine: MachineId) -> MachineState {
        self.machines[machine].state
    }

    pub fn machine_model(&self, machine: MachineId) -> &str {
        &self.machines[machine].model
    }

    /// The machine this client holds, if any.
    pub fn machine_of(&self, client: ClientId) -> Option<MachineId> {
        self.holding.get(&client).copied()
    }

    /// 1-based place of a waiting client.
    pub fn position_of(&self, client: ClientId) -> Option<u32> {
        let model = self.waiting_for.get(&client)?;
        let queue = self.models.get(model)?;
        queue.waiting.iter().position(|&c| c == client).map(|i| i as u32 + 1)
    }

    pub fn waiting_len(&self, model: &str) -> usize {
        self.models.get(model).map_or(0, |q| q.waiting.len())
    }

    pub fn join(
        &mut self,
        client: ClientId,
        model: &str,
        queueing: bool,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Join {
        let Some(queue) = self.models.get(model) else {
            return Join::UnknownModel;
        };
        if queue.waiting.is_empty() {
            if let Some(machine) = self.free_machine(model) {
                self.hold(machine, client, now);
                events.push(Event::Assign { client, machine });
                return Join::Assigned;
            }
        }
        if !queueing {
            let retry_after = self.estimate(model, 1, now).unwrap_or(DEFAULT_SESSION_SECS).max(1.0);
            return Join::NoCapacity { retry_after };
        }
        let queue = self.models.get_mut(model).expect("checked above");
        queue.waiting.push_back(client);
        let position = queue.waiting.len() as u32;
        self.waiting_for.insert(client, model.to_string());
        Join::Queued { position, estimated_wait: self.estimate(model, position, now) }
    }

    /// The client left or its socket dropped: free its place or its machine.
    /// Calling it for an unknown client is harmless.
    pub fn leave(&mut self, client: ClientId, now: Instant, events: &mut Vec<Event>) {
        if let Some(model) = self.waiting_for.remove(&client) {
            let queue = self.models.get_mut(&model).expect("waiting implies a queue");
            if let Some(index) = queue.waiting.iter().position(|&c| c == client) {
                queue.waiting.remove(index);
                self.push_positions(&model, index, now, events);
            }
        }
        if let Some(machine) = self.holding.remove(&client) {
            let m = &mut self.machines[machine];
            if let Some(since) = m.held_since.take() {
                let queue = self.models.get_mut(&m.model).expect("machine's model");
                queue.recent.push_back(now.saturating_duration_since(since));
                if queue.recent.len() > RECENT_SESSIONS {
                    queue.recent.pop_front();
                }
            }
            if m.state == MachineState::Held(client) {
                m.state = MachineState::Resetting;
                events.push(Event::Reset { machine });
            }
        }
    }

    /// The machine is reset and may serve again: the next in line gets it.
    pub fn machine_ready(&mut self, machine: MachineId, now: Instant, events: &mut Vec<Event>) {
        let m = &mut self.machines[machine];
        if matches!(m.state, MachineState::Held(_)) {
            return;
        }
        m.state = MachineState::Free;
        let model = m.model.clone();
        self.dispatch(&model, now, events);
    }

    /// The machine failed: its client (if any) loses the session; it is not
    /// handed out until [`Scheduler::machine_ready`].
    pub fn machine_down(&mut self, machine: MachineId, events: &mut Vec<Event>) {
        let m = &mut self.machines[machine];
        if let MachineState::Held(client) = m.state {
            self.holding.remove(&client);
            m.held_since = None;
            events.push(Event::Lost { client, machine });
        }
        m.state = MachineState::Down;
    }

    /// A free machine that is not to serve until it is known to be idle (a
    /// coordinator that starts does not know what its machines hold): true
    /// when it was free and is now resetting; [`Scheduler::machine_ready`]
    /// frees it again.
    pub fn reclaim(&mut self, machine: MachineId) -> bool {
        let m = &mut self.machines[machine];
        let free = m.state == MachineState::Free;
        if free {
            m.state = MachineState::Resetting;
        }
        free
    }

    /// Starting the session failed: the machine goes down and the client
    /// goes back to the head of the line (it did nothing wrong).
    pub fn assignment_failed(&mut self, client: ClientId, machine: MachineId, now: Instant, events: &mut Vec<Event>) {
        let m = &mut self.machines[machine];
        if m.state != MachineState::Held(client) {
            return;
        }
        m.state = MachineState::Down;
        m.held_since = None;
        self.holding.remove(&client);
        let model = m.model.clone();
        let queue = self.models.get_mut(&model).expect("machine's model");
        queue.waiting.push_front(client);
        self.waiting_for.insert(client, model.clone());
        self.dispatch(&model, now, events);
        if self.waiting_for.contains_key(&client) {
            self.push_positions(&model, 0, now, events);
        }
    }

    fn dispatch(&mut self, model: &str, now: Instant, events: &mut Vec<Event>) {
        let mut assigned = 0;
        while let Some(machine) = self.free_machine(model) {
            let queue = self.models.get_mut(model).expect("known model");
            let Some(client) = queue.waiting.pop_front() else { break };
            self.waiting_for.remove(&client);
            self.hold(machine, client, now);
            events.push(Event::Assign { client, machine });
            assigned += 1;
        }
        if assigned > 0 {
            self.push_positions(model, 0, now, events);
        }
    }

    fn free_machine(&self, model: &str) -> Option<MachineId> {
        let queue = self.models.get(model)?;
        queue.machines.iter().copied().find(|&m| self.machines[m].state == MachineState::Free)
    }

    fn hold(&mut self, machine: MachineId, client: ClientId, now: Instant) {
        let m = &mut self.machines[machine];
        m.state = MachineState::Held(client);
        m.held_since = Some(now);
        self.holding.insert(client, machine);
    }

    /// Stops [`Event::Position`]s for good. At shutdown every client leaves
    /// at once; telling each of them the places freed by the others would
    /// be quadratic work (50 million frames for 10,000 clients).
    pub fn stop_position_updates(&mut self) {
        self.quiet = true;
    }

    /// Everyone from `from` (0-based) to the back got a new place.
    fn push_positions(&self, model: &str, from: usize, now: Instant, events: &mut Vec<Event>) {
        if self.quiet {
            return;
        }
        let queue = &self.models[model];
        // One estimator for the whole line: with thousands waiting, this
        // runs under the coordinator's lock once per hand-over.
        let estimator = self.estimator(model, now);
        let moved = queue.waiting.len().saturating_sub(from);
        events.reserve(moved);
        for (index, &client) in queue.waiting.iter().enumerate().skip(from) {
            let position = index as u32 + 1;
            let estimated_wait = estimator.as_ref().map(|e| e.at(position));
            events.push(Event::Position { client, position, estimated_wait });
        }
    }

    /// Seconds until the client at `position` gets a machine: one average
    /// session per turn, turns shared among the model's serving machines,
    /// minus what the current sessions have already run.
    pub fn estimate(&self, model: &str, position: u32, now: Instant) -> Option<f64> {
        self.estimator(model, now).map(|e| e.at(position))
    }

    fn estimator(&self, model: &str, now: Instant) -> Option<Estimator> {
        let queue = self.models.get(model)?;
        let serving = queue.machines.iter().map(|&m| &self.machines[m]).filter(|m| m.state != MachineState::Down);
        let ran = serving.map(|m| m.held_since.map(|since| now.saturating_duration_since(since)));
        Estimator::new(&queue.recent.iter().copied().collect::<Vec<_>>(), ran)
    }
}

/// The wait estimate of one model at one instant, for any position (the
/// one rule of both modes: Redis mode builds it from the shared state).
#[derive(Clone, Debug)]
pub(crate) struct Estimator {
    average: f64,
    /// Seconds left on each serving machine, soonest first.
    remaining: Vec<f64>,
}

impl Estimator {
    /// From the lengths of the model's recent sessions and, for each
    /// machine that serves, how long its current session has run (`None`:
    /// free). `None` when no machine serves.
    pub(crate) fn new(recent: &[Duration], ran: impl Iterator<Item = Option<Duration>>) -> Option<Estimator> {
        let average = if recent.is_empty() {
            DEFAULT_SESSION_SECS
        } else {
            recent.iter().map(Duration::as_secs_f64).sum::<f64>() / recent.len() as f64
        };
        // The soonest-ending sessions free machines first.
        let mut remaining: Vec<f64> = ran
            .map(|ran| match ran {
                Some(ran) => (average - ran.as_secs_f64()).max(0.0),
                None => 0.0,
            })
            .collect();
        if remaining.is_empty() {
            return None;
        }
        remaining.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        Some(Estimator { average, remaining })
    }

    pub(crate) fn at(&self, position: u32) -> f64 {
        let n = self.remaining.len();
        let index = (position as usize).saturating_sub(1) % n;
        let rounds = (position as usize).saturating_sub(1) / n;
        self.remaining[index] + rounds as f64 * self.average
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(events: &[Event]) -> Vec<(ClientId, u32)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Position { client, position, .. } => Some((*client, *position)),
                _ => None,
            })
            .collect()
    }

    fn one_echo() -> (Scheduler, MachineId, Instant) {
        let mut s = Scheduler::new();
        let m = s.add_machine("echo");
        (s, m, Instant::now())
    }

    #[test]
    fn first_client_gets_the_free_machine() {
        let (mut s, m, now) = one_echo();
        let mut ev = vec![];
        assert_eq!(s.join(1, "echo", true, now, &mut ev), Join::Assigned);
        assert_eq!(ev, vec![Event::Assign { client: 1, machine: m }]);
        assert_eq!(s.machine_of(1), Some(m));
    }

    #[test]
    fn unknown_model_is_refused() {
        let (mut s, _, now) = one_echo();
        assert_eq!(s.join(1, "nope", true, now, &mut vec![]), Join::UnknownModel);
    }

    #[test]
    fn no_queueing_and_busy_is_no_capacity() {
        let (mut s, _, now) = one_echo();
        s.join(1, "echo", true, now, &mut vec![]);
        match s.join(2, "echo", false, now, &mut vec![]) {
            Join::NoCapacity { retry_after } => assert!(retry_after >= 1.0),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.position_of(2), None);
    }

    #[test]
    fn fifo_order_and_handover_after_reset() {
        let (mut s, m, now) = one_echo();
        let mut ev = vec![];
        s.join(1, "echo", true, now, &mut ev);
        for c in 2..=4 {
            let j = s.join(c, "echo", true, now, &mut ev);
            assert!(matches!(j, Join::Queued { position, .. } if position == c as u32 - 1));
        }
        ev.clear();
        s.leave(1, now, &mut ev);
        assert_eq!(ev, vec![Event::Reset { machine: m }]);
        ev.clear();
        s.machine_ready(m, now, &mut ev);
        assert_eq!(ev[0], Event::Assign { client: 2, machine: m });
        assert_eq!(positions(&ev), vec![(3, 1), (4, 2)]);
    }

    #[test]
    fn leaving_the_middle_moves_only_those_behind() {
        let (mut s, _, now) = one_echo();
        let mut ev = vec![];
        for c in 1..=5 {
            s.join(c, "echo", true, now, &mut ev);
        }
        ev.clear();
        s.leave(3, now, &mut ev);
        assert_eq!(positions(&ev), vec![(4, 2), (5, 3)]);
        assert_eq!(s.position_of(2), Some(1));
        // Leaving twice changes nothing.
        ev.clear();
        s.leave(3, now, &mut ev);
        assert!(ev.is_empty());
    }

    #[test]
    fn the_machine_is_not_handed_out_while_resetting() {
        let (mut s, m, now) = one_echo();
        let mut ev = vec![];
        s.join(1, "echo", true, now, &mut ev);
        s.leave(1, now, &mut ev);
        ev.clear();
        assert!(matches!(s.join(2, "echo", true, now, &mut ev), Join::Queued { position: 1, .. }));
        assert_eq!(s.machine_state(m), MachineState::Resetting);
        s.machine_ready(m, now, &mut ev);
        assert_eq!(s.machine_of(2), Some(m));
    }

    #[test]
    fn a_pool_serves_its_own_queue() {
        let mut s = Scheduler::new();
        let now = Instant::now();
        let e1 = s.add_machine("echo");
        let e2 = s.add_machine("echo");
        let g = s.add_machine("generator");
        let mut ev = vec![];
        s.join(1, "echo", true, now, &mut ev);
        s.join(2, "echo", true, now, &mut ev);
        assert!(matches!(s.join(3, "echo", true, now, &mut ev), Join::Queued { position: 1, .. }));
        assert_eq!(s.join(4, "generator", true, now, &mut ev), Join::Assigned);
        assert_eq!((s.machine_of(1), s.machine_of(2), s.machine_of(4)), (Some(e1), Some(e2), Some(g)));
    }

    #[test]
    fn a_dying_machine_loses_its_client_and_leaves_the_pool() {
        let (mut s, m, now) = one_echo();
        let mut ev = vec![];
        s.join(1, "echo", true, now, &mut ev);
        s.join(2, "echo", true, now, &mut ev);
        ev.clear();
        s.machine_down(m, &mut ev);
        assert_eq!(ev, vec![Event::Lost { client: 1, machine: m }]);
        ev.clear();
        s.leave(1, now, &mut ev);
        assert!(ev.is_empty(), "no reset for a dead machine: {ev:?}");
        assert_eq!(s.position_of(2), Some(1));
        s.machine_ready(m, now, &mut ev);
        assert_eq!(s.machine_of(2), Some(m));
    }

    #[test]
    fn a_failed_start_requeues_the_client_first() {
        let mut s = Scheduler::new();
        let now = Instant::now();
        let a = s.add_machine("echo");
        let mut ev = vec![];
        s.join(1, "echo", true, now, &mut ev);
        s.join(2, "echo", true, now, &mut ev);
        ev.clear();
        s.assignment_failed(1, a, now, &mut ev);
        assert_eq!(s.position_of(1), Some(1));
        assert_eq!(s.position_of(2), Some(2));
        assert_eq!(positions(&ev), vec![(1, 1), (2, 2)]);
        ev.clear();
        s.machine_ready(a, now, &mut ev);
        assert_eq!(ev[0], Event::Assign { client: 1, machine: a });
    }

    #[test]
    fn a_reclaimed_machine_serves_only_once_ready() {
        let (mut s, m, now) = one_echo();
        let mut ev = vec![];
        assert!(s.reclaim(m));
        assert!(matches!(s.join(1, "echo", true, now, &mut ev), Join::Queued { position: 1, .. }));
        assert!(!s.reclaim(m), "only a free machine is reclaimed");
        s.machine_ready(m, now, &mut ev);
        assert_eq!(s.machine_of(1), Some(m));
        assert!(!s.reclaim(m), "a held machine is not reclaimed");
    }

    #[test]
    fn no_positions_after_stop_position_updates() {
        let (mut s, _, now) = one_echo();
        let mut ev = vec![];
        for c in 1..=4 {
            s.join(c, "echo", true, now, &mut ev);
        }
        s.stop_position_updates();
        ev.clear();
        s.leave(2, now, &mut ev);
        assert!(positions(&ev).is_empty());
        assert_eq!(s.position_of(4), Some(2));
    }

    #[test]
    fn estimates_follow_recent_session_lengths() {
        let (mut s, m, t0) = one_echo();
        let mut ev = vec![];
        s.join(1, "echo", true, t0, &mut ev);
        let t1 = t0 + Duration::from_secs(10);
        s.leave(1, t1, &mut ev);
        s.machine_ready(m, t1, &mut ev);
        s.join(2, "echo", true, t1, &mut ev);
        // Average 10 s, the running session started now: first in line waits 10 s.
        let est = s.estimate("echo", 1, t1).unwrap();
        assert!((est - 10.0).abs() < 1e-6, "{est}");
        let est = s.estimate("echo", 2, t1 + Duration::from_secs(4)).unwrap();
        assert!((est - 16.0).abs() < 1e-6, "{est}");
    }
}
