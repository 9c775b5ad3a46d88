//! `RawClient`: any gRPC method of any plugin, with protobuf bytes in and out.

use crate::bridge::{self, AsyncStream};
use crate::callee::PyTarget;
use crate::durations::timeout_arg;
use crate::errors::IntoPyResult;
use bytes::Bytes;
use hector_plugins_host::clients::raw::RawClient;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMemoryView};

#[pyclass(module = "hector_plugins", frozen, name = "RawClient")]
pub struct PyRawClient {
    /// Always a plugin process, followed across its restarts.
    pub target: PyTarget,
}

impl PyRawClient {
    /// The request's bytes (none: an empty message).
    fn request(&self, method: &str, request: Option<&Bound<'_, PyAny>>) -> PyResult<Bytes> {
        Ok(request.map(|r| request_bytes(self.target.name(), method, r)).transpose()?.unwrap_or_default())
    }

    /// A client of the process that serves the name now.
    fn current(&self, py: Python<'_>) -> PyResult<RawClient> {
        Ok(RawClient::new(self.target.plugin().py_err(py)?))
    }
}

/// bytes, bytearray, memoryview or anything with the buffer protocol.
/// The extension uses the stable ABI of Python 3.9 (abi3), where `PyBuffer` is missing: bytes are
/// read in place, other buffers through a memoryview (it accepts exactly the buffer protocol).
fn request_bytes(plugin: &str, method: &str, request: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if let Ok(bytes) = request.cast::<PyBytes>() {
        return Ok(Bytes::copy_from_slice(bytes.as_bytes()));
    }
    let view = PyMemoryView::from(request).map_err(|_| {
        let kind = request.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
        crate::errors::type_error(format!(
            "plugin {plugin:?}: the request of {method} must be bytes-like (bytes, bytearray, memoryview), \
             not {kind}: pass the serialized message, e.g. request.SerializeToString()"
        ))
    })?;
    let copy = view.call_method0("tobytes")?;
    Ok(Bytes::copy_from_slice(copy.cast::<PyBytes>()?.as_bytes()))
}

#[pymethods]
impl PyRawClient {
    #[getter]
    fn name(&self) -> String {
        self.target.name().to_string()
    }

    /// The app protocol version the plugin chose from the ones the host offered.
    #[getter]
    fn protocol_version(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.current(py)?.plugin().protocol_version)
    }

    /// Unary call: `await raw.call("/pkg.Service/Method", request_bytes)` → response bytes.
    #[pyo3(signature = (method, request=None, *, timeout=None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        method: String,
        request: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = self.request(&method, request)?;
        let timeout = timeout_arg(timeout)?;
        let client = self.current(py)?;
        bridge::spawn(py, async move { client.unary(&method, request, timeout).await }, |py, bytes| {
            Ok(PyBytes::new(py, &bytes).into_any().unbind())
        })
    }

    /// Server-streaming call: an async iterator of response bytes. `timeout` bounds the wait
    /// for the first item and between items (default: the plugin's `call_timeout`).
    #[pyo3(signature = (method, request=None, *, timeout=None))]
    fn stream(
        &self,
        py: Python<'_>,
        method: String,
        request: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<AsyncStream> {
        bridge::ensure_runtime_usable()?;
        let request = self.request(&method, request)?;
        let timeout = timeout_arg(timeout)?;
        let client = self.current(py)?;
        let opener = async move { client.server_stream(&method, request, timeout).await };
        Ok(AsyncStream::start(self.target.name(), opener, |py, bytes: Bytes| {
            Ok(PyBytes::new(py, &bytes).into_any().unbind())
        }))
    }

    fn __repr__(&self) -> String {
        match self.target.plugin() {
            Ok(plugin) => format!("RawClient(name={:?}, protocol_version={})", plugin.name, plugin.protocol_version),
            Err(_) => format!("RawClient(name={:?})", self.target.name()),
        }
    }
}
