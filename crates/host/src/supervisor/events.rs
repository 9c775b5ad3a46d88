//! Lifecycle events (docs/supervision.md, "Events"): what happened to a plugin, when, and why.
//! Each is logged and sent to every subscriber (the Python layer's `pm.on` callbacks).

use crate::logs::{Level, LogRecord, LogSink, Source};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Loaded,
    Unhealthy,
    Crashed,
    Restarting,
    Restarted,
    /// Too many restarts: the circuit is open until a manual restart.
    Failed,
    Reloaded,
    /// A reload whose new version did not start; the old one still serves.
    ReloadFailed,
    Stopped,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        EventKind::Loaded,
        EventKind::Unhealthy,
        EventKind::Crashed,
        EventKind::Restarting,
        EventKind::Restarted,
        EventKind::Failed,
        EventKind::Reloaded,
        EventKind::ReloadFailed,
        EventKind::Stopped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Loaded => "loaded",
            EventKind::Unhealthy => "unhealthy",
            EventKind::Crashed => "crashed",
            EventKind::Restarting => "restarting",
            EventKind::Restarted => "restarted",
            EventKind::Failed => "failed",
            EventKind::Reloaded => "reloaded",
            EventKind::ReloadFailed => "reload_failed",
            EventKind::Stopped => "stopped",
        }
    }

    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    fn level(self) -> Level {
        match self {
            EventKind::Crashed | EventKind::Failed | EventKind::ReloadFailed => Level::Error,
            EventKind::Unhealthy | EventKind::Restarting => Level::Warn,
            _ => Level::Info,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub plugin: String,
    pub kind: EventKind,
    /// What happened, in words (the exit status, the failed check, the attempt, ...).
    pub message: String,
    pub at: SystemTime,
    /// The process the event concerns (0 when there is none, e.g. a failed start).
    pub pid: u32,
}

/// Where events go: the log sink, and every subscriber.
pub struct Events {
    sink: Arc<dyn LogSink>,
    subscribers: broadcast::Sender<Event>,
}

/// Events a slow subscriber has not read yet, beyond which it loses the oldest (and is told how
/// many it lost).
const BACKLOG: usize = 1024;

impl Events {
    pub fn new(sink: Arc<dyn LogSink>) -> Self {
        Events { sink, subscribers: broadcast::Sender::new(BACKLOG) }
    }

    pub fn emit(&self, plugin: &str, kind: EventKind, pid: u32, message: impl Into<String>) {
        let message = message.into();
        let text = if message.is_empty() {
            format!("plugin {plugin:?} {}", kind.as_str())
        } else {
            format!("plugin {plugin:?} {}: {message}", kind.as_str())
        };
        self.sink.log(LogRecord::plain(plugin.into(), kind.level(), text, Source::Host));
        let event = Event { plugin: plugin.into(), kind, message, at: SystemTime::now(), pid };
        let _ = self.subscribers.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.subscribers.subscribe()
    }
}
