//! Who answers one call of a typed client, and the call itself: on a plugin process through the
//! bridge, or on an in-process provider through `hector_plugins._builtin`. Every typed client
//! class goes through [`CallSite`], so a new plugin type adds no resolution, timeout or dispatch
//! logic of its own, only its conversions (docs/architecture.md, "Adding a plugin type").

use crate::bridge::{self, AsyncStream};
use crate::durations::timeout_arg;
use crate::errors::IntoPyResult;
use crate::types::HealthStatus;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use hector_plugins_host::manager::Provider;
use hector_plugins_host::target::Target;
use hector_plugins_host::Error;
use hector_plugins_host::{Manager, Plugin};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The core manager as the Python layer uses it: in-process providers are Python objects.
pub type PyManager = Manager<Py<PyAny>>;
/// A typed client's target (see `hector_plugins_host::target`).
pub type PyTarget = Target<Py<PyAny>>;

/// The in-process side of a call: the arguments `_builtin.<method>` takes between the provider
/// and the timeout.
type LocalArgs<'py> = Vec<Bound<'py, PyAny>>;

enum Callee {
    /// A plugin process: `held` is the one the name resolved to (`None`: a lazy plugin not
    /// started yet); the call waits for it while it starts or restarts (`Manager::serving`).
    Plugin { manager: Arc<PyManager>, name: String, held: Option<Arc<Plugin>> },
    /// The provider's name and the registered object.
    InProcess { name: String, provider: Py<PyAny> },
}

/// One call about to be made: who answers it and within what time.
pub struct CallSite<'py> {
    py: Python<'py>,
    callee: Callee,
    /// What the caller passed as `timeout=`, for an in-process provider.
    seconds: Option<f64>,
    /// The same, checked, for a plugin (None: its `call_timeout`).
    timeout: Option<Duration>,
}

impl<'py> CallSite<'py> {
    /// Resolves `target` now (a restarted plugin, a chain's ready member) and checks `timeout`.
    pub fn new(py: Python<'py>, target: &PyTarget, timeout: Option<f64>) -> PyResult<Self> {
        let checked = timeout_arg(timeout)?;
        let callee = match target.provider().py_err(py)? {
            Provider::Plugin(plugin) => {
                Callee::Plugin { manager: target.manager().clone(), name: plugin.name.clone(), held: Some(plugin) }
            }
            Provider::NotStarted(name) => Callee::Plugin { manager: target.manager().clone(), name, held: None },
            Provider::InProcess(provider) => {
                Callee::InProcess { name: provider.name.clone(), provider: provider.payload.clone_ref(py) }
            }
        };
        Ok(CallSite { py, callee, seconds: timeout, timeout: checked })
    }

