//! Which of the host's environment variables a plugin sees (docs/security.md "Environment").
//!
//! A plugin used to inherit the whole environment, cloud credentials and API keys included.
//! Now it sees the variables an allowlist names, plus its own: those its manifest declares and
//! its configuration grants (`permissions.env`), and those its entry sets (`env:`).

use std::ffi::{OsStr, OsString};

/// What a process needs to run and format text, never a credential. A trailing `*` matches any
/// ending. Proxy variables are left out: their URLs may carry a password.
pub const DEFAULT_ALLOWLIST: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TERM",
    "TMPDIR",
    "NO_COLOR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "LD_LIBRARY_PATH",
    "RUST_BACKTRACE",
    "RUST_LOG",
];

/// The allowlist of one plugin: the default one, or the configured `env_allowlist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPolicy {
    pub allowlist: Vec<String>,
}

impl Default for EnvPolicy {
    fn default() -> Self {
        EnvPolicy { allowlist: DEFAULT_ALLOWLIST.iter().map(|s| s.to_string()).collect() }
    }
}

impl EnvPolicy {
    /// Nothing of the host's (an entry's `clean_env: true`).
    pub fn nothing() -> Self {
        EnvPolicy { allowlist: Vec::new() }
    }

    /// Whether the plugin may see the host's variable `name`; `also` are names granted to this
    /// plugin on top of the allowlist.
    pub fn allows(&self, name: &OsStr, also: &[String]) -> bool {
        let Some(name) = name.to_str() else { return false };
        self.allowlist.iter().chain(also).any(|pattern| matches(pattern, name))
    }

    /// The host's variables the plugin may see.
    pub fn inherited(&self, also: &[String]) -> Vec<(OsString, OsString)> {
        std::env::vars_os().filter(|(name, _)| self.allows(name, also)).collect()
    }
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Checks one allowlist entry: a variable name, optionally ending in `*`.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let name = pattern.strip_suffix('*').unwrap_or(pattern);
    if name.contains(['=', '*', '\0']) || (name.is_empty() && pattern.is_empty()) {
        return Err(format!("{pattern:?} is not a variable name (a trailing * matches any ending)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_keeps_what_a_process_needs_and_no_credentials() {
        let policy = EnvPolicy::default();
        for kept in ["PATH", "HOME", "LANG", "LC_ALL", "TZ"] {
            assert!(policy.allows(OsStr::new(kept), &[]), "{kept}");
        }
        for dropped in ["AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "HTTPS_PROXY", "PATHX"] {
            assert!(!policy.allows(OsStr::new(dropped), &[]), "{dropped}");
        }
    }

    #[test]
    fn granted_names_and_patterns_pass() {
        let policy = EnvPolicy { allowlist: vec!["APP_*".into()] };
        assert!(policy.allows(OsStr::new("APP_MODE"), &[]));
        assert!(!policy.allows(OsStr::new("PATH"), &[]));
        assert!(policy.allows(OsStr::new("OPENAI_API_KEY"), &["OPENAI_API_KEY".into()]));
        assert!(EnvPolicy { allowlist: vec!["*".into()] }.allows(OsStr::new("ANYTHING"), &[]));
        assert!(!EnvPolicy::nothing().allows(OsStr::new("PATH"), &[]));
    }

    #[test]
    fn patterns_are_checked() {
        assert!(check_pattern("LC_*").is_ok());
        assert!(check_pattern("*").is_ok());
        assert!(check_pattern("A=B").is_err());
        assert!(check_pattern("A*B").is_err());
        assert!(check_pattern("").is_err());
    }
}
