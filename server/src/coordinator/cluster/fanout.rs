//! Pub/sub: what other processes (and this one) say happened, turned into
//! frames for this process's own clients and calls for its own machines.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;

use super::super::{MachineOp, Shared};
use super::{lock, Store};

/// Subscribes (again after every broken connection: what was missed is
/// made good by a fresh look at every queue and assignment).
pub(super) async fn run(shared: Arc<Shared>) {
    let cluster = shared.cluster();
    let mut shutdown = shared.shutdown.clone();
    loop {
        match subscribe(&cluster.client, &cluster.store.pid).await {
            Ok(pubsub) => {
                resync(&shared).await;
                let mut messages = pubsub.into_on_message();
                loop {
                    tokio::select! {
                        message = messages.next() => match message {
                            Some(message) => handle(&shared, &message).await,
                            None => break,
                        },
                        _ = super::super::stopping(&mut shutdown) => return,
                    }
                }
                tracing::warn!("lost the Redis subscription; subscribing again");
            }
            Err(error) => tracing::warn!(%error, "cannot subscribe to Redis"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = super::super::stopping(&mut shutdown) => return,
        }
    }
}

async fn subscribe(client: &redis::Client, pid: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(Store::channel_of(pid)).await?;
    pubsub.psubscribe(Store::queue_channels()).await?;
    Ok(pubsub)
}

/// Every queue looked at again, every local client's assignment too.
async fn resync(shared: &Arc<Shared>) {
    let cluster = shared.cluster();
    for (_, model) in cluster.store.pool().await.unwrap_or_default() {
        positions_task(shared, &model).notify_one();
    }
    let clients: Vec<_> = lock(&cluster.local).iter().filter(|(_, l)| !l.assigned_sent).map(|(c, _)| *c).collect();
    for client in clients {
        cluster.deliver_assigned(client).await;
    }
}

async fn handle(shared: &Arc<Shared>, message: &redis::Msg) {
    let cluster = shared.cluster();
    let channel = message.get_channel_name();
    if let Some(model) = Store::model_of_channel(channel) {
        positions_task(shared, model).notify_one();
        return;
    }
    let Ok(text) = message.get_payload::<String>() else { return };
    let words: Vec<&str> = text.split(' ').collect();
    match words.as_slice() {
        ["start", url, client] => {
            if let Ok(client) = client.parse() {
                cluster.machine_op(url, MachineOp::Start { client });
            }
        }
        ["reset", url] => cluster.machine_op(url, MachineOp::Reset),
        ["assigned", client] => {
            if let Ok(client) = client.parse() {
                cluster.deliver_assigned(client).await;
            }
        }
        ["fatal", client] => {
            if let Ok(client) = client.parse() {
                cluster.deliver_fatal(client).await;
            }
        }
        ["superseded", client, epoch] => {
            if let (Ok(client), Ok(epoch)) = (client.parse(), epoch.parse()) {
                cluster.superseded(client, epoch);
            }
        }
        _ => tracing::debug!(text, "unknown message on the process channel"),
    }
}

/// The task that keeps this process's clients of `model` told their
/// places: one read of the shared queue per wake-up, however many changes
/// woke it (a `Notify` holds one permit).
fn positions_task(shared: &Arc<Shared>, model: &str) -> Arc<Notify> {
    let cluster = shared.cluster();
    let mut queues = lock(&cluster.queues);
    if let Some(notify) = queues.get(model) {
        return notify.clone();
    }
    let notify = Arc::new(Notify::new());
    queues.insert(model.to_string(), notify.clone());
    let (shared, model, wake) = (shared.clone(), model.to_string(), notify.clone());
    tokio::spawn(async move {
        let cluster = shared.cluster();
        let mut shutdown = shared.shutdown.clone();
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                // At shutdown every client leaves; new places are moot.
                _ = super::super::stopping(&mut shutdown) => return,
            }
            match cluster.store.queue(&model).await {
                Ok((queue, estimator)) => cluster.tell_positions(&model, &queue, estimator),
                Err(error) => tracing::warn!(model, %error, "could not read the queue"),
            }
        }
    });
    notify
}
