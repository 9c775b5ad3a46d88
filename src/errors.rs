//! Core errors → the Python `hector_plugins.PluginError` hierarchy (python/hector_plugins/errors.py).
//! The classes are imported once; each core error becomes one class with its fields as attributes.

use hector_plugins_host::error::code_name;
use hector_plugins_host::Error;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pyo3::PyTypeInfo;

pyo3::import_exception!(hector_plugins.errors, ConfigError);
pyo3::import_exception!(hector_plugins.errors, PluginStartError);
pyo3::import_exception!(hector_plugins.errors, HandshakeError);
pyo3::import_exception!(hector_plugins.errors, StartTimeoutError);
pyo3::import_exception!(hector_plugins.errors, PluginCallError);
pyo3::import_exception!(hector_plugins.errors, CallTimeoutError);
pyo3::import_exception!(hector_plugins.errors, PluginCrashedError);
pyo3::import_exception!(hector_plugins.errors, PluginNotFoundError);
pyo3::import_exception!(hector_plugins.errors, PluginClosedError);
pyo3::import_exception!(hector_plugins.errors, PluginError);
pyo3::import_exception!(hector_plugins.errors, PluginTypeError);
pyo3::import_exception!(hector_plugins.errors, PluginUsageError);

/// A core error on its way to Python: `?` turns it into the matching `PluginError` subclass.
pub struct CoreError(pub Error);

impl From<Error> for CoreError {
    fn from(error: Error) -> Self {
        CoreError(error)
    }
}

impl From<CoreError> for PyErr {
    fn from(error: CoreError) -> Self {
        Python::attach(|py| to_pyerr(py, &error.0))
    }
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
            ConfigError::type_object(py)
        }
        Error::Start { plugin, stderr, handshake, .. } => {
            details.set_item("plugin", plugin)?;
            details.set_item("stderr", stderr)?;
            if *handshake {
                HandshakeError::type_object(py)
            } else {
                PluginStartError::type_object(py)
            }
        }
        Error::StartTimeout { plugin, after, stderr, .. } => {
            details.set_item("plugin", plugin)?;
            details.set_item("stderr", stderr)?;
            details.set_item("timeout", after.as_secs_f64())?;
            StartTimeoutError::type_object(py)
        }
        Error::Call { plugin, method, code, .. } => {
            details.set_item("plugin", plugin)?;
            details.set_item("method", method)?;
            details.set_item("code", code_name(*code))?;
            if *code == tonic::Code::DeadlineExceeded {
                CallTimeoutError::type_object(py)
            } else {
                PluginCallError::type_object(py)
            }
        }
        Error::Crashed { plugin, method, exit, stderr } => {
            details.set_item("plugin", plugin)?;
            details.set_item("method", method)?;
            details.set_item("exit", exit)?;
            details.set_item("stderr", stderr)?;
            PluginCrashedError::type_object(py)
        }
        Error::NotFound { name, kind, known, .. } => {
            details.set_item("plugin", name)?;
            details.set_item("kind", kind)?;
            details.set_item("known", known)?;
            PluginNotFoundError::type_object(py)
        }
        Error::Closed { plugin, state } => {
            details.set_item("plugin", plugin)?;
            details.set_item("state", state.as_str())?;
            PluginClosedError::type_object(py)
        }
        // One error for a whole `load_all(strict=True)`, not for a plugin; the caller attaches
        // the full report as `results` (see `load_failures`).
        Error::LoadFailures { .. } => {
            details.set_item("plugin", py.None())?;
            details.set_item("stderr", PyList::empty(py))?;
            PluginStartError::type_object(py)
        }
    };
    class.call((error.to_string(),), Some(&details))
}

pub fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    match to_exception(py, error) {
        Ok(exception) => PyErr::from_value(exception),
        Err(failure) => failure,
    }
}

/// A `PluginTypeError` (also a `TypeError`): an argument of the wrong type.
pub fn type_error(message: impl Into<String>) -> PyErr {
    PluginTypeError::new_err(message.into())
}

/// A `PluginUsageError` (also a `RuntimeError`): an awaitable or stream used as it cannot be.
pub fn usage_error(message: impl Into<String>) -> PyErr {
    PluginUsageError::new_err(message.into())
}

/// A bug of this library, reported as such (`PluginError`, so `except PluginError` sees it).
pub fn internal_error(message: impl Into<String>) -> PyErr {
    PluginError::new_err(format!("hector_plugins internal error (please report it): {}", message.into()))
}

/// A `PluginError` with `message`: a failure of the plugin side (`hector_plugins.sdk`).
pub fn plugin_error(message: impl Into<String>) -> PyErr {
    PluginError::new_err(message.into())
}

/// A `ConfigError` for bad options given in Python (not from a file).
pub fn config_error(message: impl Into<String>) -> PyErr {
    CoreError(Error::config(message)).into()
}

/// `load_all(strict=True)`'s error, carrying every entry's `LoadResult` (what loaded stays loaded).
pub fn load_failures(py: Python<'_>, error: &Error, results: &Bound<'_, PyList>) -> PyErr {
    let exception = match to_exception(py, error) {
        Ok(exception) => exception,
        Err(failure) => return failure,
    };
    if let Err(failure) = exception.setattr("results", results) {
        return failure;
    }
    PyErr::from_value(exception)
}

/// The error of entering a manager that was shut down (a manager, not a plugin, is closed).
pub fn manager_closed(py: Python<'_>) -> PyErr {
    let message = "this PluginManager was shut down (its `async with` block ended or shutdown() was called) and \
                   cannot be entered again; create a new PluginManager";
    let details = PyDict::new(py);
    let made = details
        .set_item("plugin", py.None())
        .and_then(|()| details.set_item("state", "shut_down"))
        .and_then(|()| PluginClosedError::type_object(py).call((message,), Some(&details)));
    match made {
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
