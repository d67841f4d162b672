//! A real `redis-server` on a free loopback port, in its own temporary
//! folder, without persistence; and coordinators as child processes (so a
//! test can kill -9 one).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl RedisServer {
    /// Fails the test with a clear message when redis-server is missing.
    pub async fn start() -> RedisServer {
        let dir = std::env::temp_dir().join(format!("reactor-redis-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = RedisServer { port: free_port(), dir, child: None };
        server.spawn().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run redis-server ({e}): install it (Debian: apt-get install redis-server; .ci/run does)")
            });
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "redis-server did not listen on {}", self.port);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills it (its data is gone: no persistence) and starts it again on the same port.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// Kills it, for good.
    pub fn stop(&mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url()).unwrap();
        client.get_multiplexed_async_connection().await.unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `reactor-server` child process, killed when dropped.
pub struct ChildCoordinator {
    pub url: String,
    pub ws_url: String,
    child: Child,
}

impl ChildCoordinator {
    pub async fn start(args: &[&str]) -> ChildCoordinator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_reactor-server"))
            .args(["--listen", "127.0.0.1:0", "--machines", ""])
            .args(args)
            .env("RUST_LOG", std::env::var("CHILD_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::piped())
            .spawn()
            .expect("reactor-server runs");
        let stdout = tokio::process::ChildStdout::from_std(child.stdout.take().unwrap()).unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(rest) = line.strip_prefix("Coordinator at ") {
                    return rest.split_whitespace().next().unwrap().to_string();
                }
            }
            panic!("reactor-server exited before listening")
        })
        .await
        .expect("reactor-server listens in time");
        // Keep reading so that the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let ws_url = format!("{}/ws", url.replacen("http://", "ws://", 1));
        ChildCoordinator { url, ws_url, child }
    }

    /// kill -9: no goodbye to anyone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildCoordinator {
    fn drop(&mut self) {
        self.kill9();
    }
}
