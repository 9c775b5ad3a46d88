//! hector.yaml (or the same structure as a dict): the explicitly configured plugins.
//!
//! Sections `plugins.{llm_providers, database_providers, embedder_providers, tool_providers,
//! reasoning_strategies}` map names to entries `{type: grpc, path, enabled, config, ...}`, or to
//! `{type: builtin}`: a provider the orchestrator registers in-process, usable in fallback chains.
//! `${VAR}`, `${VAR:-default}` and `$VAR` in any string are expanded from the environment.
//!
//! A configuration error ([`crate::Error::Config`]) carries the dotted key path it concerns
//! (`key`), and, when read from a file, the line and column of that key.

mod agents;
mod deserialize;
mod discovered;
mod entry;
mod expand;
mod file;
mod invalid;
mod log_budget;
mod read;
mod sections;
mod security;
mod settings;
mod supervision;
mod types;
mod typos;

pub use discovered::{no_entry_points, EntryPoints};
pub use file::{load_file, load_str, locate_key};
pub use log_budget::{log_budget_setting, UNLIMITED};
pub use read::from_value;
pub use security::{security_option, SecurityDefaults};
pub use settings::{
    bad_seconds, call_timeout, message_size, mtls_setting, positive_seconds, seconds_setting, MIN_DURATION,
};
pub use supervision::supervision_option;
pub use types::{Builtin, Config, ConfigWarning, Fallback, BUILTIN};
