//! Durations passed from Python as seconds, checked by the core's rule (docs/python-api.md):
//! anything non-finite or below 1 ms is a `ConfigError` naming the option.

use crate::errors::CoreError;
use hector_plugins_host::config;
use pyo3::prelude::*;
use std::time::Duration;

/// The option `what` (e.g. `start_timeout`) given as `value` seconds.
pub fn seconds(value: f64, what: &str) -> PyResult<Duration> {
    config::seconds_setting(what, value).map_err(|e| CoreError(e).into())
}

/// A call's `timeout=`: None keeps the plugin's `call_timeout`.
pub fn timeout_arg(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout.map(|s| seconds(s, "timeout")).transpose()
}
