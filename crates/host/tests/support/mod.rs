//! What the integration tests share: the example plugin's executable (built once per test run),
//! a log sink that keeps what it receives, requests, and a bounded wait for a state change.

pub mod process;

use hector_plugins_host::logs::{LogRecord, LogSink};
use hector_plugins_host::proto::hector::{GenerateRequest, Message};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The example plugin's Cargo package (examples/rust-echo-llm).
const EXAMPLE_PACKAGE: &str = "echo-llm-rust";

/// A hang guard for waits on the plugin's state, not a measurement: a healthy run needs a tiny
/// fraction of it, even on a loaded machine.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// The executable of examples/rust-echo-llm, built by cargo on first use. A build failure fails
/// every test that needs the plugin (never a skip): these tests exist to run it.
pub fn example_plugin() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build_example_plugin) {
        Ok(path) => path,
        Err(e) => panic!("cannot build the example plugin {EXAMPLE_PACKAGE}: {e}"),
    }
}

/// `cargo build -p echo-llm-rust` with JSON messages, which name the executable wherever the
/// target directory and profile put it.
fn build_example_plugin() -> Result<PathBuf, String> {
    // Cargo sets CARGO for the tests it runs; the compile-time value covers a test binary run by hand.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(&cargo)
        .args(["build", "--quiet", "--message-format=json-render-diagnostics", "-p", EXAMPLE_PACKAGE])
        .current_dir(&workspace)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("cargo build failed ({}):\n{stderr}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == EXAMPLE_PACKAGE)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo reported no executable named {EXAMPLE_PACKAGE}\n{stderr}"))
}

/// One user message: the echo plugin answers `Echo: <text>`.
pub fn user(text: &str) -> GenerateRequest {
    GenerateRequest {
        messages: vec![Message { role: "user".into(), content: text.into(), ..Default::default() }],
        tools: vec![],
    }
}

/// Keeps every record, so tests can check what the host reported about the plugin.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<LogRecord>>);

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    /// Every record so far.
    pub fn records(&self) -> Vec<LogRecord> {
        self.0.lock().unwrap().clone()
    }

    /// True once a record of `plugin` contains `text`.
    fn saw(&self, plugin: &str, text: &str) -> bool {
        self.0.lock().unwrap().iter().any(|r| r.plugin == plugin && r.message.contains(text))
    }

    /// Waits for a record of `plugin` containing `text` (plugin output arrives through a pipe
    /// reader, so it may come after the event that caused it); panics listing what came instead.
    pub async fn wait_for(&self, plugin: &str, text: &str) {
        if !holds_within_limit(|| self.saw(plugin, text)).await {
            let seen: Vec<String> =
                self.0.lock().unwrap().iter().map(|r| format!("[{}] {}", r.plugin, r.message)).collect();
            panic!("no log record of {plugin:?} contains {text:?}; records: {seen:#?}");
        }
    }
}

impl LogSink for Recorder {
    fn log(&self, record: LogRecord) {
        self.0.lock().unwrap().push(record);
    }
}

/// Polls `condition` until it holds; panics naming `what` if it never does.
pub async fn wait_until(what: &str, condition: impl FnMut() -> bool) {
    if !holds_within_limit(condition).await {
        panic!("gave up waiting: {what}");
    }
}

/// Polls `condition` until it holds (true) or [`WAIT_LIMIT`] passes (false).
async fn holds_within_limit(mut condition: impl FnMut() -> bool) -> bool {
    let waiting = async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(WAIT_LIMIT, waiting).await.is_ok()
}
