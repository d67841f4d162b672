//! Coordinator capacity bench: one `reactor-server` process, N waiting
//! WebSocket clients, and the latency of the position updates pushed to all
//! of them each time the machine changes hands.
//!
//! Run it with `bash bench/load.sh` (builds, raises limits, isolates the
//! network). By hand:
//!
//! ```text
//! cargo build -p reactor-server --profile server --bin reactor-server --example load
//! target/server/examples/load --clients 10000 --rounds 20
//! ```
//!
//! What it does:
//! 1. Raises its own soft `RLIMIT_NOFILE` to the hard limit; the coordinator
//!    it spawns inherits it.
//! 2. Spawns the real `reactor-server` binary (`--listen 127.0.0.1:0
//!    --machines echo=1`) as a separate process, so the coordinator runs
//!    alone in its process (with its one idle simulated machine).
//! 3. One client takes the machine (`assigned`); then N clients each
//!    `POST /tokens`, open `/ws`, say `hello` with queueing on, and get
//!    `queued`. Positions must be exactly 1..=N.
//! 4. Each round the session holder sends `leave`. The coordinator resets the
//!    machine (`stop_session`), hands it to the head of the line and pushes a
//!    new `queued` frame to everyone still waiting. Per waiting client the
//!    bench measures the delay from just before `leave` was written to the
//!    arrival of its new position (so the reset round trip is included), and
//!    checks that every client got exactly one update, one less than before.
//!    The head's `assigned` ends the round; it is the next holder.
//! 5. SIGTERM to the coordinator: every client must get
//!    `COORDINATOR_SHUTDOWN`.
//!
//! Everything is 127.0.0.1 and bounded: `--max-secs` caps the whole run,
//! `--round-timeout-secs` each round. Exit status 0 only when every update
//! arrived, every position was right, and the overall p99 met `--target-p99-ms`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use reactor_protocol::coordinator::{ClientFrame, Queued, ServerFrame, TokenResponse, API_KEY_HEADER};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Parser, Debug, Clone)]
#[command(about = "Load bench: N waiting WebSocket clients on one coordinator process")]
struct Args {
    /// Waiting clients (plus one that holds the machine).
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Hand-overs to measure (each one pushes an update to everyone waiting).
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// The reactor-server binary (default: next to this example's folder).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Use a coordinator that is already running (http://127.0.0.1:PORT) instead of spawning one.
    #[arg(long)]
    url: Option<String>,
    /// With --url: its process id, for memory and CPU figures.
    #[arg(long)]
    pid: Option<u32>,
    /// Where the spawned coordinator's log goes (default: a temp file).
    #[arg(long)]
    server_log: Option<PathBuf>,
    /// Clients connecting at the same time.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// One token for every client (the protocol allows reuse within its TTL)
    /// instead of one POST /tokens per client.
    #[arg(long)]
    shared_token: bool,
    /// Worker threads of the bench's own runtime; 0 (default) = a
    /// single-threaded runtime: one epoll loop and no wake-ups between
    /// threads, so the bench takes less of the CPU it shares with the
    /// coordinator.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// The whole run stops after this long.
    #[arg(long, default_value_t = 600)]
    max_secs: u64,
    /// A round fails when its updates have not all arrived by then.
    #[arg(long, default_value_t = 30)]
    round_timeout_secs: u64,
    /// Exit 1 when the overall p99 is above this.
    #[arg(long, default_value_t = 100.0)]
    target_p99_ms: f64,
    /// API key for POST /tokens.
    #[arg(long, default_value = "dev-key")]
    api_key: String,
    /// Coordinator processes sharing one pool (needs --redis); clients are
    /// spread over them in turn, the machine runs in the first.
    #[arg(long, default_value_t = 1)]
    coordinators: usize,
    /// Start a private redis-server (loopback, random port, no persistence)
    /// and run the coordinators with `--redis` on it.
    #[arg(long)]
    redis: bool,
}

