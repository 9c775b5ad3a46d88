//! The plugin's stdout and stderr pipes, read for the life of its process (a full pipe would
//! block it): the first stdout line is the handshake (docs/protocol.md §2.3), the rest of stdout
//! is logged at DEBUG, stderr is classified into records and its last lines kept for errors
//! (§5.1).

use crate::logs::{Level, LineLogger, LineSplitter, LogRecord, LogSink, Source, StderrTail, MAX_LINE_BYTES};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{oneshot, watch};

/// Sends the first stdout line (`None`: stdout closed before one), then logs the rest.
pub(super) async fn read_stdout(
    stdout: impl AsyncRead + Unpin,
    plugin: String,
    sink: Arc<dyn LogSink>,
    first_line: oneshot::Sender<Option<String>>,
) {
    let mut first_line = Some(first_line);
    read_lines(stdout, |line| match first_line.take() {
        Some(sender) => drop(sender.send(Some(line))),
        None => sink.log(LogRecord::plain(plugin.clone(), Level::Debug, line, Source::Stdout)),
    })
    .await;
    if let Some(sender) = first_line {
        let _ = sender.send(None);
    }
}

/// Logs every stderr line and keeps the last ones in `tail`; `done` says it was read to the end.
pub(super) async fn read_stderr(
    stderr: impl AsyncRead + Unpin,
    plugin: String,
    sink: Arc<dyn LogSink>,
    tail: StderrTail,
    done: watch::Sender<bool>,
) {
    let mut logger = LineLogger::new(plugin, sink, Source::Stderr);
    read_lines(stderr, |line| {
        tail.push(&line);
        logger.log(&line);
    })
    .await;
    let _ = done.send(true);
}

/// Every line of `reader` until it ends. The handshake line may be long (a certificate), so
/// lines get the generous limit of log lines.
async fn read_lines(mut reader: impl AsyncRead + Unpin, mut on_line: impl FnMut(String)) {
    let mut splitter = LineSplitter::new(MAX_LINE_BYTES);
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => splitter.feed(&buffer[..n], &mut on_line),
        }
    }
    let mut rest = Vec::new();
    splitter.finish(&mut rest);
    rest.into_iter().for_each(on_line);
}
