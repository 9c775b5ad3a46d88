//! Core errors → the Python `hector_plugins.PluginError` hierarchy (python/hector_plugins/errors.py).

use hector_plugins_host::error::code_name;
use hector_plugins_host::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

pub fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || PyResult::Ok(py.import("hector_plugins.errors")?.unbind())).map(|m| m.bind(py))
}

/// The exception instance for a core error, with its details as attributes.
pub fn to_exception<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    let details = PyDict::new(py);
    let class = match error {
        Error::Config { file, line, column, key, .. } => {
            details.set_item("file", file)?;
            details.set_item("line", line)?;
            details.set_item("column", column)?;
            details.set_item("key", key)?;
            "ConfigError"
        }
        Error::Start { plugin, stderr, handshake, .. } => {
            details.set_item("plugin", plugin)?;
            details.set_item("stderr", stderr)?;
            if *handshake {
                "HandshakeError"
            } else {
                "PluginStartError"
            }
        }
        Error::StartTimeout { plugin, after, stderr, .. } => {
            details.set_item("plugin", plugin)?;
            details.set_item("stderr", stderr)?;
            details.set_item("timeout", after.as_secs_f64())?;
            "StartTimeoutError"
        }
        Error::Call { plugin, method, code, .. } => {
            details.set_item("plugin", plugin)?;
            details.set_item("method", method)?;
            details.set_item("code", code_name(*code))?;
            if *code == tonic::Code::DeadlineExceeded {
                "CallTimeoutError"
            } else {
                "PluginCallError"
            }
        }
        Error::Crashed { plugin, method, exit, stderr } => {
            details.set_item("plugin", plugin)?;
            details.set_item("method", method)?;
            details.set_item("exit", exit)?;
            details.set_item("stderr", stderr)?;
            "PluginCrashedError"
        }
        Error::NotFound { name, kind, known } => {
            details.set_item("plugin", name)?;
            details.set_item("kind", kind)?;
            details.set_item("known", known)?;
            "PluginNotFoundError"
        }
        Error::Closed { plugin, state } => {
            details.set_item("plugin", plugin)?;
            details.set_item("state", state)?;
            "PluginClosedError"
        }
    };
    errors_module(py)?.getattr(class)?.call((error.to_string(),), Some(&details))
}

pub fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    match to_exception(py, error) {
        Ok(exception) => PyErr::from_value(exception),
        Err(failure) => failure,
    }
}

/// For `?` in PyO3 methods that call the core synchronously.
pub trait IntoPyResult<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for hector_plugins_host::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_pyerr(py, &e))
    }
}
