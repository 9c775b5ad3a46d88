//! `RawClient`: any gRPC method of any plugin, with protobuf bytes in and out.

use super::bridge::{self, AsyncStream};
use super::llm::timeout_arg;
use bytes::Bytes;
use hector_plugins::clients::raw::RawClient;
use hector_plugins::Manager;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::Arc;

#[pyclass(module = "hector_plugins", frozen, name = "RawClient")]
pub struct PyRawClient {
    pub client: RawClient,
    /// Asked for a successor when the plugin crashed or stopped (a restart).
    pub manager: Arc<Manager>,
}

impl PyRawClient {
    /// A client of the process that serves the name now.
    fn current(&self) -> RawClient {
        match self.manager.successor(self.client.plugin()) {
            Some(restarted) => RawClient::new(restarted),
            None => self.client.clone(),
        }
    }
}

fn request_bytes(request: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    // bytes, bytearray, memoryview or anything with the buffer protocol.
    let buffer = pyo3::buffer::PyBuffer::<u8>::get(request)?;
    Ok(Bytes::from(buffer.to_vec(request.py())?))
}

#[pymethods]
impl PyRawClient {
    #[getter]
    fn name(&self) -> String {
        self.client.plugin().name.clone()
    }

    /// The app protocol version the plugin chose from the ones the host offered.
    #[getter]
    fn protocol_version(&self) -> u32 {
        self.current().plugin().protocol_version
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
        let request = request.map(request_bytes).transpose()?.unwrap_or_default();
        let timeout = timeout_arg(timeout)?;
        let client = self.current();
        bridge::spawn(py, async move { client.unary(&method, request, timeout).await }, |py, bytes| {
            Ok(PyBytes::new(py, &bytes).into_any().unbind())
        })
    }

    /// Server-streaming call: an async iterator of response bytes. `timeout` bounds the wait
    /// for the first item and between items (default: the plugin's `call_timeout`).
    #[pyo3(signature = (method, request=None, *, timeout=None))]
    fn stream(
        &self,
        method: String,
        request: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<AsyncStream> {
        bridge::ensure_runtime_usable()?;
        let request = request.map(request_bytes).transpose()?.unwrap_or_default();
        let timeout = timeout_arg(timeout)?;
        let client = self.current();
        let opener = async move { client.server_stream(&method, request, timeout).await };
        Ok(AsyncStream::start(&self.client.plugin().name, opener, |py, bytes: Bytes| {
            Ok(PyBytes::new(py, &bytes).into_any().unbind())
        }))
    }

    fn __repr__(&self) -> String {
        format!(
            "RawClient(name={:?}, protocol_version={})",
            self.client.plugin().name,
            self.client.plugin().protocol_version
        )
    }
}
