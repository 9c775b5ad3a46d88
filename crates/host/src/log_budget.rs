//! A plugin's log budget (docs/protocol.md §5.2): a token bucket, in lines and in bytes, that
//! every line the plugin writes (stderr, stdout after the handshake, go-plugin's `GRPCStdio`)
//! passes before it is classified or becomes a record. A line over budget is dropped and
//! counted, which costs next to nothing; while lines are dropped, one record every few seconds
//! says how many. The host's cost of a flood is then bounded by the budget, not by the flood.

use crate::logs::{Level, LogRecord, LogSink, Source};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How much of one plugin's output may become log records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogBudget {
    pub lines_per_second: u64,
    pub bytes_per_second: u64,
    /// The bucket holds this many seconds of each rate: after a quiet spell, a plugin may write
    /// that much at once (a start-up banner, a stack dump) before lines are dropped.
    pub burst_seconds: f64,
}

impl LogBudget {
    /// Far above what a plugin logs in normal use, far below what a flood costs: Python's
    /// `logging` takes some 15-30 µs a record, so 2,000 records/s keep the host's share of a
    /// flood to a few percent of a core (docs/protocol.md §5.2).
    pub const DEFAULT: LogBudget =
        LogBudget { lines_per_second: 2_000, bytes_per_second: 4 << 20, burst_seconds: 10.0 };
}

impl LogBudget {
    fn line_capacity(&self) -> f64 {
        (self.lines_per_second as f64 * self.burst_seconds).max(1.0)
    }

    fn byte_capacity(&self) -> f64 {
        (self.bytes_per_second as f64 * self.burst_seconds).max(1.0)
    }
}

impl Default for LogBudget {
    fn default() -> Self {
        LogBudget::DEFAULT
    }
}

/// How often, at most, dropped lines are reported while a plugin exceeds its budget.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// The budget of one running plugin, shared by the readers of its outputs.
pub struct LogGate {
    plugin: String,
    sink: Arc<dyn LogSink>,
    /// `None`: unlimited, every line passes.
    budget: Option<LogBudget>,
    bucket: Mutex<Bucket>,
    dropped_lines: AtomicU64,
    report_interval: Duration,
}

struct Bucket {
    lines: f64,
    bytes: f64,
    refilled: Instant,
    /// Drops not reported yet.
    unreported: Option<Unreported>,
}

struct Unreported {
    lines: u64,
    bytes: u64,
    since: Instant,
}

impl LogGate {
    pub fn new(plugin: impl Into<String>, sink: Arc<dyn LogSink>, budget: Option<LogBudget>) -> Self {
        let full = budget.map_or((0.0, 0.0), |b| (b.line_capacity(), b.byte_capacity()));
        LogGate {
            plugin: plugin.into(),
            sink,
            budget,
            bucket: Mutex::new(Bucket { lines: full.0, bytes: full.1, refilled: Instant::now(), unreported: None }),
            dropped_lines: AtomicU64::new(0),
            report_interval: REPORT_INTERVAL,
        }
    }

    /// The same gate reporting at `interval` (tests).
    pub fn with_report_interval(mut self, interval: Duration) -> Self {
        self.report_interval = interval;
        self
    }

    /// The plugin whose output this gate budgets.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The sink its admitted lines go to.
    pub fn sink(&self) -> &Arc<dyn LogSink> {
        &self.sink
    }

    /// Lines dropped since the plugin started.
    pub fn dropped_lines(&self) -> u64 {
        self.dropped_lines.load(Ordering::Relaxed)
    }

    /// Admits or drops the lines of one chunk of output, read at once: the bucket is refilled for
    /// the time of the read, and once a line of the chunk is dropped so are the rest of it
    /// without another look at the bucket (nothing refills it within a chunk).
    pub fn admission(&self) -> Admission<'_> {
        Admission { gate: self, now: Instant::now(), refusing: false, lines: 0, bytes: 0 }
    }

    /// When the drops not yet reported are due to be (`None`: there are none), so that a reader
    /// waiting for output can report them on time even if the plugin has gone quiet.
    pub fn report_due(&self) -> Option<Instant> {
        let bucket = self.bucket.lock().unwrap();
        bucket.unreported.as_ref().map(|u| u.since + self.report_interval)
    }

    /// Reports the drops not yet reported if they are due.
    pub fn report_if_due(&self) {
        self.report(false);
    }

    /// Reports the drops not yet reported, due or not: an output ended.
    pub fn flush(&self) {
        self.report(true);
    }

    fn report(&self, even_if_not_due: bool) {
        let interval = self.report_interval;
        let taken =
            self.bucket.lock().unwrap().unreported.take_if(|u| even_if_not_due || u.since.elapsed() >= interval);
        let Some(unreported) = taken else { return };
        let budget = self.budget.unwrap_or_default();
        let message = format!(
            "plugin {}: dropped {} log lines ({} bytes) in the last {:.1}s: its output exceeds the log budget of \
             {} lines/s and {} bytes/s (burst {}s); see log_budget in docs/protocol.md §5.2",
            self.plugin,
            unreported.lines,
            unreported.bytes,
            unreported.since.elapsed().as_secs_f64(),
            budget.lines_per_second,
            budget.bytes_per_second,
            budget.burst_seconds,
        );
        self.sink.log(LogRecord::plain(self.plugin.clone(), Level::Warn, message, Source::Host));
    }

    /// Takes one line of `len` bytes from the bucket, if it has it, refilled up to `now`.
    fn take(&self, len: usize, now: Instant) -> bool {
        let Some(budget) = self.budget else { return true };
        let mut bucket = self.bucket.lock().unwrap();
        if now > bucket.refilled {
            let elapsed = (now - bucket.refilled).as_secs_f64();
            bucket.lines = (bucket.lines + elapsed * budget.lines_per_second as f64).min(budget.line_capacity());
            bucket.bytes = (bucket.bytes + elapsed * budget.bytes_per_second as f64).min(budget.byte_capacity());
            bucket.refilled = now;
        }
        // Bytes may go into debt: a line longer than the bucket still passes when it is full.
        if bucket.lines >= 1.0 && bucket.bytes > 0.0 {
            bucket.lines -= 1.0;
            bucket.bytes -= len as f64;
            true
        } else {
            false
        }
    }

    /// Counts the drops of one chunk, and reports them if due.
    fn count_dropped(&self, lines: u64, bytes: u64, now: Instant) {
        self.dropped_lines.fetch_add(lines, Ordering::Relaxed);
        let mut bucket = self.bucket.lock().unwrap();
        let unreported = bucket.unreported.get_or_insert(Unreported { lines: 0, bytes: 0, since: now });
        unreported.lines += lines;
        unreported.bytes += bytes;
        let due = unreported.since + self.report_interval <= now;
        drop(bucket);
        if due {
            self.report_if_due();
        }
    }
}

