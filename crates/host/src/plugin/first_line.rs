//! Waiting for the handshake line (docs/protocol.md §2.3): the plugin's first stdout line,
//! within the start timeout. A plugin that exits or closes stdout first, or stays silent, is
//! killed and the error says which, with its last stderr lines.

use super::process::{FirstLine, Process};
use super::spec::PluginSpec;
use super::state::ExitInfo;
use crate::error::Result;
use std::time::Duration;
use tokio::sync::watch;

/// The first stdout line, or the error of a start that got none.
pub(super) async fn handshake_line(spec: &PluginSpec, process: &Process, first_line: FirstLine) -> Result<String> {
    match wait_for_line(first_line, process.exit_watch(), spec.start_timeout).await {
        LineOutcome::Line(line) => Ok(line),
        LineOutcome::Closed(exit_info) => {
            let exit_text = exit_info.map(|e| format!(" ({e})")).unwrap_or_default();
            let message = format!(
                "it exited{exit_text} without printing a handshake line on stdout. Likely causes: \
                 wrong magic cookie ({}={}), the binary is for another architecture, a library is \
                 missing, or it crashed at startup",
                spec.launch.magic_cookie_key, spec.launch.magic_cookie_value
            );
            Err(process.start_failed(&spec.name, message, true).await)
        }
        LineOutcome::TimedOut => {
            Err(process.start_timed_out(&spec.name, spec.start_timeout, "complete its handshake").await)
        }
    }
}

enum LineOutcome {
    Line(String),
    Closed(Option<ExitInfo>),
    TimedOut,
}

async fn wait_for_line(
    first_line: FirstLine,
    mut exit: watch::Receiver<Option<ExitInfo>>,
    timeout: Duration,
) -> LineOutcome {
    let waiting = async {
        let mut first_line = first_line;
        let mut exited = exit.clone();
        tokio::select! {
            line = &mut first_line => match line {
                Ok(Some(line)) => return LineOutcome::Line(line),
                // stdout closed: report how the process ended, if it does so promptly.
                _ => {
                    let _ = tokio::time::timeout(Duration::from_millis(500), exit.wait_for(Option::is_some)).await;
                }
            },
            // The process may exit while a child it started still holds stdout open.
            () = async { let _ = exited.wait_for(Option::is_some).await; } => {
                if let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_millis(500), first_line).await {
                    return LineOutcome::Line(line);
                }
            }
        }
        let info = *exit.borrow();
        LineOutcome::Closed(info)
    };
    tokio::time::timeout(timeout, waiting).await.unwrap_or(LineOutcome::TimedOut)
}
