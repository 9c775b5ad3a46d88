//! A configuration error before it is placed in its file: the message, and the dotted key path
//! it concerns (`plugins.llm_providers.gpt.call_timeout`), kept apart from the text so that the
//! file reader can point at the key's line without parsing the message back.

use crate::error::Error;

/// What is wrong with a configuration, and where, when it concerns one key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invalid {
    /// The key path the error concerns; `None` for the configuration as a whole.
    pub key: Option<String>,
    /// The whole message, the key path included where it reads that way.
    pub message: String,
}

impl Invalid {
    /// An error about the setting at `key`; the message reads `key: what`.
    pub fn at(key: impl Into<String>, what: impl std::fmt::Display) -> Self {
        let key = key.into();
        Invalid { message: format!("{key}: {what}"), key: Some(key) }
    }

    /// An error about the setting at `key` whose message already names it in its own words.
    pub fn about(key: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid { key: Some(key.into()), message: message.into() }
    }

    /// An error about no single key (the top level, or two places at once).
    pub fn whole(message: impl Into<String>) -> Self {
        Invalid { key: None, message: message.into() }
    }

    /// The error of a configuration that came from `origin` (a file path, or "config dict"):
    /// the message starts with it.
    pub fn in_origin(self, origin: &str) -> Error {
        Error::Config {
            message: format!("{origin}: {}", self.message),
            file: Some(origin.into()),
            line: None,
            column: None,
            key: self.key,
        }
    }

    /// The error of settings given outside any configuration (keyword arguments).
    pub fn into_error(self) -> Error {
        Error::Config { message: self.message, file: None, line: None, column: None, key: self.key }
    }
}
