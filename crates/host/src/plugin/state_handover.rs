//! State across restarts and reloads (docs/protocol.md §7.2, docs/supervision.md "State"): the
//! host asks a running process for its state (`GetState`) and hands it to the next process
//! (`RestoreState`) before that one serves. A plugin that does not serve them keeps no state.

use super::Plugin;
use crate::error::{Error, Result};
use crate::lifecycle::{self, InitializeError};
use std::time::Duration;

/// How long each of the two RPCs may take.
const STATE_RPC_TIMEOUT: Duration = Duration::from_secs(5);

impl Plugin {
    /// The plugin's state now, if it keeps one (`None` also when it fails to answer: the
    /// latest state the host kept stays the one handed over).
    pub async fn fetch_state(&self) -> Option<Vec<u8>> {
        let service = self.kind.service()?;
        if !self.may_serve("GetState") || self.mcp_session().is_some() {
            return None;
        }
        match tokio::time::timeout(STATE_RPC_TIMEOUT, lifecycle::get_state(&self.channel(), service)).await {
            Ok(Ok(state)) => state,
            Ok(Err(status)) if status.code() == tonic::Code::Unimplemented => {
                self.note_unimplemented("GetState");
                None
            }
            _ => None,
        }
    }

    /// Hands `state` to this (new) process. A plugin that does not serve `RestoreState` cannot
    /// take it: that is no error. A refusal or a failure is one, naming the plugin.
    pub async fn restore_state(&self, state: Vec<u8>) -> Result<()> {
        let Some(service) = self.kind.service() else { return Ok(()) };
        let failed = |message: String| Error::start(&self.name, message, self.stderr_tail());
        match tokio::time::timeout(STATE_RPC_TIMEOUT, lifecycle::restore_state(&self.channel(), service, state)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(InitializeError::Call(status))) if status.code() == tonic::Code::Unimplemented => Ok(()),
            Ok(Err(InitializeError::Call(status))) => Err(failed(format!(
                "RestoreState failed ({}): {}",
                crate::error::code_name(status.code()),
                status.message()
            ))),
            Ok(Err(InitializeError::Refused(reason))) => Err(failed(format!("it refused the state it kept: {reason}"))),
            Err(_) => Err(failed(format!("no answer to RestoreState within {}s", STATE_RPC_TIMEOUT.as_secs()))),
        }
    }
}
