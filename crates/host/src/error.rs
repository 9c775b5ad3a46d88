//! The core's error type. Every variant names the plugin and says what a person can do about it;
//! the Python layer maps each variant to one class of the `PluginError` hierarchy.

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Bad options or configuration (caught before anything is launched). `key` is the dotted
    /// key path the error concerns (`plugins.llm_providers.gpt.call_timeout`, or the keyword
    /// argument's name), when it concerns one.
    #[error("{message}")]
    Config { message: String, file: Option<String>, line: Option<usize>, column: Option<usize>, key: Option<String> },

    /// The plugin could not be launched, refused the handshake, or failed to initialize.
    #[error("plugin {plugin:?} failed to start: {message}{}", quote_stderr(stderr))]
    Start { plugin: String, message: String, stderr: Vec<String>, handshake: bool },

    /// The plugin printed no handshake line (or did not answer `Initialize`) within the start timeout.
    #[error(
        "plugin {plugin:?} did not {stage} within {} (its start_timeout); it was killed. {}{}",
        format_duration(*after),
        start_timeout_hint(stage),
        quote_stderr(stderr)
    )]
    StartTimeout { plugin: String, after: Duration, stage: &'static str, stderr: Vec<String> },

    /// A call reached the plugin (or tried to) and failed with a gRPC status.
    #[error("plugin {plugin:?}: {method} failed ({}): {message}", code_name(*code))]
    Call { plugin: String, method: String, code: tonic::Code, message: String },

    /// The plugin process died while it was needed.
    #[error("plugin {plugin:?} crashed ({exit}) during {method}{}", quote_stderr(stderr))]
    Crashed { plugin: String, method: String, exit: String, stderr: Vec<String> },

    /// No plugin of that name (and kind) is loaded. `kind` is a type name, or "plugin" for any.
    #[error("no {} named {name:?} is loaded{}", kind_of_plugin(kind), elsewhere_or_known(name, elsewhere, known))]
    NotFound {
        name: String,
        kind: String,
        known: Vec<String>,
        /// The type the name has, when it is loaded as another type than asked for.
        elsewhere: Option<String>,
    },

    /// The plugin (or a fallback chain, or the whole manager) cannot be called now; `state` says
    /// why, and whether that can change.
    #[error("{}", closed_message(plugin, state))]
    Closed { plugin: String, state: Closed },

    /// `load_all(strict=True)`: some configured entries failed (each also has its own report).
    #[error("{} of {total} configured entries failed to load:\n- {}", failures.len(), failures.join("\n- "))]
    LoadFailures { failures: Vec<String>, total: usize },
}

/// Why a name cannot be called ([`Error::Closed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// The plugin is being stopped.
    Stopping,
    /// The plugin was stopped (or its crash was cleaned up by a shutdown).
    Stopped,
    /// The manager was shut down: nothing it holds can be loaded, registered or called again.
    ShutDown(ShutDownDuring),
    /// A fallback chain none of whose members is ready right now (each: why not). A member that
    /// loads, restarts or registers serves it again.
    NoReadyMember(Vec<String>),
    /// The reader cancelled this stream.
    Cancelled,
    /// The plugin restarted too often (docs/supervision.md): calls fail at once until
    /// `pm.restart(name)`.
    CircuitOpen { since: std::time::SystemTime, reason: String },
    /// The plugin is restarting and is configured to fail calls fast meanwhile.
    Restarting { attempt: u32, since: std::time::SystemTime, reason: String },
}

/// What was under way when the manager's shutdown refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutDownDuring {
    Call,
    Load,
    /// The plugin had started; it was stopped again.
    LoadInFlight,
    Register,
}

impl Closed {
    /// The short name Python sees as `PluginClosedError.state`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Closed::Stopping => "stopping",
            Closed::Stopped => "stopped",
            Closed::ShutDown(_) => "shut_down",
            Closed::NoReadyMember(_) => "no_ready_member",
            Closed::Cancelled => "cancelled",
            Closed::CircuitOpen { .. } => "failed",
            Closed::Restarting { .. } => "restarting",
        }
    }
}

