//! The shared state in Redis: one typed call per Lua script (the scripts
//! in `lua/` are the one definition of the queue rules in Redis mode).

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use std::collections::HashMap;

use super::super::queue::{ClientId, Estimator, MachineState};

const PREFIX: &str = "reactor:";

/// A failed call to Redis, as the coordinator handles it.
#[derive(Debug)]
pub(crate) enum StoreError {
    /// Unreachable, restarting, or it refused the command.
    Redis(redis::RedisError),
    /// A script answered something this build does not expect.
    Unexpected(&'static str),
}

impl From<redis::RedisError> for StoreError {
    fn from(error: redis::RedisError) -> Self {
        StoreError::Redis(error)
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Redis(error) => write!(f, "redis: {error}"),
            StoreError::Unexpected(what) => write!(f, "unexpected answer from a redis script: {what}"),
        }
    }
}

pub(crate) type StoreResult<T> = Result<T, StoreError>;

macro_rules! scripts {
    ($($name:ident),*) => {
        struct Scripts { $($name: Script,)* }
        impl Scripts {
            fn new() -> Self {
                Scripts { $($name: Script::new(concat!(
                    include_str!("lua/common.lua"),
                    include_str!(concat!("lua/", stringify!($name), ".lua")),
                )),)* }
            }
        }
    };
}
scripts!(join, leave, ready, down, failed, started, resume, detach, sweep, register, lease, release);

/// What `join` decided.
#[derive(Debug, PartialEq)]
pub(crate) enum Joined {
    BadToken,
    UnknownModel,
    LimitReached,
    NoCapacity,
    Assigned(ClientId),
    Queued(ClientId, u32),
}

/// A client taken over by `resume`.
#[derive(Debug)]
pub(crate) struct Resumed {
    pub client: ClientId,
    pub epoch: u64,
    pub model: String,
    pub position: Option<u32>,
    pub assigned: Option<String>,
    pub since_assigned: Option<Duration>,
    pub fatal: Option<String>,
}

/// What `sweep` found.
#[derive(Debug, PartialEq)]
pub(crate) enum Swept {
    /// The dataset is not the one this process registered with.
    Lost,
    Ended(usize),
}

/// Whether `lease` gave this process the machine's calls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Lease {
    Taken,
    Renewed,
    Elsewhere,
}

/// One process's handle on the shared state.
pub(crate) struct Store {
    conn: ConnectionManager,
    scripts: Scripts,
    /// This process, as the state names it.
    pub pid: String,
}

fn key(parts: &[&str]) -> String {
    let mut key = PREFIX.to_string();
    key.push_str(&parts.join(""));
    key
}

fn parse<T: std::str::FromStr>(text: &str, what: &'static str) -> StoreResult<T> {
    text.parse().map_err(|_| StoreError::Unexpected(what))
}

impl Store {
    pub async fn connect(client: &redis::Client, pid: String) -> StoreResult<Store> {
        // Few, quick retries: a client waiting on a hello is better told
        // that Redis is away than kept waiting for seconds of back-off.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = client.get_connection_manager_with_config(config).await?;
        Ok(Store { conn, scripts: Scripts::new(), pid })
    }

    fn conn(&self) -> ConnectionManager {
        // A cheap clone of one multiplexed, reconnecting connection.
        self.conn.clone()
    }

    pub fn channel_of(pid: &str) -> String {
        key(&["ch:proc:", pid])
    }

    pub fn queue_channels() -> String {
        key(&["ch:queue:*"])
    }

    /// The model named by a queue channel.
    pub fn model_of_channel(channel: &str) -> Option<&str> {
        channel.strip_prefix(PREFIX)?.strip_prefix("ch:queue:")
    }

    pub async fn register(&self, instance: &str, machines: &[(String, String)]) -> StoreResult<String> {
        let mut call = self.scripts.register.prepare_invoke();
        call.arg(instance);
        for (url, model) in machines {
            call.arg(url).arg(model);
        }
        Ok(call.invoke_async(&mut self.conn()).await?)
    }

    pub async fn issue_token(&self, token: &str, api_key: &str, ttl: Duration) -> StoreResult<()> {
        let ms = ttl.as_millis().max(1) as u64;
        let _: () = self.conn().pset_ex(key(&["token:", token]), api_key, ms).await?;
        Ok(())
    }

