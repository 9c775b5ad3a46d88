//! `bench-floor`: the native floors under the Python host's numbers.
//!
//! The Python harness starts the Rust echo LLM plugin through `PluginManager` and passes its
//! address; this binary calls that same plugin process, with no Python in the way, and prints
//! one JSON object on stdout (progress goes to stderr). Three floors, from the bottom up:
//!
//! - `raw-socket`: a 64-byte write and read back on a unix socket, to an echo thread in this
//!   process, both pinned to one CPU: the cost of the IPC itself (syscalls and a local context
//!   switch each way). No call to another process can be cheaper. It does not touch the plugin.
//!   `cross_cpu_*` repeats it with the two ends pinned to different CPUs: what every wake-up of
//!   the other side costs when it runs on another (idle) CPU, as plugin calls often do. On a
//!   small VM that can be most of a gRPC call's latency; see `raw_socket.rs`.
//! - `tonic`: a plain tonic client (`Channel` over a unix socket connector), what a Rust
//!   program would write by default. Adds HTTP/2, protobuf, the plugin's tonic server, and
//!   tonic's `Channel` buffer task.
//! - `hector-core`: our own transport (`hector_plugins_host::transport`: hyper's HTTP/2
//!   `SendRequest`, no buffer task) with the generated client set up as `LlmClient` sets it up.
//!   The best the Python package can do: its calls run this code plus the Python ⇄ tokio bridge,
//!   so (Python p50 − hector-core p50) is what the bridge and asyncio cost.
//!
//! Workloads, each on unary `Generate` with one user message "hi": sequential calls (p50/p99 of
//! each awaited call, calls/s), 16 and 256 concurrent tokio tasks (total calls/s), and one
//! `GenerateStreaming` of exactly `--stream-chunks` TEXT chunks (chunks/s, count verified). The
//! measuring code runs on a tokio worker thread, as the Python host's calls do (with
//! `--current-thread`, on one thread with the IO and the connection: a caller-driven floor). Every
//! measurement follows a warm-up (max(50, calls/10) sequential then 16-way calls, like
//! `benchmarks/measure.py`; one full stream before a streaming measurement). Rounds alternate the
//! client order; the report gives medians across rounds and every round's values.

mod args;
mod grpc;
mod raw_socket;
mod stats;

