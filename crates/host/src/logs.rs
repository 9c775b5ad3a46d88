//! Plugin output → log records (docs/protocol.md §5).
//!
//! Plugins log on stderr (and, for go-plugin, also through the `GRPCStdio` stream). Each line
//! becomes a [`LogRecord`]: hclog JSON lines keep their level and fields, `[LEVEL]` prefixes set
//! the level, and a Go panic turns the untagged lines that follow into errors.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

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
    /// The host itself, about the plugin: lifecycle events, crash reports, lines dropped over
    /// its log budget.
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

    /// Whether a record of `plugin` at `level` would be kept: the readers ask before they build
    /// one, so a record nobody would see costs no allocation and no hand-off (docs/protocol.md
    /// §5.2). When unsure, say yes.
    fn enabled(&self, _plugin: &str, _level: Level) -> bool {
        true
    }
}

/// The parts of a classified line: its level, message, structured fields and the plugin's own
/// timestamp. The message borrows from the line where it can.
pub type Classified<'a> = (Level, Cow<'a, str>, serde_json::Map<String, serde_json::Value>, Option<String>);

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
    pub fn classify<'a>(&mut self, line: &'a str) -> Classified<'a> {
        if let Some((level, message, fields, timestamp)) = parse_structured(line) {
            self.in_crash_report = false;
            return (level, Cow::Owned(message), fields, Some(timestamp));
        }
        if let Some((level, rest)) = parse_level_prefix(line) {
            self.in_crash_report = false;
            return (level, Cow::Borrowed(rest), Default::default(), None);
        }
        if starts_crash_report(line) {
            self.in_crash_report = true;
        }
        let level = if self.in_crash_report { Level::Error } else { Level::Warn };
        (level, Cow::Borrowed(line), Default::default(), None)
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

    /// Classifies `line` (the classifier sees every line, for its state) and hands it on as a
    /// record unless the sink would discard its level.
    pub fn log(&mut self, line: &str) {
        let (level, message, fields, timestamp) = self.classifier.classify(line);
        if !self.sink.enabled(&self.plugin, level) {
            return;
        }
        let (plugin, source, message) = (self.plugin.clone(), self.source, message.into_owned());
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
/// than `max` bytes is handed on in pieces. A line that lies within one chunk is handed on
/// where it lies, without a copy; only a line cut by the end of a chunk waits in `pending`.
#[derive(Debug)]
pub struct LineSplitter {
    pending: Vec<u8>,
    max: usize,
}

impl LineSplitter {
    pub fn new(max: usize) -> Self {
        LineSplitter { pending: Vec::new(), max }
    }

    /// Hands each line that `data` completes to `on_line`, as bytes (the readers turn the ones
    /// they keep into text, replacing invalid UTF-8).
    pub fn feed(&mut self, mut data: &[u8], mut on_line: impl FnMut(&[u8])) {
        while let Some(newline) = memchr::memchr(b'\n', data) {
            if self.pending.is_empty() {
                emit_line(&data[..newline], self.max, &mut on_line);
            } else {
                self.pending.extend_from_slice(&data[..newline]);
                emit_line(&self.pending, self.max, &mut on_line);
                self.pending.clear();
            }
            data = &data[newline + 1..];
        }
        self.pending.extend_from_slice(data);
        // An unterminated line is handed on in pieces as it grows, so `pending` stays small.
        while self.pending.len() > self.max {
            let end = piece_end(&self.pending, self.max);
            on_line(&self.pending[..end]);
            self.pending.drain(..end);
        }
    }

    /// The unterminated tail, if any, when the stream ends.
    pub fn finish(&mut self, mut on_line: impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            emit_line(&self.pending, self.max, &mut on_line);
            self.pending.clear();
        }
    }
}

/// One line (without its `\n`): pieces of at most `max` bytes while it is longer (see
/// [`piece_end`]), then the rest without a trailing `\r`.
fn emit_line(mut line: &[u8], max: usize, on_line: &mut impl FnMut(&[u8])) {
    while line.len() > max {
        let end = piece_end(line, max);
        on_line(&line[..end]);
        line = &line[end..];
    }
    on_line(line.strip_suffix(b"\r").unwrap_or(line));
}

