//! Redis mode (`--redis`): any number of coordinator processes share the
//! tokens, queues, pool, sessions and resume secrets kept in Redis.
//!
//! What is shared lives in Redis and changes only through the Lua scripts
//! of `lua/` (atomic, so no interleaving gives a machine to two clients or
//! skips a place). What is per process: the WebSockets it serves (`local`),
//! the machines whose lease it holds (it alone calls them), and the
//! position updates of its own clients, recomputed from the shared queue
//! whenever a `ch:queue:MODEL` message says it changed.

mod fanout;
mod machines;
pub(crate) mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reactor_protocol::coordinator::{Assigned, ErrorBody, Queued, ServerFrame};
use reactor_protocol::ErrorCode;
use tokio::sync::{mpsc, oneshot, Notify};

use super::queue::{ClientId, Estimator, DEFAULT_SESSION_SECS};
use super::{error_body, refusal, tokens, Admitted, MachineOp, MachineSpec, Schema, Shared, SocketEnd, ToClient};
use store::{Joined, Store, StoreError, Swept};

/// A WebSocket this process serves.
struct Local {
    link: mpsc::UnboundedSender<ToClient>,
    epoch: u64,
    model: String,
    /// The last place it was told; `None` once assigned.
    position: Option<u32>,
    assigned_sent: bool,
    /// The dataset it joined: a Redis that lost its data ends it.
    instance: String,
}

pub(crate) struct Cluster {
    store: Store,
    client: redis::Client,
    local: Mutex<HashMap<ClientId, Local>>,
    instance: Mutex<String>,
    /// The machine tasks of this process, by URL.
    machines: Mutex<HashMap<String, mpsc::UnboundedSender<MachineOp>>>,
    /// Wakes the position task of a model.
    queues: Mutex<HashMap<String, Arc<Notify>>>,
    /// Each model's wait estimate as of its last queue read (for the
    /// first frame of a join or resume, without another read).
    estimates: Mutex<HashMap<String, Estimator>>,
    /// This process's machines, registered again if Redis lost its data.
    registered: Vec<(String, String)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long a machine's lease, and a process's heartbeat, last unrenewed.
pub(crate) fn lease_ttl(health_interval: Duration) -> Duration {
    (health_interval * 5).max(Duration::from_secs(2))
}

/// What the client is told when Redis cannot be used.
fn unavailable(error: StoreError) -> ErrorBody {
    tracing::warn!(%error, "shared state unavailable");
    error_body(ErrorCode::CoordinatorConnectionError, "the coordinator's shared state (Redis) is unavailable")
}

fn lost_body() -> ErrorBody {
    error_body(
        ErrorCode::CoordinatorConnectionError,
        "the coordinator's shared state was lost (Redis restarted empty); connect again",
    )
}

impl Cluster {
    /// Connects, adds `machines` to the shared pool.
    pub async fn connect(url: &str, machines: &[MachineSpec]) -> Result<Cluster, StoreError> {
        let client = redis::Client::open(url)?;
        let store = Store::connect(&client, tokens::random_hex(8)).await?;
        let registered: Vec<(String, String)> = machines.iter().map(|m| (m.url.clone(), m.model.clone())).collect();
        let instance = store.register(&tokens::random_hex(8), &registered).await?;
        tracing::info!(process = store.pid, instance, "coordinator joined the shared state in Redis");
        Ok(Cluster {
            store,
            client,
            local: Mutex::default(),
            instance: Mutex::new(instance),
            machines: Mutex::default(),
            queues: Mutex::default(),
            estimates: Mutex::default(),
            registered,
        })
    }

    /// Spawns the tasks of this process: pub/sub, the sweeper, one task
    /// per machine of the pool; returns once each machine had a first look.
    pub async fn run(shared: &Arc<Shared>) {
        let cluster = shared.cluster();
        tokio::spawn(fanout::run(shared.clone()));
        tokio::spawn(sweeper(shared.clone()));
        let mut checks = Vec::new();
        for (url, _) in cluster.store.pool().await.unwrap_or_default() {
            checks.extend(cluster.spawn_machine(shared, &url));
        }
        for check in checks {
            let _ = tokio::time::timeout(Duration::from_secs(10), check).await;
        }
    }