fn closed_message(plugin: &str, state: &Closed) -> String {
    let final_ = "it can no longer be called";
    match state {
        Closed::Stopping => format!("plugin {plugin:?} is stopping; {final_}"),
        Closed::Stopped => format!("plugin {plugin:?} is stopped; {final_}"),
        Closed::ShutDown(ShutDownDuring::Call) => {
            format!("plugin {plugin:?} is closed: its manager was shut down; {final_}")
        }
        Closed::ShutDown(ShutDownDuring::Load) => format!("plugin {plugin:?} is not loaded: the manager was shut down"),
        Closed::ShutDown(ShutDownDuring::LoadInFlight) => {
            format!("plugin {plugin:?} is stopped: the manager was shut down while it loaded")
        }
        Closed::ShutDown(ShutDownDuring::Register) => {
            format!("{plugin:?} is not registered: the manager was shut down")
        }
        Closed::NoReadyMember(why) => format!(
            "fallback chain {plugin:?} has no ready member right now ({}); it serves again once a member is \
             loaded, restarted or registered",
            why.join(", ")
        ),
        Closed::Cancelled => format!("plugin {plugin:?}: this stream was cancelled; it can no longer be read"),
        Closed::CircuitOpen { since, reason } => {
            format!("plugin {plugin:?} is failed since {} (its circuit is open): {reason}", format_time(*since))
        }
        Closed::Restarting { attempt, since, reason } => format!(
            "plugin {plugin:?} is restarting since {} (attempt {attempt}, after: {reason}); it is configured to \
             fail calls at once meanwhile (restart.while_restarting: fail)",
            format_time(*since)
        ),
    }
}

/// A moment as UTC `YYYY-MM-DDTHH:MM:SSZ` (no time-zone database needed).
pub fn format_time(at: std::time::SystemTime) -> String {
    let secs = at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's well-known algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config { message: message.into(), file: None, line: None, column: None, key: None }
    }

    pub fn start(plugin: &str, message: impl Into<String>, stderr: Vec<String>) -> Self {
        Error::Start { plugin: plugin.into(), message: message.into(), stderr, handshake: false }
    }

    /// The plugin answered UNIMPLEMENTED: it does not serve that (optional) RPC, so a client may
    /// fall back to one it must serve (docs/protocol.md §7.7).
    pub fn is_unimplemented(&self) -> bool {
        matches!(self, Error::Call { code: tonic::Code::Unimplemented, .. })
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

/// "llm_provider plugin", or just "plugin" when any type would do.
fn kind_of_plugin(kind: &str) -> String {
    if kind == "plugin" {
        kind.into()
    } else {
        format!("{kind} plugin")
    }
}

/// What to check when a plugin misses its start timeout, by the stage it did not reach.
fn start_timeout_hint(stage: &str) -> &'static str {
    if stage.contains("MCP") {
        "Check that the command is an MCP server speaking JSON-RPC on stdin and stdout (or, over \
         HTTP, that the URL is its MCP endpoint), that it writes its logs to stderr only, and raise \
         start_timeout if it needs longer to start"
    } else if stage.contains("handshake") {
        "Check that the executable is a go-plugin plugin that prints its handshake line on stdout \
         first, that it is not waiting for input or a lock, and raise start_timeout if it needs longer \
         to start"
    } else {
        "It connected but did not answer: check what its Initialize does (a slow backend, a \
         deadlock), or raise start_timeout"
    }
}

/// A duration for messages, exact enough that a small value never shows as "0.0s": `60s`,
/// `1.5s`, `250ms`, `0.001ms`.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    let (value, unit) = if seconds >= 1.0 { (seconds, "s") } else { (seconds * 1000.0, "ms") };
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "0" {
        return format!("{}ns", duration.as_nanos());
    }
    format!("{text}{unit}")
}

/// What to say after "no X named N is loaded": that N is of another type, or which names are.
fn elsewhere_or_known(name: &str, elsewhere: &Option<String>, known: &[String]) -> String {
    match elsewhere {
        Some(kind) => format!(": {name:?} is {}, reached with its own client", crate::kind::with_article(kind)),
        None => known_names(known),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_their_size() {
        assert_eq!(format_duration(Duration::from_secs(60)), "60s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_millis(1)), "1ms");
        assert_eq!(format_duration(Duration::from_micros(10)), "0.01ms");
        assert_eq!(format_duration(Duration::from_nanos(5)), "5ns");
    }

    #[test]
    fn messages_read_as_sentences() {
        let not_found =
            Error::NotFound { name: "ecoh".into(), kind: "plugin".into(), known: vec!["echo".into()], elsewhere: None };
        assert_eq!(not_found.to_string(), "no plugin named \"ecoh\" is loaded (loaded: echo)");
        let typed = Error::NotFound { name: "x".into(), kind: "llm_provider".into(), known: vec![], elsewhere: None };
        assert_eq!(typed.to_string(), "no llm_provider plugin named \"x\" is loaded (none are loaded)");
        let timeout = Error::StartTimeout {
            plugin: "slow".into(),
            after: Duration::from_millis(200),
            stage: "complete its handshake",
            stderr: vec![],
        };
        let text = timeout.to_string();
        assert!(text.contains("within 200ms (its start_timeout)") && text.contains("raise start_timeout"), "{text}");
    }
}
