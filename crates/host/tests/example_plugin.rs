//! The host core against the real example plugin (examples/rust-echo-llm), without Python: start,
//! calls, a stream, a crash, graceful shutdown, refusals at start, a `Manager` that loads,
//! restarts and shuts down, and output over the log budget. Every test launches real processes
//! over real sockets and uses only the host crate's public API.

mod support;

use futures_util::StreamExt;
use hector_plugins_host::clients::llm::LlmClient;
use hector_plugins_host::log_budget::LogBudget;
use hector_plugins_host::logs::{LogRecord, Source};
use hector_plugins_host::plugin::ExitInfo;
use hector_plugins_host::proto::hector::stream_chunk::ChunkType;
use hector_plugins_host::{Error, Manager, Plugin, PluginKind, PluginSpec, State};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use support::process::{Process, Seen};
use support::{example_plugin, user, wait_until, Recorder};

/// The app protocol version Hector plugins speak (docs/protocol.md §1.2), which the host offers
/// by default and the example plugin announces.
const HECTOR_PROTOCOL_VERSION: u32 = 1;

fn spec(name: &str) -> PluginSpec {
    PluginSpec::new(name, example_plugin(), PluginKind::Llm)
}

/// A started example plugin and what the tests watch it through.
struct Running {
    plugin: Arc<Plugin>,
    llm: LlmClient,
    /// The plugin's own process, as it was at start.
    process: Process,
    socket_dir: PathBuf,
    sink: Arc<Recorder>,
}

async fn start(spec: PluginSpec) -> Running {
    let sink = Recorder::new();
    let plugin = match Plugin::start(spec, sink.clone()).await {
        Ok(plugin) => plugin,
        Err(e) => panic!("the example plugin did not start: {e}"),
    };
    Running {
        llm: LlmClient::new(plugin.clone()),
        process: Process::of(plugin.pid),
        socket_dir: socket_dir(&plugin),
        sink,
        plugin,
    }
}

/// Waits until the host has noticed the plugin's death and reaped it (docs/protocol.md §6.2).
async fn wait_for_crash(plugin: &Plugin) {
    wait_until(&format!("{} marked crashed with its exit known", plugin.name), || {
        plugin.state() == State::Crashed && plugin.has_exited()
    })
    .await;
}

/// The socket path of a plugin's `unix:` address.
fn unix_socket(plugin: &Plugin) -> PathBuf {
    match plugin.address.strip_prefix("unix:") {
        Some(path) => PathBuf::from(path),
        None => panic!("expected a unix socket, got {}", plugin.address),
    }
}

/// The private directory the host made for the plugin's socket (docs/protocol.md §1.3). The SDK
/// removes its socket file on a graceful exit; removing the directory is the host's job.
fn socket_dir(plugin: &Plugin) -> PathBuf {
    let socket = unix_socket(plugin);
    let dir = socket.parent().expect("the socket is in a directory");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir.to_path_buf()
}