    pub async fn join(
        &self,
        token: &str,
        model: &str,
        queueing: bool,
        limit: Option<usize>,
        resume: &str,
    ) -> StoreResult<Joined> {
        let answer: Vec<String> = self
            .scripts
            .join
            .arg(token)
            .arg(model)
            .arg(if queueing { "1" } else { "0" })
            .arg(limit.unwrap_or(0))
            .arg(resume)
            .arg(&self.pid)
            .invoke_async(&mut self.conn())
            .await?;
        let words: Vec<&str> = answer.iter().map(String::as_str).collect();
        Ok(match words.as_slice() {
            ["auth"] => Joined::BadToken,
            ["model"] => Joined::UnknownModel,
            ["limit"] => Joined::LimitReached,
            ["nocap"] => Joined::NoCapacity,
            ["assigned", client] => Joined::Assigned(parse(client, "join client")?),
            ["queued", client, position] => {
                Joined::Queued(parse(client, "join client")?, parse(position, "join position")?)
            }
            _ => return Err(StoreError::Unexpected("join")),
        })
    }

    /// Ends the client's place or session; with `epoch`, only if no later
    /// socket took it over.
    pub async fn leave(&self, client: ClientId, epoch: Option<u64>) -> StoreResult<bool> {
        let epoch = epoch.map(|e| e.to_string()).unwrap_or_default();
        let left: i64 = self.scripts.leave.arg(client).arg(epoch).invoke_async(&mut self.conn()).await?;
        Ok(left == 1)
    }

    pub async fn resume(&self, secret: &str) -> StoreResult<Option<Resumed>> {
        let answer: Vec<String> = self.scripts.resume.arg(secret).arg(&self.pid).invoke_async(&mut self.conn()).await?;
        let [client, epoch, model, rank, assigned, elapsed, fatal] = answer.as_slice() else {
            return if answer.is_empty() { Ok(None) } else { Err(StoreError::Unexpected("resume")) };
        };
        let rank: i64 = parse(rank, "resume rank")?;
        let elapsed: i64 = parse(elapsed, "resume elapsed")?;
        let text = |s: &String| (!s.is_empty()).then(|| s.clone());
        Ok(Some(Resumed {
            client: parse(client, "resume client")?,
            epoch: parse(epoch, "resume epoch")?,
            model: model.clone(),
            position: u32::try_from(rank + 1).ok().filter(|&p| p > 0),
            assigned: text(assigned),
            since_assigned: u64::try_from(elapsed).ok().map(Duration::from_millis),
            fatal: text(fatal),
        }))
    }

    /// The socket of `epoch` dropped: holds the place for `grace`. False
    /// when a later socket (maybe on another process) took it over.
    pub async fn detach(&self, client: ClientId, epoch: u64, grace: Duration) -> StoreResult<bool> {
        let detached: i64 = self
            .scripts
            .detach
            .arg(client)
            .arg(epoch)
            .arg(&self.pid)
            .arg(grace.as_millis() as u64)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(detached == 1)
    }