fn main() {
    let args = Args::parse();
    let runtime = match args.threads {
        0 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
    }
    .expect("a tokio runtime");
    let code = runtime.block_on(async {
        let limit = Duration::from_secs(args.max_secs);
        match tokio::time::timeout(limit, run(args.clone())).await {
            Ok(Ok(ok)) => {
                if ok {
                    0
                } else {
                    1
                }
            }
            Ok(Err(error)) => {
                eprintln!("load: {error}");
                1
            }
            Err(_) => {
                eprintln!("load: stopped after --max-secs {}", args.max_secs);
                1
            }
        }
    });
    // Client tasks may still hold sockets; the process ends them.
    runtime.shutdown_timeout(Duration::from_secs(1));
    std::process::exit(code);
}

/// The coordinator under test (killed on drop if still running).
struct Coordinator {
    child: Option<Child>,
    pid: Option<u32>,
    http: String,
    ws: String,
}

fn raise_fd_limit(needed: u64) -> Result<u64, String> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err("getrlimit(RLIMIT_NOFILE) failed".into());
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    let soft = lim.rlim_cur;
    if soft < needed {
        return Err(format!(
            "open-file limit is {soft} (hard {}), {needed} needed: raise the hard limit (e.g. `ulimit -Hn {needed}` as root, or LimitNOFILE) or pass fewer --clients",
            lim.rlim_max
        ));
    }
    Ok(soft)
}

/// A private redis-server for the run, killed on drop.
struct Redis {
    child: Child,
    url: String,
    _dir: PathBuf,
}

async fn spawn_redis() -> Result<Redis, String> {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let dir = std::env::temp_dir().join(format!("reactor-load-redis-{port}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("redis-server: {e} (apt-get install redis-server)"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if Instant::now() > deadline {
            return Err("redis-server did not listen within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("redis: redis-server on 127.0.0.1:{port}");
    Ok(Redis { child, url: format!("redis://127.0.0.1:{port}"), _dir: dir })
}

async fn spawn_coordinator(args: &Args, index: usize, redis: Option<&str>) -> Result<Coordinator, String> {
    let server = match &args.server {
        Some(path) => path.clone(),
        None => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            // target/<profile>/examples/load -> target/<profile>/reactor-server
            exe.parent().and_then(|p| p.parent()).map(|p| p.join("reactor-server")).ok_or("no binary folder")?
        }
    };
    if !server.exists() {
        return Err(format!(
            "{} not found: build it (cargo build -p reactor-server --profile server) or pass --server",
            server.display()
        ));
    }
    let log_path = args
        .server_log
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("reactor-load-coordinator.log"))
        .with_extension(format!("{index}.log"));
    let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    // The one machine runs in the first process; the others serve it
    // through the shared pool.
    let machines = if index == 0 { "echo=1" } else { "" };
    let mut command = Command::new(&server);
    command.args(["--listen", "127.0.0.1:0", "--machines", machines]);
    if let Some(url) = redis {
        command.args(["--redis", url]);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", server.display()))?;
    let pid = child.id().ok_or("the coordinator exited at once")?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    // It prints its address once it listens.
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("Coordinator at ") {
                return rest.split_whitespace().next().map(str::to_string);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| format!("the coordinator did not print its address (log: {})", log_path.display()))?;
    // Keep its stdout drained.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    println!("coordinator: pid {pid}, {url} (log: {})", log_path.display());
    Ok(Coordinator { child: Some(child), pid: Some(pid), ws: ws_url(&url)?, http: url })
}

fn ws_url(http: &str) -> Result<String, String> {
    let rest = http.strip_prefix("http://").ok_or_else(|| format!("expected http://…, got {http}"))?;
    if !rest.starts_with("127.0.0.1:") {
        return Err(format!("only 127.0.0.1 is allowed, got {http}"));
    }
    Ok(format!("ws://{}/ws", rest.trim_end_matches('/')))
}

/// What a client task saw.
enum Got {
    Queued(u32),
    Assigned,
    Error(String),
    Closed,
}

struct Report {
    client: usize,
    at: Instant,
    got: Got,
}

/// Asks a client to send `leave`; it answers with the instant just before.
type LeaveRequest = oneshot::Sender<Instant>;

async fn token(http: &reqwest::Client, base: &str, key: &str) -> Result<String, String> {
    let response = http
        .post(format!("{base}/tokens"))
        .header(API_KEY_HEADER, key)
        .send()
        .await
        .map_err(|e| format!("POST /tokens: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("POST /tokens answered {}", response.status()));
    }
    Ok(response.json::<TokenResponse>().await.map_err(|e| e.to_string())?.token)
}

fn parse(text: &str) -> Got {
    match serde_json::from_str::<ServerFrame>(text) {
        Ok(ServerFrame::Queued(Queued { position, .. })) => Got::Queued(position),
        Ok(ServerFrame::Assigned(_)) => Got::Assigned,
        Ok(ServerFrame::Error(body)) => Got::Error(body.code.as_str().to_string()),
        Ok(ServerFrame::Resumed) => Got::Error("resumed, but the bench never resumes".into()),
        Err(error) => Got::Error(format!("unparsable frame: {error}")),
    }
}

/// Connects, says hello, and returns the socket with the first frame.
async fn join(ws_url: &str, token: &str) -> Result<(Ws, Got), String> {
    // Small read buffer: tungstenite zero-fills the whole buffer (128 KiB by
    // default) before each read, which would make the bench its own bottleneck.
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(ws_url, Some(config), true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let hello =
        serde_json::to_string(&ClientFrame::Hello { token: token.into(), model: "echo".into(), queueing: true })
            .expect("hello serializes");
    ws.send(Message::Text(hello.into())).await.map_err(|e| format!("hello: {e}"))?;
    let first = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => return Ok(parse(&text)),
                Some(Ok(Message::Close(_))) | None => return Err("closed before the first frame".to_string()),
                Some(Err(error)) => return Err(format!("read: {error}")),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .map_err(|_| "no first frame within 30 s".to_string())??;
    Ok((ws, first))
}

/// Reads frames until the socket ends; reports each with its arrival time.
async fn client_task(
    client: usize,
    mut ws: Ws,
    mut leave: oneshot::Receiver<LeaveRequest>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let mut left = false;
    loop {
        tokio::select! {
            // Frames first: polled 10,000 times a round, the leave request once.
            biased;
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let at = Instant::now();
                    let _ = reports.send(Report { client, at, got: parse(&text) });
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    let _ = reports.send(Report { client, at: Instant::now(), got: Got::Closed });
                    return;
                }
                Some(Ok(_)) => {}
            },
            request = &mut leave, if !left => {
                left = true;
                if let Ok(reply) = request {
                    let at = Instant::now();
                    let leave = serde_json::to_string(&ClientFrame::Leave).expect("leave serializes");
                    if ws.send(Message::Text(leave.into())).await.is_err() {
                        let _ = reports.send(Report { client, at: Instant::now(), got: Got::Error("could not send leave".into()) });
                    }
                    let _ = reply.send(at);
                }
            }
        }
    }
}

/// Kilobytes of a `/proc/PID/status` field such as `VmRSS`.
fn proc_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Summed over processes; `None` if any is unknown.
fn sum_kb(pids: &[u32], field: &str) -> Option<u64> {
    pids.iter().map(|&p| proc_kb(p, field)).sum()
}

fn cpu_all(pids: &[u32]) -> Option<Duration> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| cpu_time(p)).sum()
}