const SIGKILLED: ExitInfo = ExitInfo { code: None, signal: Some(libc::SIGKILL), limit: None };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_ready_and_answers_generate() {
    let Running { plugin, llm, process, sink, .. } = start(spec("echo")).await;

    assert_eq!(plugin.state(), State::Ready);
    assert!(plugin.is_serving());
    assert_eq!(plugin.protocol_version, HECTOR_PROTOCOL_VERSION);
    let exe = std::fs::read_link(format!("/proc/{}/exe", plugin.pid)).unwrap();
    assert_eq!(exe, example_plugin().canonicalize().unwrap(), "the pid is the plugin's own, not its keeper's");
    let socket = unix_socket(&plugin);
    assert!(socket.exists(), "{} is missing", socket.display());

    let status = plugin.status();
    assert_eq!((status.name.as_str(), status.kind, status.pid), ("echo", PluginKind::Llm, plugin.pid));
    assert_eq!((status.state, status.exit, status.restarts), (State::Ready, None, 0));

    let reply = llm.generate(user("hello there"), None).await.unwrap();
    assert_eq!(reply.text, "Echo: hello there");
    assert_eq!(reply.tokens_used, 3);
    assert!(reply.tool_calls.is_empty());
    assert_eq!(llm.model_info(None).await.unwrap().model_name, "echo-llm-v1.0");
    assert!(llm.health(None).await.unwrap().healthy);
    // The plugin's hclog line on stderr reached the sink as a record of this plugin.
    sink.wait_for("echo", "echo-llm initialized").await;

    plugin.shutdown(plugin.shutdown_grace()).await;
    assert_eq!(process.seen(), Seen::Gone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_yields_text_chunks_then_done() {
    let Running { plugin, llm, .. } = start(spec("streamer")).await;

    let chunks: Vec<_> = llm.generate_stream(user("one two three"), None).await.unwrap().collect().await;
    let chunks: Vec<_> = chunks.into_iter().map(|chunk| chunk.unwrap()).collect();
    let (last, texts) = chunks.split_last().expect("at least the DONE chunk");
    assert!(texts.iter().all(|c| c.r#type == ChunkType::Text as i32), "{chunks:?}");
    let texts: Vec<&str> = texts.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["Echo: ", "one ", "two ", "three"]);
    assert_eq!((last.r#type, last.tokens_used), (ChunkType::Done as i32, 4));

    plugin.shutdown(plugin.shutdown_grace()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_leaves_no_process_and_refuses_calls() {
    let Running { plugin, llm, process, socket_dir, sink } = start(spec("graceful")).await;

    plugin.shutdown(plugin.shutdown_grace()).await;

    assert_eq!(plugin.state(), State::Stopped);
    let status = plugin.status();
    // The plugin honoured Shutdown and exited 0 by itself (docs/protocol.md §6.1): no kill.
    assert_eq!(status.exit, Some(ExitInfo { code: Some(0), signal: None, limit: None }));
    assert!(!status.killed, "the plugin was killed instead of exiting");
    assert_eq!(process.seen(), Seen::Gone, "the plugin process (or its zombie) is left");
    assert!(!socket_dir.exists(), "{} was not removed", socket_dir.display());
    sink.wait_for("graceful", "echo-llm shutdown requested").await;

    match llm.generate(user("late"), None).await {
        Err(Error::Closed { plugin, state }) => assert_eq!((plugin.as_str(), state.as_str()), ("graceful", "stopped")),
        other => panic!("a stopped plugin must refuse calls, got {other:?}"),
    }
    // Idempotent: a second shutdown finds it stopped.
    plugin.shutdown(plugin.shutdown_grace()).await;
    assert_eq!(plugin.state(), State::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_plugin_is_reported_crashed() {
    let Running { plugin, llm, process, socket_dir, sink } = start(spec("victim")).await;
    llm.generate(user("before"), None).await.unwrap();

    process.signal(libc::SIGKILL);
    wait_for_crash(&plugin).await;

    match llm.generate(user("after"), None).await {
        Err(Error::Crashed { plugin, method, exit, .. }) => {
            assert_eq!((plugin.as_str(), method.as_str()), ("victim", "Generate"));
            assert_eq!(exit, SIGKILLED.to_string());
        }
        other => panic!("a call to a killed plugin must fail as crashed, got {other:?}"),
    }
    let status = plugin.status();
    assert_eq!((status.state, status.exit), (State::Crashed, Some(SIGKILLED)));
    // Its keeper reaped it: no zombie (docs/protocol.md §1.4).
    assert_eq!(process.seen(), Seen::Gone);
    sink.wait_for("victim", "plugin exited unexpectedly (killed by signal 9)").await;
    // A killed plugin cannot remove its socket: the host sweeps its directory.
    wait_until("the crashed plugin's socket directory to be removed", || !socket_dir.exists()).await;

    plugin.shutdown(plugin.shutdown_grace()).await;
    assert_eq!(plugin.state(), State::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_under_an_open_stream_ends_it_with_crashed() {
    let mut spec = spec("midstream");
    // Each chunk waits this long, so the stream is open with nothing sent when the kill comes.
    spec.config.insert("stream_delay_ms".into(), "600000".into());
    let Running { plugin, llm, process, .. } = start(spec).await;

    let mut stream = llm.generate_stream(user("never sent"), None).await.unwrap();
    process.signal(libc::SIGKILL);

    match stream.next().await {
        Some(Err(Error::Crashed { plugin, method, .. })) => {
            assert_eq!((plugin.as_str(), method.as_str()), ("midstream", "GenerateStreaming"));
        }
        other => panic!("the open stream must end with a crash error, got {other:?}"),
    }
    assert!(stream.next().await.is_none(), "nothing may follow the crash error");
    wait_for_crash(&plugin).await;
    assert_eq!(plugin.status().exit, Some(SIGKILLED));
    plugin.shutdown(plugin.shutdown_grace()).await;
    assert_eq!(process.seen(), Seen::Gone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_cookie_is_refused_at_the_handshake() {
    let mut spec = spec("cookie");
    spec.launch.magic_cookie_value = "not-the-cookie".into();

    match Plugin::start(spec, Recorder::new()).await {
        Err(Error::Start { plugin, message, stderr, handshake }) => {
            assert_eq!(plugin, "cookie");
            assert!(handshake, "a refusal before the handshake line is a handshake failure");
            assert!(message.contains("exit status 1") && message.contains("wrong magic cookie"), "{message}");
            // The SDK's own explanation, quoted from the plugin's stderr.
            assert!(stderr.iter().any(|line| line.contains("This binary is a plugin")), "{stderr:?}");
        }
        Err(other) => panic!("expected a start failure, got {other}"),
        Ok(_) => panic!("a plugin given the wrong cookie must not start"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unspoken_protocol_version_is_refused() {
    let mut spec = spec("versions");
    spec.launch.protocol_versions = vec![HECTOR_PROTOCOL_VERSION + 1, HECTOR_PROTOCOL_VERSION + 2];

    match Plugin::start(spec, Recorder::new()).await {
        Err(Error::Start { plugin, stderr, handshake, .. }) => {
            assert_eq!(plugin, "versions");
            assert!(handshake);
            assert!(stderr.iter().any(|line| line.contains("protocol version mismatch")), "{stderr:?}");
        }
        Err(other) => panic!("expected a start failure, got {other}"),
        Ok(_) => panic!("a plugin offered only versions it does not speak must not start"),
    }
}

/// An executable that never prints a handshake line is killed at its start timeout
/// (docs/protocol.md §2.3). A shell script stands in: the example plugin always answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_executable_is_killed_at_its_start_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("silent");
    std::fs::write(&script, "#!/bin/sh\necho \"pid $$\" >&2\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut spec = PluginSpec::new("silent", &script, PluginKind::Llm);
    spec.start_timeout = Duration::from_millis(500);

    let stderr = match Plugin::start(spec, Recorder::new()).await {
        Err(Error::StartTimeout { plugin, stage, stderr, .. }) => {
            assert_eq!((plugin.as_str(), stage), ("silent", "complete its handshake"));
            stderr
        }
        Err(other) => panic!("expected a start timeout, got {other}"),
        Ok(_) => panic!("an executable without a handshake line must not start"),
    };
    let pid: u32 = stderr
        .iter()
        .find_map(|line| line.strip_prefix("pid ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("the script's pid line is missing from {stderr:?}"));
    // Killed by the host, then reaped by its keeper: not even a zombie stays.
    wait_until(&format!("the silent executable (pid {pid}) to be gone"), || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_loads_restarts_and_shuts_down() {
    let sink = Recorder::new();
    let manager: Arc<Manager> = Arc::new(Manager::new(Default::default(), sink.clone()));

    let first = manager.load(spec("llm")).await.unwrap();
    let first_process = Process::of(first.pid);
    match manager.load(spec("llm")).await {
        Err(Error::Config { message, .. }) => assert!(message.contains("already loaded"), "{message}"),
        other => panic!("a second load of a running name must be refused, got {:?}", other.map(|p| p.pid)),
    }
    assert!(Arc::ptr_eq(&manager.get("llm", Some(PluginKind::Llm)).unwrap(), &first));
    assert!(matches!(manager.get("llm", Some(PluginKind::Embedder)), Err(Error::NotFound { .. })));
    let old_client = LlmClient::new(first.clone());
    assert_eq!(old_client.generate(user("first"), None).await.unwrap().text, "Echo: first");

    // A restart stops the running process gracefully and starts a new one under the name.
    let second = manager.restart("llm").await.unwrap();
    assert_ne!(second.pid, first.pid);
    assert_eq!((second.restarts(), second.state()), (1, State::Ready));
    assert_eq!(first.state(), State::Stopped);
    assert_eq!(first_process.seen(), Seen::Gone);
    assert!(matches!(old_client.generate(user("stale"), None).await, Err(Error::Closed { .. })));
    assert!(Arc::ptr_eq(&manager.successor(&first).expect("a successor"), &second));
    let client = LlmClient::new(manager.get("llm", None).unwrap());
    assert_eq!(client.generate(user("second"), None).await.unwrap().text, "Echo: second");

    // A crashed plugin is restarted too, counting on.
    let second_process = Process::of(second.pid);
    second_process.signal(libc::SIGKILL);
    wait_for_crash(&second).await;
    let third = manager.restart("llm").await.unwrap();
    assert_eq!(third.restarts(), 2);
    assert_eq!(second_process.seen(), Seen::Gone);
    let third_process = Process::of(third.pid);
    let statuses = manager.statuses();
    assert_eq!(statuses.len(), 1, "one entry per name");
    assert_eq!((statuses[0].pid, statuses[0].state), (third.pid, State::Ready));

    manager.shutdown(None, None).await;
    assert_eq!(third.state(), State::Stopped);
    assert!(!third.status().killed);
    assert_eq!(third_process.seen(), Seen::Gone);
    assert!(matches!(manager.get("llm", None), Err(Error::Closed { .. })));
    assert!(matches!(manager.load(spec("late")).await, Err(Error::Closed { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_over_the_log_budget_is_dropped_counted_and_reported() {
    let mut spec = spec("flood");
    // 12,000 lines of 100 bytes on stdout and on stderr before Initialize returns, against 100 lines/s.
    spec.config.insert("flood_bytes".into(), 1_200_000.into());
    spec.log_budget = Some(LogBudget { lines_per_second: 100, bytes_per_second: 1 << 20, burst_seconds: 1.0 });
    let Running { plugin, llm, sink, .. } = start(spec).await;
    assert_eq!(llm.generate(user("after the flood"), None).await.unwrap().text, "Echo: after the flood");

    wait_until("most flood lines dropped", || plugin.status().dropped_log_lines > 20_000).await;
    // The outputs end with the plugin: what was dropped since the last report is reported, and
    // each of the 24,000 lines (stdout's over the SDK's GRPCStdio stream) is a record or counted.
    plugin.shutdown(plugin.shutdown_grace()).await;
    let (flooded, records) = (plugin.clone(), sink.clone());
    wait_until("every flood line logged or reported dropped", move || {
        let records = records.records();
        let reported: u64 = records
            .iter()
            .filter(|r| r.source == Source::Host)
            .filter_map(|r| r.message.strip_prefix("plugin flood: dropped ")?.split(' ').next()?.parse::<u64>().ok())
            .sum();
        let is_flood =
            |r: &&LogRecord| ["stdout flood line ", "stderr flood line "].iter().any(|s| r.message.starts_with(s));
        let kept = records.iter().filter(is_flood).count() as u64;
        // The plugin's other lines (its hclog lines) may be among the dropped ones.
        reported == flooded.status().dropped_log_lines && kept + reported >= 24_000 && kept < 1_000
    })
    .await;
    // The stderr tail saw every line, dropped or not.
    let tail = plugin.stderr_tail();
    assert!(tail.iter().any(|line| line.starts_with("stderr flood line 0011999")), "{tail:?}");
}
