//! The core's error type. Every variant names the plugin and says what a person can do about it;
//! the Python layer maps each variant to one class of the `PluginError` hierarchy.

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Bad options or configuration (caught before anything is launched).
    #[error("{message}")]
    Config { message: String, file: Option<String>, line: Option<usize>, column: Option<usize> },

    /// The plugin could not be launched, refused the handshake, or failed to initialize.
    #[error("plugin {plugin:?} failed to start: {message}{}", quote_stderr(stderr))]
    Start { plugin: String, message: String, stderr: Vec<String>, handshake: bool },

    /// The plugin printed no handshake line (or did not answer `Initialize`) within the start timeout.
    #[error("plugin {plugin:?} did not {stage} within {:.1}s; it was killed{}", after.as_secs_f64(), quote_stderr(stderr))]
    StartTimeout { plugin: String, after: Duration, stage: &'static str, stderr: Vec<String> },

    /// A call reached the plugin (or tried to) and failed with a gRPC status.
    #[error("plugin {plugin:?}: {method} failed ({}): {message}", code_name(*code))]
    Call { plugin: String, method: String, code: tonic::Code, message: String },

    /// The plugin process died while it was needed.
    #[error("plugin {plugin:?} crashed ({exit}) during {method}{}", quote_stderr(stderr))]
    Crashed { plugin: String, method: String, exit: String, stderr: Vec<String> },

    /// No plugin of that name (and kind) is loaded.
    #[error("no {kind} plugin named {name:?} is loaded{}", known_names(known))]
    NotFound { name: String, kind: String, known: Vec<String> },

    /// The plugin (or the whole manager) was shut down.
    #[error("plugin {plugin:?} is {state}; it can no longer be called")]
    Closed { plugin: String, state: String },
}

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config { message: message.into(), file: None, line: None, column: None }
    }

    pub fn start(plugin: &str, message: impl Into<String>, stderr: Vec<String>) -> Self {
        Error::Start { plugin: plugin.into(), message: message.into(), stderr, handshake: false }
    }
}

fn quote_stderr(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nlast stderr lines of the plugin:");
    for line in lines {
        out.push_str("\n  | ");
        out.push_str(line);
    }
    out
}

fn known_names(known: &[String]) -> String {
    if known.is_empty() {
        " (none are loaded)".into()
    } else {
        format!(" (loaded: {})", known.join(", "))
    }
}

/// The canonical upper-case gRPC status name (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, ...).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}