    fn spawn_machine(&self, shared: &Arc<Shared>, url: &str) -> Option<oneshot::Receiver<()>> {
        let mut tasks = lock(&self.machines);
        if tasks.contains_key(url) {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let (checked, check) = oneshot::channel();
        tasks.insert(url.to_string(), tx);
        tokio::spawn(machines::run(shared.clone(), url.to_string(), rx, checked));
        Some(check)
    }

    pub async fn issue_token(&self, token: &str, key: &str, ttl: Duration) -> Result<(), ErrorBody> {
        self.store.issue_token(token, key, ttl).await.map_err(unavailable)
    }

    pub async fn join(&self, shared: &Shared, token: &str, model: &str, queueing: bool) -> Result<Admitted, ErrorBody> {
        let resume = tokens::random_hex(16);
        let limit = shared.config.max_sessions_per_key;
        let joined = self.store.join(token, model, queueing, limit, &resume).await.map_err(unavailable)?;
        let (client, position) = match joined {
            Joined::BadToken => return Err(refusal::bad_token()),
            Joined::UnknownModel => return Err(refusal::unknown_model(model)),
            Joined::LimitReached => return Err(refusal::limit_reached(limit.unwrap_or_default())),
            Joined::NoCapacity => {
                let retry_after = self.estimate(model, 1).unwrap_or(DEFAULT_SESSION_SECS).max(1.0);
                return Err(refusal::no_capacity(model, retry_after));
            }
            Joined::Assigned(client) => (client, None),
            Joined::Queued(client, position) => (client, Some(position)),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let local = Local {
            link: tx,
            epoch: 0,
            model: model.to_string(),
            position,
            assigned_sent: false,
            instance: lock(&self.instance).clone(),
        };
        lock(&self.local).insert(client, local);
        // What happened between the script and the line above reached no
        // one: the machine may have started, the line may have moved.
        self.deliver_assigned(client).await;
        let first = match position {
            Some(position) => {
                self.queue_changed(model);
                let estimated_wait = self.estimate(model, position);
                vec![ServerFrame::Queued(Queued {
                    position,
                    estimated_wait,
                    resume: Some(shared.resume_info(&resume)),
                })]
            }
            None => vec![],
        };
        Ok(Admitted { client, epoch: 0, rx, first, assigned_at: None, fatal: None })
    }

    pub async fn resume(&self, secret: &str) -> Result<Admitted, ErrorBody> {
        let resumed = self.store.resume(secret).await.map_err(unavailable)?.ok_or_else(refusal::resume_gone)?;
        let assigned = resumed.assigned.as_deref().and_then(read_assigned);
        let fatal = resumed.fatal.as_deref().and_then(|f| serde_json::from_str(f).ok());
        let queued = resumed.position.map(|p| (p, self.estimate(&resumed.model, p)));
        let first = super::resumed_frames(queued, assigned.clone());
        let (tx, rx) = mpsc::unbounded_channel();
        let local = Local {
            link: tx,
            epoch: resumed.epoch,
            model: resumed.model.clone(),
            position: resumed.position,
            assigned_sent: assigned.is_some(),
            instance: lock(&self.instance).clone(),
        };
        // An older socket here loses its channel and ends as superseded.
        lock(&self.local).insert(resumed.client, local);
        if resumed.position.is_some() {
            self.queue_changed(&resumed.model);
        }
        if assigned.is_none() {
            self.deliver_assigned(resumed.client).await;
        }
        let assigned_at = resumed.since_assigned.and_then(|since| Instant::now().checked_sub(since));
        tracing::info!(client = resumed.client, epoch = resumed.epoch, "client resumed");
        Ok(Admitted { client: resumed.client, epoch: resumed.epoch, rx, first, assigned_at, fatal })
    }

    pub async fn socket_ended(&self, shared: &Shared, client: ClientId, epoch: u64, end: SocketEnd) {
        if end == SocketEnd::Superseded {
            return;
        }
        {
            let mut local = lock(&self.local);
            if local.get(&client).is_some_and(|l| l.epoch == epoch) {
                local.remove(&client);
            }
        }
        let grace = shared.config.resume_grace;
        let done = if end == SocketEnd::Dropped && !grace.is_zero() {
            tracing::info!(client, grace_secs = grace.as_secs_f64(), "client socket dropped; holding its place");
            self.store.detach(client, epoch, grace).await.map(|_| ())
        } else {
            self.store.leave(client, Some(epoch)).await.map(|_| ())
        };
        if let Err(error) = done {
            tracing::warn!(client, %error, "could not record the end of a client socket");
        }
    }

    pub async fn route(&self, session_id: &str) -> Option<(String, String)> {
        self.store.session(session_id).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "session lookup failed");
            None
        })
    }

    /// Wakes the position task of `model` (see `fanout`).
    fn queue_changed(&self, model: &str) {
        if let Some(task) = lock(&self.queues).get(model) {
            task.notify_one();
        }
    }

    fn estimate(&self, model: &str, position: u32) -> Option<f64> {
        lock(&self.estimates).get(model).map(|e| e.at(position))
    }

    /// Tells this process's waiting clients of `model` their places in
    /// `queue` (first first), each only when it changed.
    fn tell_positions(&self, model: &str, queue: &[ClientId], estimator: Option<Estimator>) {
        let mut local = lock(&self.local);
        for (index, client) in queue.iter().enumerate() {
            let Some(entry) = local.get_mut(client) else { continue };
            let position = index as u32 + 1;
            if entry.model != model || entry.assigned_sent || entry.position == Some(position) {
                continue;
            }
            entry.position = Some(position);
            let estimated_wait = estimator.as_ref().map(|e| e.at(position));
            let _ = entry.link.send(ToClient::Queued { position, estimated_wait });
        }
        drop(local);
        let mut estimates = lock(&self.estimates);
        match estimator {
            Some(estimator) => estimates.insert(model.to_string(), estimator),
            None => estimates.remove(model),
        };
    }