use args::{Args, USAGE};
use grpc::Client;
use hector_plugins_host::logs::{LogRecord, LogSink};
use hector_plugins_host::{Plugin, PluginKind, PluginSpec};
use raw_socket::RawSocket;
use serde_json::{Map, Value};
use stats::{Sequential, Series, CROSS_CPU, SEQUENTIAL};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Concurrency levels and the metric each one reports.
const CONCURRENCY: [(usize, &str); 2] = [(16, "c16_calls_per_s"), (256, "c256_calls_per_s")];

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, path] = raw.as_slice() {
        if flag == "--serve-echo" {
            return match raw_socket::serve_forever(Path::new(path)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bench-floor: cannot serve an echo on {path}: {e}");
                    ExitCode::FAILURE
                }
            };
        }
    }
    if raw.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match Args::parse(raw) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("bench-floor: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = if args.current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(args.workers);
        builder
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench-floor: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Spawned, not run in block_on: the calls then run on a worker thread, as the host's do.
    let outcome = runtime.block_on(async move {
        tokio::spawn(run(args)).await.unwrap_or_else(|e| Err(format!("benchmark task failed: {e}")))
    });
    match outcome {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-floor: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Finds (or launches) the plugin, benchmarks it, and stops it again if we launched it.
async fn run(args: Args) -> Result<Value, String> {
    let plugin = match &args.launch {
        Some(path) => Some(launch(path).await?),
        None => None,
    };
    let address = match &plugin {
        Some(plugin) => plugin.address.to_string(),
        None => args.address.clone().unwrap_or_default(),
    };
    let result = match grpc::socket_path(&address) {
        Ok(socket) => bench(&args, &socket).await,
        Err(e) => Err(e),
    };
    // Also after a failed benchmark: a plugin we started must not outlive us.
    if let Some(plugin) = plugin {
        plugin.shutdown(plugin.shutdown_grace()).await;
    }
    result
}

/// `--launch`: starts the plugin through the core, as `PluginManager` would (standalone runs).
async fn launch(path: &Path) -> Result<Arc<Plugin>, String> {
    let spec = PluginSpec::new("echo-llm-rust", path, PluginKind::Llm);
    let plugin = Plugin::start(spec, Arc::new(StderrSink)).await.map_err(|e| e.to_string())?;
    eprintln!("launched {} (pid {}) at {}", path.display(), plugin.pid, plugin.address);
    Ok(plugin)
}

/// The launched plugin's log lines go to our stderr, with the progress.
struct StderrSink;

impl LogSink for StderrSink {
    fn log(&self, record: LogRecord) {
        eprintln!("[{} {}] {}", record.plugin, record.level, record.message);
    }
}

async fn bench(args: &Args, socket: &Path) -> Result<Value, String> {
    let mut subjects = [
        Subject::new("raw-socket", raw_sockets().map_err(|e| format!("raw socket: {e}"))?),
        Subject::new("tonic", Kind::Grpc(Client::tonic(socket).await?)),
        Subject::new("hector-core", Kind::Grpc(Client::hector_core(socket).await?)),
    ];
    for round in 0..args.rounds {
        // Reversed on odd rounds, so load drifting during a round hits every client alike.
        let mut order: Vec<usize> = (0..subjects.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        let names: Vec<&str> = order.iter().map(|&i| subjects[i].name).collect();
        eprintln!("round {}/{} ({})", round + 1, args.rounds, names.join(" / "));
        for &i in &order {
            subjects[i].measure_sequential(args).await?;
        }
        for (tasks, metric) in CONCURRENCY {
            for &i in &order {
                subjects[i].measure_concurrent(args, tasks, metric).await?;
            }
        }
        for &i in &order {
            subjects[i].measure_stream(args).await?;
        }
    }
    if let Some(dir) = &args.samples_dir {
        for subject in &subjects {
            subject.write_samples(dir)?;
        }
    }
    Ok(report(args, &subjects))
}

/// Both raw-socket set-ups; across CPUs only if this process may use two.
fn raw_sockets() -> std::io::Result<Kind> {
    let cpus = raw_socket::allowed_cpus()?;
    let first = cpus.first().copied().unwrap_or(0);
    let cross_cpu = match cpus.get(1) {
        Some(&second) => Some(RawSocket::start(first, second)?),
        None => None,
    };
    Ok(Kind::Raw { same_cpu: RawSocket::start(first, first)?, cross_cpu })
}

/// The top-level JSON object.
fn report(args: &Args, subjects: &[Subject]) -> Value {
    let mut report = Map::new();
    let rustc = env!("BENCH_FLOOR_RUSTC");
    if !rustc.is_empty() {
        report.insert("rustc".into(), rustc.into());
    }
    let workers: Value = if args.current_thread { "current-thread".into() } else { args.workers.into() };
    report.insert("workers".into(), workers);
    for subject in subjects {
        report.insert(subject.name.into(), subject.series.to_json());
    }
    Value::Object(report)
}

enum Kind {
    Raw { same_cpu: RawSocket, cross_cpu: Option<RawSocket> },
    Grpc(Client),
}

/// One client under test and everything measured on it so far.
struct Subject {
    name: &'static str,
    kind: Kind,
    series: Series,
    /// The latest sequential round's per-call latencies, for `--samples-dir`.
    last_latencies_ns: Vec<u64>,
}

impl Subject {
    fn new(name: &'static str, kind: Kind) -> Self {
        Subject { name, kind, series: Series::default(), last_latencies_ns: Vec::new() }
    }

    async fn measure_sequential(&mut self, args: &Args) -> Result<(), String> {
        let (warm, calls) = (args.warm_up_calls(), args.calls);
        let run: Sequential = match &mut self.kind {
            Kind::Raw { same_cpu, cross_cpu } => {
                // Blocking I/O: hand this worker's other tasks to another thread meanwhile (a
                // current-thread runtime has no other thread, and nothing else to run).
                let raw = |socket: &mut RawSocket| match tokio::runtime::Handle::current().runtime_flavor() {
                    tokio::runtime::RuntimeFlavor::CurrentThread => socket.sequential(warm, calls),
                    _ => tokio::task::block_in_place(|| socket.sequential(warm, calls)),
                };
                if let Some(cross_cpu) = cross_cpu {
                    let run = raw(cross_cpu).map_err(|e| format!("raw socket: {e}"))?;
                    self.series.push_sequential(CROSS_CPU, &run);
                    progress(self.name, &self.series, "across CPUs", CROSS_CPU);
                }
                raw(same_cpu).map_err(|e| format!("raw socket: {e}"))?
            }
            Kind::Grpc(client) => {
                grpc::warm_up(client, warm).await?;
                grpc::sequential(client, calls).await?
            }
        };
        self.series.push_sequential(SEQUENTIAL, &run);
        progress(self.name, &self.series, "sequential", SEQUENTIAL);
        self.last_latencies_ns = run.latencies_ns;
        Ok(())
    }

    /// gRPC clients only: the raw socket has no multiplexing to compare with.
    async fn measure_concurrent(&mut self, args: &Args, tasks: usize, metric: &'static str) -> Result<(), String> {
        let Kind::Grpc(client) = &self.kind else {
            return Ok(());
        };
        grpc::warm_up(client, args.warm_up_calls()).await?;
        let rate = grpc::concurrent(client, args.calls, tasks).await?;
        self.series.push(metric, rate);
        eprintln!("  {:<12} {:<12} {rate:9.0} calls/s", self.name, format!("{tasks} tasks"));
        Ok(())
    }

    async fn measure_stream(&mut self, args: &Args) -> Result<(), String> {
        let Kind::Grpc(client) = &self.kind else {
            return Ok(());
        };
        grpc::stream(client, args.stream_chunks).await?;
        let rate = grpc::stream(client, args.stream_chunks).await?;
        self.series.push("stream_chunks_per_s", rate);
        eprintln!("  {:<12} {:<12} {rate:9.0} chunks/s", self.name, "stream");
        Ok(())
    }

    /// `DIR/<client>.txt`: one latency in ns per line, in call order.
    fn write_samples(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(format!("{}.txt", self.name));
        let mut text = String::with_capacity(self.last_latencies_ns.len() * 8);
        for ns in &self.last_latencies_ns {
            text.push_str(&ns.to_string());
            text.push('\n');
        }
        std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&path, text))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// The progress line of the latest sequential loop measured under `keys`.
fn progress(name: &str, series: &Series, what: &str, [p50, p99, rate]: [&str; 3]) {
    eprintln!(
        "  {name:<12} {what:<12} p50 {:8.1} µs  p99 {:8.1} µs  {:9.0} calls/s",
        series.last(p50),
        series.last(p99),
        series.last(rate)
    );
}
