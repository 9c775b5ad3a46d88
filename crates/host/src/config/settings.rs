//! The value rules of the settings that a configuration entry and `load()`'s keyword arguments
//! share: durations in seconds, `call_timeout`, `max_message_size`, and the connection settings
//! built from them. One home, so that a file and a keyword argument refuse the same values with
//! the same words.

use super::invalid::Invalid;
use crate::error::Result;
use crate::security::mtls::MtlsMode;
use crate::transport::ConnectionSettings;
use std::time::Duration;

/// `call_timeout` in seconds: 0 means no default deadline, otherwise like any duration.
pub fn call_timeout(seconds: f64) -> std::result::Result<Option<Duration>, String> {
    if seconds == 0.0 {
        return Ok(None);
    }
    positive_seconds(seconds).map(Some).ok_or_else(|| {
        format!("must be a finite number of seconds, at least 0.001 (1 ms), or 0 for no deadline, not {seconds:?}")
    })
}

/// `max_message_size` in bytes: at least 1 KiB, at most what gRPC framing allows (2^31-1).
pub fn message_size(bytes: u64) -> std::result::Result<usize, String> {
    const MIN: u64 = 1024;
    const MAX: u64 = hector_plugins_protocol::MAX_MESSAGE_SIZE_LIMIT as u64;
    if (MIN..=MAX).contains(&bytes) {
        Ok(bytes as usize)
    } else {
        Err(format!("must be between {MIN} and {MAX} bytes, not {bytes}"))
    }
}

/// The shortest duration any option accepts. Anything shorter is a mistake (a unit confusion, a
/// typo'd exponent) that would otherwise fail later as "within 0s".
pub const MIN_DURATION: Duration = Duration::from_millis(1);

/// A duration given in seconds: finite, at least [`MIN_DURATION`], and small enough for a
/// `Duration`.
pub fn positive_seconds(seconds: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(seconds).ok().filter(|d| *d >= MIN_DURATION)
}

/// The message for a duration option that [`positive_seconds`] refuses.
pub fn bad_seconds(field: &str, seconds: f64) -> String {
    // `{:?}` prints 1e-300 as such, not as 300 zeros.
    format!("{field}: must be a finite number of seconds, at least 0.001 (1 ms), not {seconds:?}")
}

/// The duration option at `key` (a key path, or a keyword argument's name), checked by
/// [`positive_seconds`]; the error carries the key.
pub fn seconds_setting(key: &str, seconds: f64) -> Result<Duration> {
    checked_seconds(key, seconds).map_err(Invalid::into_error)
}

/// [`seconds_setting`] for the configuration reader, which places the error in its file.
pub(super) fn checked_seconds(key: &str, seconds: f64) -> std::result::Result<Duration, Invalid> {
    positive_seconds(seconds).ok_or_else(|| Invalid::about(key, bad_seconds(key, seconds)))
}

/// `mtls` at `key` (a key path, or the keyword argument's name): `auto`, `on` or `off`.
pub fn mtls_setting(key: &str, value: &str) -> Result<MtlsMode> {
    checked_mtls(key, value).map_err(Invalid::into_error)
}

/// [`mtls_setting`] for the configuration reader, which places the error in its file.
pub(super) fn checked_mtls(key: &str, value: &str) -> std::result::Result<MtlsMode, Invalid> {
    value.parse().map_err(|e| Invalid::at(key, e))
}

impl ConnectionSettings {
    /// The connection settings from their options as given, `None` meaning "not given" (the
    /// default). `at` is the key path the options sit under (`plugins.llm_providers.gpt`), or ""
    /// for keyword arguments; an error names the setting and carries its key.
    pub fn from_options(
        call_timeout_seconds: Option<f64>,
        max_message_size: Option<u64>,
        allow_non_loopback: bool,
        at: &str,
    ) -> Result<ConnectionSettings> {
        connection_settings(call_timeout_seconds, max_message_size, allow_non_loopback, at).map_err(Invalid::into_error)
    }
}

/// [`ConnectionSettings::from_options`] for the configuration reader, which places the error in
/// its file.
pub(super) fn connection_settings(
    call_timeout_seconds: Option<f64>,
    max_message_size: Option<u64>,
    allow_non_loopback: bool,
    at: &str,
) -> std::result::Result<ConnectionSettings, Invalid> {
    let key = |field: &str| if at.is_empty() { field.to_string() } else { format!("{at}.{field}") };
    let mut settings = ConnectionSettings { allow_non_loopback, ..ConnectionSettings::default() };
    if let Some(seconds) = call_timeout_seconds {
        settings.call_timeout = call_timeout(seconds).map_err(|e| Invalid::at(key("call_timeout"), e))?;
    }
    if let Some(bytes) = max_message_size {
        settings.max_message_bytes = message_size(bytes).map_err(|e| Invalid::at(key("max_message_size"), e))?;
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn key_of(error: Error) -> Option<String> {
        match error {
            Error::Config { key, .. } => key,
            other => panic!("not a configuration error: {other}"),
        }
    }

    #[test]
    fn options_not_given_keep_the_defaults() {
        let settings = ConnectionSettings::from_options(None, None, false, "").unwrap();
        assert_eq!(settings, ConnectionSettings::default());
        let settings = ConnectionSettings::from_options(Some(0.0), Some(1 << 20), true, "").unwrap();
        assert_eq!(settings.call_timeout, None, "0 means no deadline");
        assert_eq!(settings.max_message_bytes, 1 << 20);
        assert!(settings.allow_non_loopback);
    }

    #[test]
    fn errors_name_the_setting_and_carry_its_key() {
        let error = ConnectionSettings::from_options(Some(-1.0), None, false, "plugins.llm_providers.gpt").unwrap_err();
        assert!(error.to_string().starts_with("plugins.llm_providers.gpt.call_timeout: must be"), "{error}");
        assert_eq!(key_of(error).as_deref(), Some("plugins.llm_providers.gpt.call_timeout"));
        let error = ConnectionSettings::from_options(None, Some(10), false, "").unwrap_err();
        assert!(error.to_string().starts_with("max_message_size: must be between 1024"), "{error}");
        assert_eq!(key_of(error).as_deref(), Some("max_message_size"));
    }

    #[test]
    fn mtls_takes_three_words_and_an_error_carries_its_key() {
        assert_eq!(mtls_setting("mtls", "off").unwrap(), MtlsMode::Off);
        let error = mtls_setting("plugins.llm_providers.gpt.mtls", "yes").unwrap_err();
        assert!(error.to_string().contains("must be auto, on or off"), "{error}");
        assert_eq!(key_of(error).as_deref(), Some("plugins.llm_providers.gpt.mtls"));
    }

    #[test]
    fn durations_below_a_millisecond_are_refused_with_their_key() {
        assert_eq!(seconds_setting("start_timeout", 1.5).unwrap(), Duration::from_millis(1500));
        let error = seconds_setting("start_timeout", 1e-300).unwrap_err();
        assert!(error.to_string().contains("start_timeout: must be a finite number of seconds"), "{error}");
        assert_eq!(key_of(error).as_deref(), Some("start_timeout"));
        assert!(seconds_setting("shutdown_grace", f64::NAN).is_err());
    }
}
