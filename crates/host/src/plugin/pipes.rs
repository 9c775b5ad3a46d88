//! The plugin's stdout and stderr pipes, read for the life of its process (a full pipe would
//! block it): the first stdout line is the handshake (docs/protocol.md §2.3), the rest of stdout
//! is logged at DEBUG, stderr is classified into records and its last lines kept for errors
//! (§5.1). Both pass the plugin's log budget first (§5.2), so a flood is mostly dropped unread.

use crate::log_budget::{Admission, LogGate};
use crate::logs::{Level, LineLogger, LineSplitter, LogRecord, Source, StderrTail, TailLines, MAX_LINE_BYTES};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{oneshot, watch};

/// Sends the first stdout line (`None`: stdout closed before one), then logs the rest.
pub(super) async fn read_stdout(
    stdout: impl AsyncRead + Unpin,
    gate: Arc<LogGate>,
    first_line: oneshot::Sender<Option<String>>,
) {
    let mut lines = StdoutLines { first_line: Some(first_line), gate: &gate };
    let mut splitter = LineSplitter::new(MAX_LINE_BYTES);
    read_chunks(stdout, &gate, |chunk| {
        let mut admission = gate.admission();
        splitter.feed(chunk, |line| lines.line(line, &mut admission));
    })
    .await;
    let mut admission = gate.admission();
    splitter.finish(|line| lines.line(line, &mut admission));
    drop(admission);
    gate.flush();
    if let Some(sender) = lines.first_line {
        let _ = sender.send(None);
    }
}

struct StdoutLines<'a> {
    first_line: Option<oneshot::Sender<Option<String>>>,
    gate: &'a LogGate,
}

impl StdoutLines<'_> {
    fn line(&mut self, line: &[u8], admission: &mut Admission<'_>) {
        let (plugin, sink) = (self.gate.plugin(), self.gate.sink());
        match self.first_line.take() {
            // The handshake line is the protocol's, not a log line: it passes no budget.
            Some(sender) => drop(sender.send(Some(String::from_utf8_lossy(line).into_owned()))),
            None if admission.admit(line.len()) && sink.enabled(plugin, Level::Debug) => {
                let text = String::from_utf8_lossy(line).into_owned();
                sink.log(LogRecord::plain(plugin.to_string(), Level::Debug, text, Source::Stdout));
            }
            None => {}
        }
    }
}

/// Logs every stderr line within the budget and keeps the last ones in `tail`; `done` says it
/// was read to the end.
pub(super) async fn read_stderr(
    stderr: impl AsyncRead + Unpin,
    gate: Arc<LogGate>,
    tail: StderrTail,
    done: watch::Sender<bool>,
) {
    let mut logger = LineLogger::new(gate.plugin().to_string(), gate.sink().clone(), Source::Stderr);
    let mut splitter = LineSplitter::new(MAX_LINE_BYTES);
    read_chunks(stderr, &gate, |chunk| {
        let (mut tail, mut admission) = (tail.writer(), gate.admission());
        splitter.feed(chunk, |line| stderr_line(line, &mut tail, &mut admission, &mut logger));
    })
    .await;
    let (mut tail_lines, mut admission) = (tail.writer(), gate.admission());
    splitter.finish(|line| stderr_line(line, &mut tail_lines, &mut admission, &mut logger));
    drop((tail_lines, admission));
    gate.flush();
    let _ = done.send(true);
}

/// The tail sees every line, dropped or not: a crash is quoted in full even in a flood.
fn stderr_line(line: &[u8], tail: &mut TailLines, admission: &mut Admission<'_>, logger: &mut LineLogger) {
    tail.push(line);
    if admission.admit(line.len()) {
        logger.log(&String::from_utf8_lossy(line));
    }
}

/// The read buffer starts small (an idle plugin costs little memory) and grows to a pipe's
/// capacity when a read fills it: under sustained output, fewer reads and wake-ups.
const FIRST_READ_BYTES: usize = 16 * 1024;
const MAX_READ_BYTES: usize = 64 * 1024;

/// Hands every chunk read from `reader` to `on_chunk` until it ends. While the gate has drops to
/// report, a read waits no longer than until they are due, so that a plugin that flooded and
/// went quiet is still reported on time.
async fn read_chunks(mut reader: impl AsyncRead + Unpin, gate: &LogGate, mut on_chunk: impl FnMut(&[u8])) {
    let mut buffer = vec![0u8; FIRST_READ_BYTES];
    loop {
        let read = match gate.report_due() {
            Some(due) => match tokio::time::timeout_at(tokio_instant(due), reader.read(&mut buffer)).await {
                Ok(read) => read,
                Err(_elapsed) => {
                    gate.report_if_due();
                    continue;
                }
            },
            None => reader.read(&mut buffer).await,
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                on_chunk(&buffer[..n]);
                if n == buffer.len() && n < MAX_READ_BYTES {
                    buffer.resize(MAX_READ_BYTES, 0);
                }
            }
        }
    }
}

fn tokio_instant(instant: Instant) -> tokio::time::Instant {
    tokio::time::Instant::from_std(instant)
}
