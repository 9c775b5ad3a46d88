//! What a plugin method returns when it fails: a message and the gRPC code the host sees.

use tonic::{Code, Status};

/// A failed plugin method. The host reports `message` to its caller with `code` (docs/protocol.md
/// §7: an in-band error and a gRPC status reach the caller the same way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    code: Code,
    message: String,
}

impl PluginError {
    /// A failure with code `UNKNOWN`, what an exception or an in-band error becomes.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(Code::Unknown, message)
    }

    /// The caller's input is wrong (`INVALID_ARGUMENT`): a bad config value, a malformed argument.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::with_code(Code::InvalidArgument, message)
    }

    /// What the call names does not exist (`NOT_FOUND`): a collection, a tool.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::with_code(Code::NotFound, message)
    }

    /// A failure with any gRPC code.
    pub fn with_code(code: Code, message: impl Into<String>) -> Self {
        PluginError { code, message: message.into() }
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PluginError {}

impl From<PluginError> for Status {
    fn from(error: PluginError) -> Status {
        Status::new(error.code, error.message)
    }
}

impl From<Status> for PluginError {
    fn from(status: Status) -> PluginError {
        PluginError::with_code(status.code(), status.message())
    }
}
