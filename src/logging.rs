//! Plugin log records → Python `logging` (logger `hector_plugins.plugin.<name>`).
//!
//! tokio tasks never take the GIL: they hand records to one forwarder thread, which delivers them
//! to Python in batches. A record below its logger's level is never built (the sink answers
//! `enabled` from levels Python reported). A plugin that logs faster than Python can keep up
//! loses lines, and the loss itself is logged (docs/protocol.md §5.2).

use crate::errors::IntoPyResult;
use crate::types::to_json_value;
use hector_plugins_host::config;
use hector_plugins_host::log_budget::LogBudget;
use hector_plugins_host::logs::{Level, LogRecord, LogSink, Source};
use pyo3::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

const CAPACITY: usize = 65_536;
/// Bound on the text waiting for Python, whatever the number of records.
const MAX_QUEUED_BYTES: usize = 32 << 20;
const BATCH: usize = 512;
/// The least time between two batches handed to Python: a plugin that logs steadily then costs
/// one GIL round trip per batch of what gathered meanwhile, not one per chunk of its output. A
/// record after a quiet spell goes at once.
const MIN_BATCH_INTERVAL: Duration = Duration::from_millis(10);

/// Set at interpreter exit: from then on nothing is handed to Python.
static PYTHON_EXITING: AtomicBool = AtomicBool::new(false);
/// Held by the forwarder while it is inside Python, so exit can wait for it to leave.
static IN_PYTHON: Mutex<()> = Mutex::new(());

/// Stops all delivery to Python before the interpreter finalizes: a thread that takes the GIL
/// during finalization aborts the process.
pub fn stop_delivery(py: Python<'_>) {
    PYTHON_EXITING.store(true, Ordering::SeqCst);
    py.detach(|| drop(IN_PYTHON.lock()));
}

pub struct PythonLogSink {
    /// Each record travels with its size, counted once when it is queued.
    sender: SyncSender<(LogRecord, usize)>,
    dropped: AtomicU64,
    queued_bytes: AtomicUsize,
    /// Each plugin logger's effective level as Python last reported it (see [`CachedLevel`]).
    levels: RwLock<HashMap<String, CachedLevel>>,
}

/// A logger's effective level, trusted for [`LEVEL_CACHE_TTL`] and while logging's levels are
/// unchanged since it was read ([`LEVELS_GENERATION`]).
struct CachedLevel {
    threshold: i64,
    checked: Instant,
    generation: u64,
}

impl CachedLevel {
    fn is_fresh(&self) -> bool {
        self.checked.elapsed() < LEVEL_CACHE_TTL && self.generation == LEVELS_GENERATION.load(Ordering::SeqCst)
    }
}

fn record_bytes(record: &LogRecord) -> usize {
    let fields: usize = record.fields.iter().map(|(key, value)| key.len() + value.to_string().len()).sum();
    record.message.len() + record.plugin.len() + fields
}

impl LogSink for PythonLogSink {
    /// A plugin that logs a debug line per call would otherwise cost a record and a hand-off
    /// per call with debug logging off. Unknown or stale: yes, and Python answers anew.
    fn enabled(&self, plugin: &str, level: Level) -> bool {
        match self.levels.read().unwrap().get(plugin) {
            Some(cached) if cached.is_fresh() => python_level(level) >= cached.threshold,
            _ => true,
        }
    }

