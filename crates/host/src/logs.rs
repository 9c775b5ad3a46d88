//! Plugin output → log records (docs/protocol.md §5).
//!
//! Plugins log on stderr (and, for go-plugin, also through the `GRPCStdio` stream). Each line
//! becomes a [`LogRecord`]: hclog JSON lines keep their level and fields, `[LEVEL]` prefixes set
//! the level, and a Go panic turns the untagged lines that follow into errors.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Lines longer than this are split into several records, never dropped.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

pub use hector_plugins_protocol::log_level::Level;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stderr,
    /// stdout after the handshake line.
    Stdout,
    /// go-plugin's `GRPCStdio` stream (stdout or stderr of a Go plugin that redirected them).
    GrpcStdio,
    /// The host itself, about the plugin (lifecycle events, crash reports).
    Host,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Stderr => "stderr",
            Source::Stdout => "stdout",
            Source::GrpcStdio => "grpc_stdio",
            Source::Host => "host",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub plugin: String,
    pub level: Level,
    pub message: String,
    /// Extra key/values of a structured (hclog JSON) line.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The plugin's own timestamp, when it gave one.
    pub timestamp: Option<String>,
    pub source: Source,
}

impl LogRecord {
    /// A record whose level and message the host chose: no fields, no timestamp of the plugin.
    pub fn plain(plugin: String, level: Level, message: String, source: Source) -> Self {
        LogRecord { plugin, level, message, fields: Default::default(), timestamp: None, source }
    }
}

/// Receives every plugin log record. The Python layer forwards them to `logging`.
pub trait LogSink: Send + Sync {
    fn log(&self, record: LogRecord);
}

/// Turns lines into records (docs/protocol.md §5.1). A line that says its level
/// (hclog JSON, `[LEVEL]`, `[<time> LEVEL target]`, Python's `LEVEL:logger:`, logfmt `level=`)
/// keeps it. A crash report (`panic: `, `fatal error: `, a Rust `panicked at`, a Python
/// `Traceback`) is an error, and so is every untagged line after it. Any other untagged line is
/// a warning: a plugin that writes plain text on stderr is usually saying something is wrong,
/// and it must be visible under default logging.
#[derive(Debug, Default)]
pub struct LineClassifier {
    in_crash_report: bool,
}

impl LineClassifier {
    pub fn classify(
        &mut self,
        line: &str,
    ) -> (Level, String, serde_json::Map<String, serde_json::Value>, Option<String>) {
        if let Some((level, message, fields, timestamp)) = parse_structured(line) {
            self.in_crash_report = false;
            return (level, message, fields, Some(timestamp));
        }
        if let Some((level, rest)) = parse_level_prefix(line) {
            self.in_crash_report = false;
            return (level, rest.to_string(), Default::default(), None);
        }
        if starts_crash_report(line) {
            self.in_crash_report = true;
        }
        let level = if self.in_crash_report { Level::Error } else { Level::Warn };
        (level, line.to_string(), Default::default(), None)
    }
}

/// Classifies the lines of one plugin and source and hands them to the sink as records; the
/// classifier's state (inside a crash report or not) carries over from line to line.
pub struct LineLogger {
    plugin: String,
    sink: Arc<dyn LogSink>,
    source: Source,
    classifier: LineClassifier,
}

impl LineLogger {
    pub fn new(plugin: String, sink: Arc<dyn LogSink>, source: Source) -> Self {
        LineLogger { plugin, sink, source, classifier: LineClassifier::default() }
    }

    pub fn log(&mut self, line: &str) {
        let (level, message, fields, timestamp) = self.classifier.classify(line);
        let (plugin, source) = (self.plugin.clone(), self.source);
        self.sink.log(LogRecord { plugin, level, message, fields, timestamp, source });
    }
}

/// The first line of a Go panic or fatal error, a Rust panic, or a Python traceback.
fn starts_crash_report(line: &str) -> bool {
    line.starts_with("panic: ")
        || line.starts_with("fatal error: ")
        || line.starts_with("Traceback (most recent call last):")
        || (line.starts_with("thread '") && line.contains("' panicked at"))
}