    pub async fn sweep(&self, instance: &str, process_ttl: Duration, grace: Duration) -> StoreResult<Swept> {
        let answer: Vec<String> = self
            .scripts
            .sweep
            .arg(&self.pid)
            .arg(process_ttl.as_millis() as u64)
            .arg(grace.as_millis() as u64)
            .arg(instance)
            .invoke_async(&mut self.conn())
            .await?;
        match answer.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["lost"] => Ok(Swept::Lost),
            ["ok", ended] => Ok(Swept::Ended(parse(ended, "sweep count")?)),
            _ => Err(StoreError::Unexpected("sweep")),
        }
    }

    pub async fn lease(&self, url: &str, ttl: Duration) -> StoreResult<Lease> {
        let ms = ttl.as_millis() as u64;
        let answer: i64 = self.scripts.lease.arg(url).arg(&self.pid).arg(ms).invoke_async(&mut self.conn()).await?;
        Ok(match answer {
            2 => Lease::Taken,
            1 => Lease::Renewed,
            _ => Lease::Elsewhere,
        })
    }

    /// Gives the lease back if this process holds it.
    pub async fn release(&self, url: &str) -> StoreResult<bool> {
        self.machine_script(&self.scripts.release, &[url, &self.pid]).await
    }

    async fn machine_script(&self, script: &Script, args: &[&str]) -> StoreResult<bool> {
        let mut call = script.prepare_invoke();
        for arg in args {
            call.arg(*arg);
        }
        let done: i64 = call.invoke_async(&mut self.conn()).await?;
        Ok(done == 1)
    }

    pub async fn machine_ready(&self, url: &str) -> StoreResult<bool> {
        self.machine_script(&self.scripts.ready, &[url]).await
    }

    /// `fatal` is the error body its client is told.
    pub async fn machine_down(&self, url: &str, fatal: &str) -> StoreResult<bool> {
        self.machine_script(&self.scripts.down, &[url, fatal]).await
    }

    pub async fn assignment_failed(&self, url: &str, client: ClientId) -> StoreResult<bool> {
        self.machine_script(&self.scripts.failed, &[url, &client.to_string()]).await
    }

    pub async fn started(&self, url: &str, client: ClientId, session: &str, frame: &str) -> StoreResult<bool> {
        self.machine_script(&self.scripts.started, &[url, &client.to_string(), session, frame]).await
    }

    pub async fn machine_state(&self, url: &str) -> StoreResult<MachineState> {
        let state: Option<String> = self.conn().hget(key(&["mstate"]), url).await?;
        Ok(match state.as_deref() {
            Some("free") => MachineState::Free,
            Some("down") => MachineState::Down,
            Some(held) if held.starts_with("held:") => MachineState::Held(parse(&held[5..], "machine state")?),
            // Resetting, or not registered (yet, or again after a loss).
            _ => MachineState::Resetting,
        })
    }

    /// The pool as the shared state has it: (URL, model).
    pub async fn pool(&self) -> StoreResult<Vec<(String, String)>> {
        Ok(self.conn().hgetall(key(&["pool"])).await?)
    }

    /// A field of a client's record.
    pub async fn client_field(&self, client: ClientId, field: &str) -> StoreResult<Option<String>> {
        Ok(self.conn().hget(key(&["client:", &client.to_string()]), field).await?)
    }

    pub async fn take_fatal(&self, client: ClientId) -> StoreResult<Option<String>> {
        let record = key(&["client:", &client.to_string()]);
        let (fatal, _): (Option<String>, i64) =
            redis::pipe().atomic().hget(&record, "fatal").hdel(&record, "fatal").query_async(&mut self.conn()).await?;
        Ok(fatal)
    }

    /// The waiting clients of a model, first first, and its wait estimate,
    /// read at one instant.
    pub async fn queue(&self, model: &str) -> StoreResult<(Vec<ClientId>, Option<Estimator>)> {
        type Read = (
            Vec<ClientId>,
            Vec<u64>,
            HashMap<String, String>,
            HashMap<String, String>,
            HashMap<String, u64>,
            (u64, u64),
        );
        let (queue, recent, pool, states, held_since, (secs, micros)): Read = redis::pipe()
            .zrange(key(&["queue:", model]), 0, -1)
            .lrange(key(&["recent:", model]), 0, -1)
            .hgetall(key(&["pool"]))
            .hgetall(key(&["mstate"]))
            .hgetall(key(&["heldsince"]))
            .cmd("TIME")
            .query_async(&mut self.conn())
            .await?;
        let now = secs * 1000 + micros / 1000;
        let recent: Vec<Duration> = recent.into_iter().map(Duration::from_millis).collect();
        let serving = pool
            .iter()
            .filter(|(url, m)| *m == model && states.get(*url).map(String::as_str) != Some("down"))
            .map(|(url, _)| held_since.get(url).map(|since| Duration::from_millis(now.saturating_sub(*since))));
        Ok((queue, Estimator::new(&recent, serving)))
    }

    /// (token, machine URL) of a session.
    pub async fn session(&self, session_id: &str) -> StoreResult<Option<(String, String)>> {
        let (token, machine): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(key(&["session:", session_id]))
            .arg("token")
            .arg("machine")
            .query_async(&mut self.conn())
            .await?;
        Ok(token.zip(machine))
    }
}
