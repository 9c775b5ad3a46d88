//! One trait per plugin type, and the adapters that serve them as the `hector.plugin` gRPC
//! services (docs/protocol.md §7). A plugin implements [`Lifecycle`] (every method has a
//! default) and its type's trait, then calls its type's `serve_*` function; the adapters answer
//! the common lifecycle RPCs, echo tool call ids, end streams properly and turn a
//! [`PluginError`] into the gRPC status the host expects.
//!
//! Requests and responses are the generated messages of [`crate::proto::hector`], except the
//! embedder's texts and vectors, which are plain `String`s and `Vec<f32>`s.

mod adapter;
mod database;
mod embedder;
mod error;
mod lifecycle;
mod llm;
mod reasoning;
mod tools;

#[cfg(test)]
mod tests;

pub use adapter::Served;
pub use database::{serve_database, DatabasePlugin};
pub use embedder::{serve_embedder, EmbedderPlugin};
pub use error::PluginError;
pub use lifecycle::{Config, Lifecycle};
pub use llm::{serve_llm, LlmPlugin};
pub use reasoning::{serve_reasoning, ReasoningPlugin};
pub use tools::{serve_tools, ToolPlugin};

/// A stream of a plugin's answers: `GenerateStreaming` chunks, `ExecuteToolStreaming` progress.
pub type PluginStream<T> = std::pin::Pin<Box<dyn futures_core::Stream<Item = Result<T, PluginError>> + Send + 'static>>;
