//! Who answers one call of a typed client: a plugin process, or an in-process provider called
//! through `hector_plugins._builtin`. Every typed client class resolves its target here, so a
//! new plugin type adds no resolution logic of its own (docs/architecture.md).

use crate::errors::IntoPyResult;
use hector_plugins_host::manager::Provider;
use hector_plugins_host::target::Target;
use hector_plugins_host::Manager;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::sync::Arc;

/// The core manager as the Python layer uses it: in-process providers are Python objects.
pub type PyManager = Manager<Py<PyAny>>;
/// A typed client's target (see `hector_plugins_host::target`).
pub type PyTarget = Target<Py<PyAny>>;

pub enum Callee {
    Plugin(Arc<hector_plugins_host::Plugin>),
    /// Served by `hector_plugins._builtin` on the caller's event loop: the provider's name and
    /// the registered object.
    InProcess {
        name: String,
        provider: Py<PyAny>,
    },
}

/// Who answers a call to `target` made now.
pub fn callee(py: Python<'_>, target: &PyTarget) -> PyResult<Callee> {
    Ok(match target.provider().py_err(py)? {
        Provider::Plugin(plugin) => Callee::Plugin(plugin),
        Provider::InProcess(provider) => {
            Callee::InProcess { name: provider.name.clone(), provider: provider.payload.clone_ref(py) }
        }
    })
}

/// `hector_plugins._builtin`, imported once: it checks and calls in-process providers.
pub fn builtin_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || PyResult::Ok(py.import("hector_plugins._builtin")?.unbind())).map(|m| m.bind(py))
}