/// The lines of one chunk of output, admitted or dropped (see [`LogGate::admission`]); the
/// drops are counted when it is dropped.
pub struct Admission<'a> {
    gate: &'a LogGate,
    now: Instant,
    /// A line of this chunk was dropped: so are the rest.
    refusing: bool,
    lines: u64,
    bytes: u64,
}

impl Admission<'_> {
    /// Whether a line of `len` bytes becomes a record; a line that does not is counted.
    pub fn admit(&mut self, len: usize) -> bool {
        if !self.refusing && self.gate.take(len, self.now) {
            return true;
        }
        self.refusing = true;
        self.lines += 1;
        self.bytes += len as u64;
        false
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if self.lines > 0 {
            self.gate.count_dropped(self.lines, self.bytes, self.now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<LogRecord>>);

    impl LogSink for Recorder {
        fn log(&self, record: LogRecord) {
            self.0.lock().unwrap().push(record);
        }
    }

    fn gate(budget: Option<LogBudget>) -> (LogGate, Arc<Recorder>) {
        let recorder = Arc::new(Recorder::default());
        (LogGate::new("p", recorder.clone(), budget), recorder)
    }

    const SMALL: LogBudget = LogBudget { lines_per_second: 10, bytes_per_second: 1000, burst_seconds: 1.0 };

    #[test]
    fn lines_over_the_burst_are_dropped_and_counted() {
        let (gate, recorder) = gate(Some(SMALL));
        let mut admission = gate.admission();
        let admitted = (0..25).filter(|_| admission.admit(10)).count();
        drop(admission);
        assert_eq!(admitted, 10, "the bucket holds one second of 10 lines/s");
        assert_eq!(gate.dropped_lines(), 15);
        assert!(recorder.0.lock().unwrap().is_empty(), "reported once the interval has passed, not at once");
        gate.flush();
        let records = recorder.0.lock().unwrap();
        assert_eq!(records.len(), 1);
        assert!(
            records[0].message.starts_with("plugin p: dropped 15 log lines (150 bytes) in the last"),
            "{records:?}"
        );
        assert_eq!((records[0].level, records[0].source), (Level::Warn, Source::Host));
    }

    #[test]
    fn bytes_are_budgeted_too_and_a_long_line_still_passes_a_full_bucket() {
        let (gate, _) = gate(Some(SMALL));
        let mut admission = gate.admission();
        assert!(admission.admit(5000), "a full bucket lets one line longer than itself through");
        assert!(!admission.admit(1), "then the bytes are in debt");
    }

    #[test]
    fn the_bucket_refills_with_time() {
        let (gate, _) = gate(Some(SMALL));
        assert_eq!((0..20).filter(|_| gate.admission().admit(1)).count(), 10);
        let later = Instant::now() + Duration::from_millis(500);
        assert!(gate.take(1, later), "half a second later, five lines more");
        assert_eq!((0..10).filter(|_| gate.take(1, later)).count(), 4);
    }

    #[test]
    fn drops_are_reported_once_per_interval_while_they_last() {
        let recorder = Arc::new(Recorder::default());
        // One line a second: the sleep below refills no whole line, even on a loaded machine.
        let slow = LogBudget { lines_per_second: 1, bytes_per_second: 1000, burst_seconds: 10.0 };
        let gate = LogGate::new("p", recorder.clone(), Some(slow)).with_report_interval(Duration::from_millis(20));
        let mut admission = gate.admission();
        (0..30).for_each(|_| {
            admission.admit(1);
        });
        drop(admission);
        assert!(gate.report_due().is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert!(!gate.admission().admit(1), "still dropping: the count of the interval is reported");
        assert_eq!(recorder.0.lock().unwrap().len(), 1);
        assert!(recorder.0.lock().unwrap()[0].message.contains("dropped 21 log lines"));
        assert!(gate.report_due().is_none(), "nothing left to report");
        assert_eq!(gate.dropped_lines(), 21);
    }

    #[test]
    fn unlimited_admits_everything() {
        let (gate, recorder) = gate(None);
        let mut admission = gate.admission();
        assert!((0..100_000).all(|_| admission.admit(100)));
        drop(admission);
        gate.flush();
        assert_eq!(gate.dropped_lines(), 0);
        assert!(recorder.0.lock().unwrap().is_empty());
    }
}