    /// A unary call: `remote(plugin, request, timeout)` on tokio, its result made a Python value
    /// by `convert`; or, in process, `_builtin.<method>(name, provider, *local(request), timeout)`.
    pub fn unary<R, T, F>(
        self,
        method: &str,
        request: R,
        local: impl FnOnce(Python<'py>, R) -> PyResult<LocalArgs<'py>>,
        remote: impl Fn(Arc<Plugin>, R, Option<Duration>) -> F + Send + 'static,
        convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        R: Clone + Send + 'static,
        T: Send + 'static,
        F: Future<Output = hector_plugins_host::Result<T>> + Send + 'static,
    {
        match self.callee {
            Callee::Plugin { manager, name, held } => {
                let timeout = self.timeout;
                let call = async move {
                    let started = Instant::now();
                    let plugin = manager.serving(&name, held, timeout).await?;
                    let outcome = {
                        let _under_way = plugin.begin_call();
                        remote(plugin.clone(), request.clone(), left(timeout, started)).await
                    };
                    match outcome {
                        // Lost to a crash: sent again to the next process only when the RPC
                        // is marked idempotent (docs/supervision.md, "Retries").
                        Err(Error::Crashed { method, .. }) if plugin.spec().supervision.is_idempotent(&method) => {
                            let plugin = manager.serving_again(&name, plugin, left(timeout, started)).await?;
                            let _under_way = plugin.begin_call();
                            remote(plugin, request, left(timeout, started)).await
                        }
                        other => other,
                    }
                };
                bridge::spawn(self.py, call, convert)
            }
            Callee::InProcess { name, provider } => {
                let args = local(self.py, request)?;
                call_builtin(self.py, method, name, provider, args, self.seconds)
            }
        }
    }

    /// A server stream: an `AsyncStream` of `convert`ed items for a plugin; in process, the async
    /// generator `_builtin.<method>` returns.
    pub fn stream<R, T, F>(
        self,
        method: &str,
        request: R,
        local: impl FnOnce(Python<'py>, R) -> PyResult<LocalArgs<'py>>,
        remote: impl FnOnce(Arc<Plugin>, R, Option<Duration>) -> F + Send + 'static,
        convert: fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        R: Send + 'static,
        T: Send + 'static,
        F: Future<Output = hector_plugins_host::Result<BoxStream<'static, hector_plugins_host::Result<T>>>>
            + Send
            + 'static,
    {
        match self.callee {
            Callee::Plugin { manager, name, held } => {
                bridge::ensure_runtime_usable()?;
                let timeout = self.timeout;
                let label = name.clone();
                let open = async move {
                    let started = Instant::now();
                    let plugin = manager.serving(&name, held, timeout).await?;
                    let under_way = plugin.begin_call();
                    let stream = remote(plugin, request, left(timeout, started)).await?;
                    // Under way until the reader drops the stream.
                    Ok(stream.map(move |item| (&under_way, item).1).boxed())
                };
                let stream = AsyncStream::start(&label, open, convert);
                Ok(Bound::new(self.py, stream)?.into_any())
            }
            Callee::InProcess { name, provider } => {
                let args = local(self.py, request)?;
                call_builtin(self.py, method, name, provider, args, self.seconds)
            }
        }
    }
}

/// What is left of `timeout` (the caller's) since `started`; `None` keeps the plugin's own
/// `call_timeout` (which the wait does not shorten).
fn left(timeout: Option<Duration>, started: Instant) -> Option<Duration> {
    timeout.map(|limit| limit.saturating_sub(started.elapsed()).max(MIN_LEFT))
}

/// A call whose wait for its plugin used up its deadline still gets this long, so that it fails
/// with the plugin's own deadline error rather than with a zero timeout.
const MIN_LEFT: Duration = Duration::from_millis(1);

/// `health()` of every typed client: the Health RPC of the plugin's service, or
/// `_builtin.health` in process.
pub fn health<'py>(py: Python<'py>, target: &PyTarget, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
    CallSite::new(py, target, timeout)?.unary(
        "health",
        (),
        no_args,
        |plugin, (), timeout| async move { hector_plugins_host::clients::health(&plugin, timeout).await },
        |py, health| Ok(Py::new(py, HealthStatus::from(health))?.into_any()),
    )
}

/// Methods that take nothing but the timeout.
pub fn no_args<'py>(_py: Python<'py>, (): ()) -> PyResult<LocalArgs<'py>> {
    Ok(Vec::new())
}

fn call_builtin<'py>(
    py: Python<'py>,
    method: &str,
    name: String,
    provider: Py<PyAny>,
    args: LocalArgs<'py>,
    seconds: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut all = vec![name.into_pyobject(py)?.into_any(), provider.into_bound(py)];
    all.extend(args);
    all.push(seconds.into_pyobject(py)?.into_any());
    builtin_module(py)?.getattr(method)?.call1(PyTuple::new(py, all)?)
}

/// `hector_plugins._builtin`, imported once: it checks and calls in-process providers.
pub fn builtin_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || PyResult::Ok(py.import("hector_plugins._builtin")?.unbind())).map(|m| m.bind(py))
}
