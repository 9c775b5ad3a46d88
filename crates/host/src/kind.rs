//! The kinds of plugin, named as manifests and Go plugin maps name them (docs/protocol.md §7.6).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    Llm,
    Database,
    Embedder,
    Tool,
    Reasoning,
    /// Any go-plugin gRPC plugin: no Hector service, called with raw protobuf bytes.
    Generic,
}

impl PluginKind {
    pub const ALL: [PluginKind; 6] = [
        PluginKind::Llm,
        PluginKind::Database,
        PluginKind::Embedder,
        PluginKind::Tool,
        PluginKind::Reasoning,
        PluginKind::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Llm => "llm_provider",
            PluginKind::Database => "database_provider",
            PluginKind::Embedder => "embedder_provider",
            PluginKind::Tool => "tool_provider",
            PluginKind::Reasoning => "reasoning_strategy",
            PluginKind::Generic => "grpc",
        }
    }

    /// The type name with its indefinite article, for messages: "an llm_provider" (read
    /// "an LLM provider"), "a database_provider".
    pub fn with_article(self) -> &'static str {
        match self {
            PluginKind::Llm => "an llm_provider",
            PluginKind::Database => "a database_provider",
            PluginKind::Embedder => "an embedder_provider",
            PluginKind::Tool => "a tool_provider",
            PluginKind::Reasoning => "a reasoning_strategy",
            PluginKind::Generic => "a grpc plugin",
        }
    }

    /// The RPC names of its service (from proto/), if it has one.
    pub fn rpcs(self) -> Option<&'static [&'static str]> {
        self.service().and_then(hector_plugins_protocol::rpcs_of)
    }

    /// The `hector.plugin` service that carries the lifecycle RPCs, if any.
    pub fn service(self) -> Option<&'static str> {
        match self {
            PluginKind::Llm => Some("hector.plugin.LLMProvider"),
            PluginKind::Database => Some("hector.plugin.DatabaseProvider"),
            PluginKind::Embedder => Some("hector.plugin.EmbedderProvider"),
            PluginKind::Tool => Some("hector.plugin.ToolProvider"),
            PluginKind::Reasoning => Some("hector.plugin.ReasoningStrategy"),
            PluginKind::Generic => None,
        }
    }
}

/// A type name (`PluginKind::as_str`) with its article, for messages.
pub fn with_article(kind: &str) -> String {
    match kind.parse::<PluginKind>() {
        Ok(kind) => kind.with_article().into(),
        Err(_) => format!("a {kind}"),
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PluginKind {
    type Err = String;

    /// Accepts the manifest names and short forms (`llm`, `database`, ...).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "llm_provider" | "llm" => PluginKind::Llm,
            "database_provider" | "database" => PluginKind::Database,
            "embedder_provider" | "embedder" => PluginKind::Embedder,
            "tool_provider" | "tools" | "tool" => PluginKind::Tool,
            "reasoning_strategy" | "reasoning" => PluginKind::Reasoning,
            "grpc" | "generic" => PluginKind::Generic,
            other => {
                let known: Vec<&str> = PluginKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!("unknown plugin type {other:?} (expected one of: {})", known.join(", ")));
            }
        })
    }
}
