//! Plugin output → log records (PROTOCOL.md §3).
//!
//! Plugins log on stderr (and, for go-plugin, also through the `GRPCStdio` stream). Each line
//! becomes a [`LogRecord`]: hclog JSON lines keep their level and fields, `[LEVEL]` prefixes set
//! the level, and a Go panic turns the untagged lines that follow into errors.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Lines longer than this are split into several records, never dropped.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn from_name(name: &str) -> Option<Level> {
        Some(match name.to_ascii_lowercase().as_str() {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" | "fatal" | "panic" => Level::Error,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stderr,
    /// stdout after the handshake line.
    Stdout,
    /// go-plugin's `GRPCStdio` stream (stdout or stderr of a Go plugin that redirected them).
    GrpcStdio,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Stderr => "stderr",
            Source::Stdout => "stdout",
            Source::GrpcStdio => "grpc_stdio",
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

/// Receives every plugin log record. The Python layer forwards them to `logging`.
pub trait LogSink: Send + Sync {
    fn log(&self, record: LogRecord);
}

/// Turns lines into records. Stateful only for Go panics: after `panic: ` or `fatal error: `,
/// untagged lines are part of the crash report and are errors.
#[derive(Debug, Default)]
pub struct LineClassifier {
    in_panic: bool,
}

impl LineClassifier {
    pub fn classify(
        &mut self,
        line: &str,
    ) -> (Level, String, serde_json::Map<String, serde_json::Value>, Option<String>) {
        if let Some((level, message, fields, timestamp)) = parse_structured(line) {
            self.in_panic = false;
            return (level, message, fields, Some(timestamp));
        }
        if let Some((level, rest)) = parse_bracket_prefix(line) {
            self.in_panic = false;
            return (level, rest.to_string(), Default::default(), None);
        }
        if line.starts_with("panic: ") || line.starts_with("fatal error: ") {
            self.in_panic = true;
        }
        let level = if self.in_panic { Level::Error } else { Level::Debug };
        (level, line.to_string(), Default::default(), None)
    }
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

fn parse_bracket_prefix(line: &str) -> Option<(Level, &str)> {
    let rest = line.strip_prefix('[')?;
    let end = rest.find(']')?;
    let level = Level::from_name(&rest[..end])?;
    Some((level, rest[end + 1..].trim_start()))
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
        assert_eq!(level, Level::Debug);
        assert!(message.starts_with('{'));
    }

    #[test]
    fn bracket_prefixes_and_panics() {
        let mut c = LineClassifier::default();
        assert_eq!(c.classify("[WARN] disk low").0, Level::Warn);
        assert_eq!(c.classify("[WARN] disk low").1, "disk low");
        assert_eq!(c.classify("[ERROR] boom").0, Level::Error);
        assert_eq!(c.classify("plain").0, Level::Debug);
        assert_eq!(c.classify("panic: oh no").0, Level::Error);
        assert_eq!(c.classify("goroutine 1 [running]:").0, Level::Error);
        assert_eq!(c.classify("[INFO] recovered").0, Level::Info);
        assert_eq!(c.classify("after").0, Level::Debug);
        assert_eq!(c.classify("fatal error: all goroutines are asleep").0, Level::Error);
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
