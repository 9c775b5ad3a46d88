//! `hector.plugin.EmbedderProvider` values (docs/protocol.md §7.5): the texts going in and what
//! the embedder says about itself. Vectors coming back are float32 blocks (`vectors.rs`).

use super::type_name;
use crate::errors::{config_error, type_error};
use hector_plugins_host::proto::hector as pb;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

#[pyclass(module = "hector_plugins", frozen, get_all, eq)]
#[derive(Debug, PartialEq)]
pub struct EmbedderInfo {
    pub model_name: String,
    pub dimension: i32,
}

#[pymethods]
impl EmbedderInfo {
    /// For in-process providers and tests.
    #[new]
    #[pyo3(signature = (model_name="".to_string(), dimension=0))]
    fn py_new(model_name: String, dimension: i32) -> Self {
        EmbedderInfo { model_name, dimension }
    }

    fn __repr__(&self) -> String {
        format!("EmbedderInfo(model_name={:?}, dimension={})", self.model_name, self.dimension)
    }
}

impl From<&EmbedderInfo> for pb::EmbedderInfo {
    fn from(info: &EmbedderInfo) -> Self {
        pb::EmbedderInfo { model_name: info.model_name.clone(), dimension: info.dimension }
    }
}

impl From<pb::EmbedderInfo> for EmbedderInfo {
    fn from(info: pb::EmbedderInfo) -> Self {
        EmbedderInfo { model_name: info.model_name, dimension: info.dimension }
    }
}

/// The text of `embed(text)`.
pub fn text_from_py(value: &Bound<'_, PyAny>) -> PyResult<String> {
    str_from_py(value, "text")
}

/// The texts of `embed_batch(texts)`: any iterable of str but a str itself, at least one.
pub fn texts_from_py(value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(type_error(format!(
            "texts must be a list of str, not a {} (use [text] for one text)",
            type_name(value)
        )));
    }
    let items =
        value.try_iter().map_err(|_| type_error(format!("texts must be a list of str, not {}", type_name(value))))?;
    let texts =
        items.enumerate().map(|(i, item)| str_from_py(&item?, &format!("texts[{i}]"))).collect::<PyResult<Vec<_>>>()?;
    if texts.is_empty() {
        return Err(config_error("texts is empty: embed_batch needs at least one text"));
    }
    Ok(texts)
}

fn str_from_py(value: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let text =
        value.cast::<PyString>().map_err(|_| type_error(format!("{what} must be a str, not {}", type_name(value))))?;
    Ok(text.to_cow()?.into_owned())
}
