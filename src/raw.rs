//! `RawClient`: any gRPC method of any plugin, with protobuf bytes in and out.

use crate::bridge::{self, AsyncStream};
use crate::buffer;
use crate::callee::PyTarget;
use crate::durations::timeout_arg;
use crate::errors::IntoPyResult;
use crate::raw_requests;
use bytes::Bytes;
use futures_util::Stream;
use hector_plugins_host::clients::raw::RawClient;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;
use std::time::Duration;

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

    /// What a call with a stream of requests starts from: `requests` checked, the timeout, a
    /// client of the process that serves the name now, and the request channel Python feeds.
    fn streamed(
        &self,
        py: Python<'_>,
        method: &str,
        requests: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<(RawClient, raw_requests::RequestSender, impl Stream<Item = Bytes> + Send + 'static, Option<Duration>)>
    {
        raw_requests::check_requests(self.target.name(), method, requests)?;
        let timeout = timeout_arg(timeout)?;
        let client = self.current(py)?;
        let (sender, stream) = raw_requests::channel(self.target.name(), method);
        Ok((client, sender, stream, timeout))
    }

    /// A client of the process that serves the name now.
    fn current(&self, py: Python<'_>) -> PyResult<RawClient> {
        Ok(RawClient::new(self.target.plugin().py_err(py)?))
    }
}

/// The serialized request of a unary or server-streaming call.
fn request_bytes(plugin: &str, method: &str, request: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    buffer::bytes_like(request)?.ok_or_else(|| {
        crate::errors::type_error(format!(
            "plugin {plugin:?}: the request of {method} must be bytes-like (bytes, bytearray, memoryview), \
             not {}: pass the serialized message, e.g. request.SerializeToString()",
            buffer::type_name(request)
        ))
    })
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
        bridge::spawn(py, async move { client.unary(&method, request, timeout).await }, py_bytes)
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
        Ok(AsyncStream::start(self.target.name(), opener, py_bytes))
    }

    /// Client-streaming call: a coroutine that sends `requests` (an iterable or async iterable
    /// of bytes-like messages) and returns the response bytes. `timeout` bounds the whole call.
    #[pyo3(signature = (method, requests, *, timeout=None))]
    fn client_stream<'py>(
        &self,
        py: Python<'py>,
        method: String,
        requests: &Bound<'py, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (client, sender, stream, timeout) = self.streamed(py, &method, requests, timeout)?;
        let reply = bridge::spawn(py, async move { client.client_stream(&method, stream, timeout).await }, py_bytes)?;
        pump(py)?.call_method1("client_stream", (sender, reply, requests))
    }

    /// Bidirectional call: an async iterator of response bytes while `requests` are sent.
    /// `timeout` bounds the wait for the first response and between responses.
    #[pyo3(signature = (method, requests, *, timeout=None))]
    fn bidi_stream<'py>(
        &self,
        py: Python<'py>,
        method: String,
        requests: &Bound<'py, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        bridge::ensure_runtime_usable()?;
        let (client, sender, stream, timeout) = self.streamed(py, &method, requests, timeout)?;
        let opener = async move { client.bidi_stream(&method, stream, timeout).await };
        let responses = AsyncStream::start(self.target.name(), opener, py_bytes);
        pump(py)?.call_method1("BidiStream", (sender, responses, requests))
    }

    fn __repr__(&self) -> String {
        match self.target.plugin() {
            Ok(plugin) => format!("RawClient(name={:?}, protocol_version={})", plugin.name, plugin.protocol_version),
            Err(_) => format!("RawClient(name={:?})", self.target.name()),
        }
    }
}

/// A response as Python `bytes`.
fn py_bytes(py: Python<'_>, bytes: Bytes) -> PyResult<Py<PyAny>> {
    Ok(PyBytes::new(py, &bytes).into_any().unbind())
}

/// `hector_plugins._raw_streams`: where the requests of client and bidirectional streams are
/// pumped from the caller's iterable, on its event loop.
fn pump(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(MODULE.get_or_try_init(py, || py.import("hector_plugins._raw_streams").map(Bound::unbind))?.bind(py))
}