/// An hclog JSON line: an object with `@message`, `@level` and `@timestamp`.
fn parse_structured(line: &str) -> Option<(Level, String, serde_json::Map<String, serde_json::Value>, String)> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let serde_json::Value::Object(mut object) = serde_json::from_str(trimmed).ok()? else {
        return None;
    };
    let timestamp = object.get("@timestamp")?.as_str()?.to_string();
    if !has_microsecond_layout(&timestamp) {
        return None;
    }
    let level = Level::from_name(object.get("@level")?.as_str()?)?;
    let message = object.get("@message")?.as_str()?.to_string();
    for key in ["@message", "@level", "@timestamp"] {
        object.remove(key);
    }
    Some((level, message, object, timestamp))
}

/// hclog's layout `2006-01-02T15:04:05.000000Z07:00`: exactly six fractional digits.
fn has_microsecond_layout(timestamp: &str) -> bool {
    let bytes = timestamp.as_bytes();
    if bytes.len() < 27 || bytes[10] != b'T' || bytes[19] != b'.' {
        return false;
    }
    let fraction = &bytes[20..];
    let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
    digits == 6 && matches!(fraction.get(6), Some(b'Z' | b'+' | b'-'))
}

/// A level the line states in one of the usual plain-text layouts; returns it and the rest.
fn parse_level_prefix(line: &str) -> Option<(Level, &str)> {
    // `[WARN] text` (go-plugin, hclog's plain format) or `[2026-11-29T10:00:00Z INFO  target] text`
    // (Rust's env_logger): a level word among the bracket's first words.
    if let Some(rest) = line.strip_prefix('[') {
        let end = rest.find(']')?;
        let level = rest[..end].split_whitespace().take(2).find_map(Level::from_name)?;
        return Some((level, rest[end + 1..].trim_start()));
    }
    // Python logging's default `WARNING:logger:text`.
    if let Some((word, rest)) = line.split_once(':') {
        if word.len() <= 8 && word.bytes().all(|b| b.is_ascii_uppercase()) {
            if let Some(level) = Level::from_name(word).or_else(|| (word == "CRITICAL").then_some(Level::Error)) {
                return Some((level, rest));
            }
        }
    }
    // logfmt (Go's slog text handler, logrus): `time=... level=INFO msg=...`.
    let level = line.split_whitespace().find_map(|pair| pair.strip_prefix("level="))?;
    Some((Level::from_name(level.trim_matches('"'))?, line))
}

/// Splits a byte stream into lines: `\n` (and a trailing `\r`) ends a line, and a line longer
/// than `max` bytes is emitted in pieces. Invalid UTF-8 is replaced, never dropped.
#[derive(Debug)]
pub struct LineSplitter {
    pending: Vec<u8>,
    max: usize,
}

impl LineSplitter {
    pub fn new(max: usize) -> Self {
        LineSplitter { pending: Vec::new(), max }
    }

    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<String>) {
        while !data.is_empty() {
            match data.iter().position(|b| *b == b'\n') {
                Some(newline) => {
                    self.pending.extend_from_slice(&data[..newline]);
                    self.flush_pieces(out);
                    out.push(take_line(&mut self.pending));
                    data = &data[newline + 1..];
                }
                None => {
                    self.pending.extend_from_slice(data);
                    self.flush_pieces(out);
                    data = &[];
                }
            }
        }
    }

    /// Like `push`, handing each complete line to `on_line` as it is found.
    pub fn feed(&mut self, data: &[u8], mut on_line: impl FnMut(String)) {
        let mut lines = Vec::new();
        self.push(data, &mut lines);
        lines.into_iter().for_each(&mut on_line);
    }

    /// The unterminated tail, if any, when the stream ends.
    pub fn finish(&mut self, out: &mut Vec<String>) {
        if !self.pending.is_empty() {
            out.push(take_line(&mut self.pending));
        }
    }

    fn flush_pieces(&mut self, out: &mut Vec<String>) {
        while self.pending.len() > self.max {
            let rest = self.pending.split_off(self.max);
            let piece = std::mem::replace(&mut self.pending, rest);
            out.push(String::from_utf8_lossy(&piece).into_owned());
        }
    }
}

fn take_line(pending: &mut Vec<u8>) -> String {
    if pending.last() == Some(&b'\r') {
        pending.pop();
    }
    let line = String::from_utf8_lossy(pending).into_owned();
    pending.clear();
    line
}