    fn log(&self, record: LogRecord) {
        let size = record_bytes(&record);
        if self.queued_bytes.fetch_add(size, Ordering::Relaxed) + size > MAX_QUEUED_BYTES {
            self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.sender.try_send((record, size)) {
            self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `load()`'s `log_budget` keyword: a dict as in hector.yaml, or "unlimited"; `None` keeps
/// `current` (docs/protocol.md §5.2). A wrong value is a `ConfigError` naming the keyword.
pub fn log_budget_arg(
    py: Python<'_>,
    value: Option<&Bound<'_, PyAny>>,
    current: Option<LogBudget>,
) -> PyResult<Option<LogBudget>> {
    match value {
        Some(value) => config::log_budget_setting(&to_json_value(value)?).py_err(py),
        None => Ok(current),
    }
}

/// The one sink every manager shares.
pub fn sink() -> Arc<PythonLogSink> {
    static SINK: OnceLock<Arc<PythonLogSink>> = OnceLock::new();
    SINK.get_or_init(|| {
        let (sender, receiver) = sync_channel(CAPACITY);
        let sink = Arc::new(PythonLogSink {
            sender,
            dropped: AtomicU64::new(0),
            queued_bytes: AtomicUsize::new(0),
            levels: RwLock::new(HashMap::new()),
        });
        let for_thread = sink.clone();
        std::thread::Builder::new()
            .name("hector-plugins-logs".into())
            .spawn(move || forward(receiver, &for_thread))
            .expect("cannot start the log forwarder thread");
        sink
    })
    .clone()
}

/// How long a logger's effective level is trusted before Python is asked again.
const LEVEL_CACHE_TTL: Duration = Duration::from_secs(1);

/// Bumped by Python whenever a logger's level may have changed (`hector_plugins._logging` hooks
/// logging's cache clearing, which `setLevel` and `logging.disable` call): the cached levels
/// are then stale at once, so a record is never dropped for a level that no longer holds.
static LEVELS_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Called by `hector_plugins._logging` when logging's levels change.
#[pyfunction]
pub fn _log_levels_changed() {
    LEVELS_GENERATION.fetch_add(1, Ordering::SeqCst);
}

fn python_level(level: Level) -> i64 {
    match level {
        Level::Trace => 5,
        Level::Debug => 10,
        Level::Info => 20,
        Level::Warn => 30,
        Level::Error => 40,
    }
}

fn forward(receiver: Receiver<(LogRecord, usize)>, sink: &PythonLogSink) {
    let mut last_batch: Option<Instant> = None;
    while let Ok(first) = receiver.recv() {
        if let Some(wait) = last_batch.and_then(|at| MIN_BATCH_INTERVAL.checked_sub(at.elapsed())) {
            std::thread::sleep(wait);
        }
        last_batch = Some(Instant::now());
        let received: Vec<(LogRecord, usize)> =
            std::iter::once(first).chain(receiver.try_iter().take(BATCH - 1)).collect();
        let size: usize = received.iter().map(|(_, size)| size).sum();
        sink.queued_bytes.fetch_sub(size, Ordering::Relaxed);
        // What the sink let through before a level was raised, Python itself still filters.
        let mut batch: Vec<LogRecord> = received.into_iter().map(|(record, _)| record).collect();
        let dropped = sink.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            batch.push(LogRecord {
                plugin: "hector_plugins".into(),
                level: Level::Warn,
                message: format!(
                    "{dropped} plugin log lines were dropped: plugins log faster than Python handles them"
                ),
                fields: Default::default(),
                timestamp: None,
                source: Source::Stderr,
            });
        }
        if batch.is_empty() {
            continue;
        }
        let _inside = IN_PYTHON.lock();
        if PYTHON_EXITING.load(Ordering::SeqCst) {
            continue;
        }
        // Read before Python is asked: a change made while it answers makes the answer stale.
        let generation = LEVELS_GENERATION.load(Ordering::SeqCst);
        Python::attach(|py| match emit(py, batch) {
            Ok(effective) => {
                let checked = Instant::now();
                let mut levels = sink.levels.write().unwrap();
                levels.extend(
                    effective
                        .into_iter()
                        .map(|(plugin, threshold)| (plugin, CachedLevel { threshold, checked, generation })),
                );
            }
            Err(error) => error.print(py),
        });
    }
}

/// Hands a batch to `hector_plugins._logging.emit`, which returns each plugin logger's
/// effective level.
fn emit(py: Python<'_>, batch: Vec<LogRecord>) -> PyResult<HashMap<String, i64>> {
    let records: Vec<_> = batch
        .into_iter()
        .map(|r| {
            let fields = if r.fields.is_empty() { None } else { Some(serde_json::Value::Object(r.fields).to_string()) };
            (r.plugin, r.level.as_str(), r.message, fields, r.timestamp, r.source.as_str())
        })
        .collect();
    py.import("hector_plugins._logging")?.getattr("emit")?.call1((records,))?.extract()
}