    /// Sends the `assigned` frame recorded for a local client, once.
    async fn deliver_assigned(&self, client: ClientId) {
        let frame = match self.store.client_field(client, "assigned").await {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(error) => return tracing::warn!(client, %error, "could not read an assignment"),
        };
        let Some(frame) = read_assigned(&frame) else {
            return tracing::warn!(client, "unreadable assignment in Redis");
        };
        let mut local = lock(&self.local);
        if let Some(entry) = local.get_mut(&client).filter(|e| !e.assigned_sent) {
            entry.assigned_sent = true;
            entry.position = None;
            let _ = entry.link.send(ToClient::Frame(Box::new(frame)));
        }
    }

    /// The error that ended a local client's session while it was here.
    async fn deliver_fatal(&self, client: ClientId) {
        if !lock(&self.local).contains_key(&client) {
            return; // kept in Redis for its resume
        }
        let body = match self.store.take_fatal(client).await {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(error) => return tracing::warn!(client, %error, "could not read an error"),
        };
        let Ok(body) = serde_json::from_str::<ErrorBody>(&body) else { return };
        if let Some(entry) = lock(&self.local).get(&client) {
            let _ = entry.link.send(ToClient::Fatal(Box::new(body)));
        }
    }

    /// A socket on another process took this client over.
    fn superseded(&self, client: ClientId, epoch: u64) {
        let mut local = lock(&self.local);
        if local.get(&client).is_some_and(|l| l.epoch < epoch) {
            local.remove(&client);
        }
    }

    fn machine_op(&self, url: &str, op: MachineOp) {
        if let Some(task) = lock(&self.machines).get(url) {
            let _ = task.send(op);
        }
    }

    /// Redis came back without the data: register again, and end the
    /// clients whose places were in the lost dataset.
    async fn recover_lost_state(&self) {
        let instance = match self.store.register(&tokens::random_hex(8), &self.registered).await {
            Ok(instance) => instance,
            Err(error) => return tracing::warn!(%error, "could not register again"),
        };
        tracing::warn!(instance, "Redis lost the shared state; ending the clients it held");
        *lock(&self.instance) = instance.clone();
        for entry in lock(&self.local).values().filter(|l| l.instance != instance) {
            let _ = entry.link.send(ToClient::Fatal(Box::new(lost_body())));
        }
    }
}

/// The heartbeat of this process, and the end of places whose grace
/// period passed (on any process, whichever sweeps first); finds machines
/// new to the pool.
async fn sweeper(shared: Arc<Shared>) {
    let cluster = shared.cluster();
    let period = Duration::from_millis(250);
    let ttl = lease_ttl(shared.config.health_interval);
    let mut shutdown = shared.shutdown.clone();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for round in 0u64.. {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = super::stopping(&mut shutdown) => return,
        }
        let instance = lock(&cluster.instance).clone();
        match cluster.store.sweep(&instance, ttl, shared.config.resume_grace).await {
            Ok(Swept::Lost) => cluster.recover_lost_state().await,
            Ok(Swept::Ended(n)) if n > 0 => tracing::info!(ended = n, "grace periods over; places given up"),
            Ok(Swept::Ended(_)) => {}
            Err(error) => tracing::warn!(%error, "sweep failed"),
        }
        if round % 8 == 0 {
            for (url, _) in cluster.store.pool().await.unwrap_or_default() {
                drop(cluster.spawn_machine(&shared, &url));
            }
        }
    }
}

/// An `assigned` frame as recorded in Redis. Read as the struct, not as the
/// tagged [`ServerFrame`]: serde buffers a tagged enum's fields, and the
/// machine's schema (a `RawValue`) cannot be read from that buffer.
fn read_assigned(json: &str) -> Option<ServerFrame<Schema>> {
    serde_json::from_str::<Assigned<Schema>>(json).ok().map(ServerFrame::Assigned)
}

#[cfg(test)]
mod read_tests {
    use super::*;

    #[test]
    fn an_assignment_with_a_schema_reads_back() {
        let json = r#"{"type":"assigned","session_id":"s","model":{"name":"echo"},
            "capabilities":{"protocol_version":"1","tracks":[],"commands":[]},"schema":{"openapi":"3.1.0"}}"#;
        assert!(serde_json::from_str::<ServerFrame<Schema>>(json).is_err(), "the reason for read_assigned");
        let Some(ServerFrame::Assigned(frame)) = read_assigned(json) else { panic!("not read") };
        assert_eq!(frame.session_id, "s");
        assert_eq!(frame.schema.map(|s| s.get().to_string()).as_deref(), Some(r#"{"openapi":"3.1.0"}"#));
    }
}