/// User + system CPU time of a process.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`, which may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(Duration::from_secs_f64((utime + stime) as f64 / tick))
}

/// The 1-minute load average, as /proc/loadavg says it.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or("?".into(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct RoundResult {
    waiting: usize,
    expected: usize,
    latencies: Vec<Duration>,
    assigned: Option<Duration>,
    wrong: usize,
    lost: usize,
    cpu: Option<Duration>,
    bench_cpu: Option<Duration>,
}

async fn run(args: Args) -> Result<bool, String> {
    let n = args.clients;
    if n < 2 {
        return Err("--clients must be at least 2".into());
    }
    let needed = n as u64 + args.connect_concurrency as u64 + 256;
    let limit = raise_fd_limit(needed)?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "load: {n} waiting clients + 1 holder, {} rounds; open-file limit {limit}; {cores} CPU core(s) shared by the bench and the coordinator; load average {}",
        args.rounds,
        loadavg()
    );

    if args.coordinators > 1 && !args.redis {
        return Err("--coordinators N needs --redis (their shared state)".into());
    }
    let redis = if args.redis { Some(spawn_redis().await?) } else { None };
    let mut coordinators = Vec::new();
    match &args.url {
        Some(url) => coordinators.push(Coordinator {
            child: None,
            pid: args.pid,
            ws: ws_url(url)?,
            http: url.trim_end_matches('/').to_string(),
        }),
        None => {
            for index in 0..args.coordinators.max(1) {
                coordinators.push(spawn_coordinator(&args, index, redis.as_ref().map(|r| r.url.as_str())).await?);
            }
        }
    }
    let targets: Vec<(String, String)> = coordinators.iter().map(|c| (c.http.clone(), c.ws.clone())).collect();
    let (first_http, first_ws) = targets[0].clone();
    let pids: Vec<u32> = coordinators.iter().filter_map(|c| c.pid).collect();
    let rss_idle = sum_kb(&pids, "VmRSS");

    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.connect_concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let shared_token = if args.shared_token { Some(token(&http, &first_http, &args.api_key).await?) } else { None };

    let (report_tx, mut reports) = mpsc::unbounded_channel::<Report>();
    let mut leaves: Vec<Option<oneshot::Sender<LeaveRequest>>> = (0..=n).map(|_| None).collect();
    // Expected position of each client; 0 = not waiting.
    let mut position = vec![0u32; n + 1];

    // The holder: client 0 takes the free machine.
    let first_token = match &shared_token {
        Some(t) => t.clone(),
        None => token(&http, &first_http, &args.api_key).await?,
    };
    let (ws, first) = join(&first_ws, &first_token).await?;
    if !matches!(first, Got::Assigned) {
        return Err("the first client did not get the free machine".into());
    }
    let (tx, rx) = oneshot::channel();
    leaves[0] = Some(tx);
    tokio::spawn(client_task(0, ws, rx, report_tx.clone()));
    let mut holder = 0usize;

    // N waiting clients, connect_concurrency at a time.
    let started = Instant::now();
    let joins = futures_util::stream::iter(1..=n)
        .map(|client| {
            let http = http.clone();
            let (base, ws_url) = targets[client % targets.len()].clone();
            let key = args.api_key.clone();
            let shared = shared_token.clone();
            async move {
                let token = match shared {
                    Some(t) => t,
                    None => token(&http, &base, &key).await?,
                };
                let (ws, first) = join(&ws_url, &token).await?;
                Ok::<_, String>((client, ws, first))
            }
        })
        .buffer_unordered(args.connect_concurrency.max(1));
    futures_util::pin_mut!(joins);
    let mut seen = vec![false; n + 1];
    let mut failures: HashMap<String, usize> = HashMap::new();
    while let Some(joined) = joins.next().await {
        match joined {
            Ok((client, ws, Got::Queued(p))) if (1..=n as u32).contains(&p) && !seen[p as usize] => {
                seen[p as usize] = true;
                position[client] = p;
                // Read at once: the coordinator's pings need answers.
                let (tx, rx) = oneshot::channel();
                leaves[client] = Some(tx);
                tokio::spawn(client_task(client, ws, rx, report_tx.clone()));
            }
            Ok((_, _, Got::Queued(p))) => {
                *failures.entry(format!("bad or repeated first position {p}")).or_default() += 1
            }
            Ok((_, _, Got::Assigned)) => {
                *failures.entry("assigned while the machine was held".into()).or_default() += 1
            }
            Ok((_, _, Got::Error(code))) => *failures.entry(format!("error frame {code}")).or_default() += 1,
            Ok((_, _, Got::Closed)) => *failures.entry("closed".into()).or_default() += 1,
            Err(error) => *failures.entry(error).or_default() += 1,
        }
    }
    let connect_time = started.elapsed();
    if !failures.is_empty() {
        return Err(format!("{} of {n} clients did not queue: {failures:?}", failures.values().sum::<usize>()));
    }
    drop(report_tx);
    let rss_held = sum_kb(&pids, "VmRSS");
    println!(
        "connected: {n} clients queued (positions 1..={n}) in {:.2} s ({:.0}/s); coordinator RSS {} idle -> {} holding them ({:.1} KiB per client)",
        connect_time.as_secs_f64(),
        n as f64 / connect_time.as_secs_f64(),
        mib(rss_idle),
        mib(rss_held),
        match (rss_idle, rss_held) {
            (Some(a), Some(b)) => b.saturating_sub(a) as f64 / n as f64,
            _ => f64::NAN,
        }
    );

    let redis_pid = redis.as_ref().and_then(|r| r.child.id());
    let redis_cpu_before = redis_pid.and_then(cpu_time);
    // Rounds.
    println!(
        "{:>5} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8}",
        "round", "waiting", "updates", "missing", "first", "p50", "p90", "p99", "max", "assigned", "cpu", "bench"
    );
    println!(
        "       (latencies from the holder's leave; cpu = coordinator CPU time in the round, bench = this process's)"
    );
    let round_timeout = Duration::from_secs(args.round_timeout_secs);
    let mut results = Vec::new();
    let mut unexpected: Vec<String> = Vec::new();
    for round in 1..=args.rounds {
        let waiting = position.iter().filter(|&&p| p > 0).count();
        if waiting == 0 {
            println!("nobody left waiting after {} rounds", round - 1);
            break;
        }
        let cpu_before = cpu_all(&pids);
        let bench_before = cpu_time(std::process::id());
        let (tx, rx) = oneshot::channel();
        let leave = leaves[holder].take().ok_or("holder already left")?;
        leave.send(tx).map_err(|_| "the holder's task ended")?;
        let t0 = rx.await.map_err(|_| "the holder's task ended before leaving")?;
        let old_holder = holder;
        let expected = waiting - 1;
        let mut latencies = Vec::with_capacity(expected);
        let mut updated = vec![false; n + 1];
        let mut assigned = None;
        let mut wrong = 0usize;
        let deadline = tokio::time::Instant::now() + round_timeout;
        while latencies.len() < expected || assigned.is_none() {
            let Ok(Some(report)) = tokio::time::timeout_at(deadline, reports.recv()).await else { break };
            let c = report.client;
            match report.got {
                Got::Queued(p) => {
                    if position[c] >= 2 && p == position[c] - 1 && !updated[c] {
                        updated[c] = true;
                        position[c] = p;
                        latencies.push(report.at - t0);
                    } else {
                        wrong += 1;
                        if unexpected.len() < 10 {
                            unexpected.push(format!("round {round}: client {c} at {} got position {p}", position[c]));
                        }
                    }
                }
                Got::Assigned if position[c] == 1 && assigned.is_none() => {
                    assigned = Some(report.at - t0);
                    position[c] = 0;
                    holder = c;
                }
                Got::Closed if c == old_holder => {}
                other => {
                    wrong += 1;
                    if unexpected.len() < 10 {
                        let what = match other {
                            Got::Assigned => "assigned".to_string(),
                            Got::Error(code) => format!("error {code}"),
                            Got::Closed => "closed".to_string(),
                            Got::Queued(_) => unreachable!(),
                        };
                        unexpected.push(format!("round {round}: client {c} at {}: {what}", position[c]));
                    }
                }
            }
        }
        let cpu = match (cpu_before, cpu_all(&pids)) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        let bench_cpu = match (bench_before, cpu_time(std::process::id())) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        let lost = expected - latencies.len();
        let first = latencies.iter().min().copied().unwrap_or_default();
        latencies.sort_unstable();
        println!(
            "{:>5} {:>8} {:>8} {:>7} {:>6.1}ms {:>6.1}ms {:>6.1}ms {:>6.1}ms {:>6.1}ms {:>7}ms {:>6}ms {:>6}ms",
            round,
            waiting,
            latencies.len(),
            lost,
            ms(first),
            ms(percentile(&latencies, 50.0)),
            ms(percentile(&latencies, 90.0)),
            ms(percentile(&latencies, 99.0)),
            ms(percentile(&latencies, 100.0)),
            assigned.map_or("-".into(), |d| format!("{:.1}", ms(d))),
            cpu.map_or("?".into(), |d| format!("{:.0}", ms(d))),
            bench_cpu.map_or("?".into(), |d| format!("{:.0}", ms(d))),
        );
        let failed = lost > 0 || assigned.is_none();
        results.push(RoundResult { waiting, expected, latencies, assigned, wrong, lost, cpu, bench_cpu });
        if failed {
            println!("round {round} incomplete by its {} s timeout: stopping", args.round_timeout_secs);
            break;
        }
    }
    let redis_cpu = match (redis_cpu_before, redis_pid.and_then(cpu_time)) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let rss_end = sum_kb(&pids, "VmRSS");
    let hwm = sum_kb(&pids, "VmHWM");

    // Overall.
    let mut all: Vec<Duration> = results.iter().flat_map(|r| r.latencies.iter().copied()).collect();
    all.sort_unstable();
    let expected: usize = results.iter().map(|r| r.expected).sum();
    let lost: usize = results.iter().map(|r| r.lost).sum();
    let wrong: usize = results.iter().map(|r| r.wrong).sum();
    let mut assigned: Vec<Duration> = results.iter().filter_map(|r| r.assigned).collect();
    assigned.sort_unstable();
    let cpu: Option<Duration> = results.iter().map(|r| r.cpu).sum();
    let p99 = ms(percentile(&all, 99.0));
    println!(
        "overall: {} rounds, {} of {expected} updates delivered, {lost} missing, {wrong} wrong or unexpected frames",
        results.len(),
        all.len()
    );
    println!(
        "latency from leave to new position: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; leave to assigned: median {:.1} ms, max {:.1} ms",
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 90.0)),
        p99,
        ms(percentile(&all, 100.0)),
        ms(percentile(&assigned, 50.0)),
        ms(percentile(&assigned, 100.0)),
    );
    if let Some(cpu) = cpu {
        let waiting: usize = results.iter().map(|r| r.waiting).sum();
        let bench: Option<Duration> = results.iter().map(|r| r.bench_cpu).sum();
        println!(
            "CPU during the rounds: coordinator {:.0} ms ({:.1} µs per update), bench {} ms",
            ms(cpu),
            cpu.as_secs_f64() * 1e6 / waiting.max(1) as f64,
            bench.map_or("?".into(), |d| format!("{:.0}", ms(d)))
        );
    }
    if let Some(cpu) = redis_cpu {
        println!("CPU during the rounds: redis-server {:.0} ms", ms(cpu));
    }
    println!(
        "coordinator memory: RSS {} idle, {} with {n} clients, {} at the end, peak {}; bench RSS {}",
        mib(rss_idle),
        mib(rss_held),
        mib(rss_end),
        mib(hwm),
        mib(proc_kb(std::process::id(), "VmRSS"))
    );
    println!("load average now {} (other processes on the machine skew the latencies)", loadavg());
    for line in &unexpected {
        println!("  unexpected: {line}");
    }

    // Shutdown: every connected client must hear COORDINATOR_SHUTDOWN.
    let mut shutdown_ok = true;
    let children: Vec<(Child, u32)> = coordinators.iter_mut().filter_map(|c| Some((c.child.take()?, c.pid?))).collect();
    if !children.is_empty() {
        let connected = position.iter().filter(|&&p| p > 0).count() + 1;
        let t0 = Instant::now();
        for (_, pid) in &children {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGTERM) };
        }
        let mut told = 0usize;
        let mut closed = 0usize;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while closed < connected {
            match tokio::time::timeout_at(deadline, reports.recv()).await {
                Ok(Some(Report { got: Got::Error(code), .. })) if code == "COORDINATOR_SHUTDOWN" => told += 1,
                Ok(Some(Report { got: Got::Closed, .. })) => closed += 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let told_time = t0.elapsed();
        let mut exited = 0;
        for (mut child, _) in children {
            let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.ok().and_then(Result::ok);
            exited += usize::from(status.is_some());
            let _ = child.kill().await;
        }
        println!(
            "shutdown: {told} of {connected} clients told COORDINATOR_SHUTDOWN, {closed} closed, in {:.0} ms; {exited} of {} coordinator(s) exited",
            ms(told_time),
            pids.len(),
        );
        shutdown_ok = told == connected && exited == pids.len();
    }

    let complete = results.len() == args.rounds && lost == 0 && wrong == 0;
    let ok = complete && p99 < args.target_p99_ms && shutdown_ok;
    println!(
        "result: {} (p99 {p99:.1} ms, target < {} ms; {} clients held by {}; every update {})",
        if ok { "PASS" } else { "FAIL" },
        args.target_p99_ms,
        n,
        if args.redis { format!("{} coordinators sharing Redis", coordinators.len()) } else { "1 coordinator".into() },
        if lost == 0 && wrong == 0 { "delivered and consistent" } else { "NOT delivered or inconsistent" }
    );
    Ok(ok)
}
