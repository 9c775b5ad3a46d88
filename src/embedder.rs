//! `EmbedderClient`: Python face of [`hector_plugins_host::clients::embedder::EmbedderClient`].
//! Vectors come back as float32 blocks (`types::vectors`), never a Python float per element.

use crate::callee::{self, no_args, CallSite, PyTarget};
use crate::types::vectors::{matrix_from_le_bytes, vector_to_py};
use crate::types::{text_from_py, texts_from_py, EmbedderInfo};
use hector_plugins_host::clients::embedder::EmbedderClient;
use pyo3::prelude::*;
use pyo3::types::PyList;

#[pyclass(module = "hector_plugins", frozen, name = "EmbedderClient")]
pub struct PyEmbedderClient {
    pub target: PyTarget,
}

#[pymethods]
impl PyEmbedderClient {
    /// The name the client was obtained for.
    #[getter]
    fn name(&self) -> String {
        self.target.name().to_string()
    }

    /// The vector of `text`: float32, shape `(dimension,)`.
    #[pyo3(signature = (text, *, timeout=None))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = text_from_py(text)?;
        CallSite::new(py, &self.target, timeout)?.unary(
            "embed",
            text,
            |py, text| Ok(vec![text.into_pyobject(py)?.into_any()]),
            |plugin, text, timeout| async move { EmbedderClient::new(plugin).embed(text, timeout).await },
            |py, vector| Ok(vector_to_py(py, &vector)?.unbind()),
        )
    }

    /// The vectors of `texts` as one float32 block of shape `(len(texts), dimension)`.
    #[pyo3(signature = (texts, *, timeout=None))]
    fn embed_batch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let texts = texts_from_py(texts)?;
        CallSite::new(py, &self.target, timeout)?.unary(
            "embed_batch",
            texts,
            |py, texts| Ok(vec![PyList::new(py, texts)?.into_any()]),
            |plugin, texts, timeout| async move { EmbedderClient::new(plugin).embed_batch(texts, timeout).await },
            |py, block| Ok(matrix_from_le_bytes(py, &block.little_endian, block.rows, block.dimension)?.unbind()),
        )
    }

    #[pyo3(signature = (*, timeout=None))]
    fn info<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "embedder_info",
            (),
            no_args,
            |plugin, (), timeout| async move { EmbedderClient::new(plugin).embedder_info(timeout).await },
            |py, info| Ok(Py::new(py, EmbedderInfo::from(info))?.into_any()),
        )
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        callee::health(py, &self.target, timeout)
    }

    fn __repr__(&self) -> String {
        format!("EmbedderClient(name={:?})", self.target.name())
    }
}