/// Where the first piece of an over-long line ends: after `max` bytes, or before the UTF-8
/// character that would straddle that cut, so that splitting never mangles text (docs/protocol.md
/// §5.2: split, never dropped). Bytes that are not UTF-8 are cut anywhere. `line` is longer
/// than `max`.
fn piece_end(line: &[u8], max: usize) -> usize {
    let is_continuation = |byte: u8| byte & 0b1100_0000 == 0b1000_0000;
    // A character is at most 4 bytes, so its first byte is at most 3 before the cut.
    (max.saturating_sub(3).max(1)..=max).rev().find(|&end| !is_continuation(line[end])).unwrap_or(max)
}

/// The last lines a plugin wrote on stderr, quoted in start and crash errors. Every line passes
/// through it, flood or not, so keeping one is a copy into a buffer that is reused.
#[derive(Debug, Clone, Default)]
pub struct StderrTail {
    lines: Arc<Mutex<TailLines>>,
}

/// The lines of a [`StderrTail`], held for a chunk of output at a time.
#[derive(Debug, Default)]
pub struct TailLines {
    lines: VecDeque<Vec<u8>>,
}

impl TailLines {
    pub fn push(&mut self, line: &[u8]) {
        let mut kept = if self.lines.len() == StderrTail::CAPACITY {
            self.lines.pop_front().unwrap_or_default()
        } else {
            Vec::new()
        };
        kept.clear();
        // A quoted line is for a person: its first 1000 characters, which lie in its first 4000 bytes.
        kept.extend_from_slice(&line[..line.len().min(4 * StderrTail::QUOTED_CHARS)]);
        self.lines.push_back(kept);
    }
}

impl StderrTail {
    pub const CAPACITY: usize = 20;
    /// The characters of a line that are quoted.
    const QUOTED_CHARS: usize = 1000;

    pub fn push(&self, line: &str) {
        self.writer().push(line.as_bytes());
    }

    /// The lines, locked for the lines of one chunk of output.
    pub fn writer(&self) -> MutexGuard<'_, TailLines> {
        self.lines.lock().unwrap()
    }

    pub fn lines(&self) -> Vec<String> {
        let tail = self.lines.lock().unwrap();
        tail.lines.iter().map(|line| String::from_utf8_lossy(line).chars().take(Self::QUOTED_CHARS).collect()).collect()
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
        let mut out: Vec<String> = Vec::new();
        let mut collect = |line: &[u8]| out.push(String::from_utf8_lossy(line).into_owned());
        s.feed(b"ab\r\ncd", &mut collect);
        s.feed(b"e\nabcdefghij\n", &mut collect);
        // An unterminated line longer than the limit: its whole pieces go at once.
        s.feed(b"0123456789", &mut collect);
        s.feed(b"\ntail", &mut collect);
        s.finish(&mut collect);
        assert_eq!(out, ["ab", "cde", "abcd", "efgh", "ij", "0123", "4567", "89", "tail"]);
    }

    #[test]
    fn splitter_keeps_a_line_of_exactly_the_limit_whole() {
        let mut s = LineSplitter::new(4);
        let mut out: Vec<Vec<u8>> = Vec::new();
        s.feed(b"abcd", |line| out.push(line.to_vec()));
        assert!(out.is_empty(), "a line of exactly the limit may still end here");
        s.feed(b"\n", |line| out.push(line.to_vec()));
        assert_eq!(out, [b"abcd".to_vec()]);
    }

    #[test]
    fn splitter_cuts_long_lines_between_characters() {
        let mut s = LineSplitter::new(4);
        let mut out: Vec<Vec<u8>> = Vec::new();
        s.feed("aé日🦀b\n".as_bytes(), |line| out.push(line.to_vec()));
        assert_eq!(out, ["aé".as_bytes(), "日".as_bytes(), "🦀".as_bytes(), b"b"]);
        // Not UTF-8: cut after `max` bytes all the same.
        let mut out: Vec<Vec<u8>> = Vec::new();
        s.feed(b"\x80\x80\x80\x80\x80\x80\n", |line| out.push(line.to_vec()));
        assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), [4, 2]);
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
        tail.push(&"é".repeat(3000));
        assert_eq!(tail.lines().last().unwrap().chars().count(), 1000, "a quoted line is cut at 1000 characters");
    }
}