/// The last lines a plugin wrote on stderr, quoted in start and crash errors.
#[derive(Debug, Clone, Default)]
pub struct StderrTail {
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl StderrTail {
    pub const CAPACITY: usize = 20;

    pub fn push(&self, line: &str) {
        let mut lines = self.lines.lock().unwrap();
        if lines.len() == Self::CAPACITY {
            lines.pop_front();
        }
        // A quoted line is for a person: keep it short.
        lines.push_back(line.chars().take(1000).collect());
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_lines_keep_level_and_fields() {
        let mut c = LineClassifier::default();
        let (level, message, fields, ts) =
            c.classify(r#"{"@level":"info","@message":"ready","@timestamp":"2026-11-22T01:02:03.123456Z","port":4}"#);
        assert_eq!(level, Level::Info);
        assert_eq!(message, "ready");
        assert_eq!(fields["port"], 4);
        assert_eq!(ts.as_deref(), Some("2026-11-22T01:02:03.123456Z"));
        // Wrong timestamp layout: not structured, so the whole line is the message.
        let (level, message, ..) =
            c.classify(r#"{"@level":"info","@message":"x","@timestamp":"2026-11-22T01:02:03.12Z"}"#);
        assert_eq!(level, Level::Warn);
        assert!(message.starts_with('{'));
    }

    #[test]
    fn stated_levels_are_kept() {
        let mut c = LineClassifier::default();
        assert_eq!(c.classify("[WARN] disk low"), (Level::Warn, "disk low".into(), Default::default(), None));
        assert_eq!(c.classify("[ERROR] boom").0, Level::Error);
        assert_eq!(c.classify("[2026-11-29T10:00:00Z INFO  my_plugin] ready").1, "ready");
        assert_eq!(c.classify("[2026-11-29T10:00:00Z DEBUG my_plugin] x").0, Level::Debug);
        assert_eq!(c.classify("INFO:root:serving").0, Level::Info);
        assert_eq!(c.classify("CRITICAL:root:gone").0, Level::Error);
        assert_eq!(c.classify("time=2026-11-29T10:00:00Z level=DEBUG msg=hi").0, Level::Debug);
        // Not a level: brackets or a colon with something else.
        assert_eq!(c.classify("[1/3] loading").0, Level::Warn);
        assert_eq!(c.classify("NOTE: plain").0, Level::Warn);
    }

    #[test]
    fn untagged_lines_are_warnings_and_crash_reports_errors() {
        let mut c = LineClassifier::default();
        assert_eq!(c.classify("plain").0, Level::Warn);
        assert_eq!(c.classify("panic: oh no").0, Level::Error);
        assert_eq!(c.classify("goroutine 1 [running]:").0, Level::Error);
        assert_eq!(c.classify("[INFO] recovered").0, Level::Info);
        assert_eq!(c.classify("after").0, Level::Warn);
        assert_eq!(c.classify("fatal error: all goroutines are asleep").0, Level::Error);
        let mut c = LineClassifier::default();
        assert_eq!(c.classify("Traceback (most recent call last):").0, Level::Error);
        assert_eq!(c.classify("  File \"plugin.py\", line 3, in <module>").0, Level::Error);
        assert_eq!(c.classify("ZeroDivisionError: division by zero").0, Level::Error);
        let mut c = LineClassifier::default();
        assert_eq!(c.classify("thread 'main' panicked at src/main.rs:3:5:").0, Level::Error);
        assert_eq!(c.classify("note: run with `RUST_BACKTRACE=1`").0, Level::Error);
    }

    #[test]
    fn splitter_handles_crlf_partial_and_long_lines() {
        let mut s = LineSplitter::new(4);
        let mut out = Vec::new();
        s.push(b"ab\r\ncd", &mut out);
        assert_eq!(out, ["ab"]);
        s.push(b"e\nabcdefghij\n", &mut out);
        assert_eq!(out, ["ab", "cde", "abcd", "efgh", "ij"]);
        s.push(b"tail", &mut out);
        s.finish(&mut out);
        assert_eq!(out.last().unwrap(), "tail");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let tail = StderrTail::default();
        for i in 0..30 {
            tail.push(&format!("line {i}"));
        }
        let lines = tail.lines();
        assert_eq!(lines.len(), StderrTail::CAPACITY);
        assert_eq!(lines.last().unwrap(), "line 29");
    }
}
