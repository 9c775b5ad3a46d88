//! Python value classes and their conversion to and from the protobuf messages, one module per
//! service (`llm`, `database`, `embedder`, `tools`, `reasoning`) plus what every plugin has (`common`).
//! Conversion only: no logic lives here.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString};

fn json_function<'py>(py: Python<'py>, name: &'static str) -> PyResult<Bound<'py, PyAny>> {
    static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cell = if name == "dumps" { &DUMPS } else { &LOADS };
    cell.get_or_try_init(py, || PyResult::Ok(py.import("json")?.getattr(name)?.unbind())).map(|f| f.bind(py).clone())
}

/// JSON text of any JSON-able Python value (a str is taken as JSON text already).
pub fn to_json_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.to_cow()?.into_owned());
    }
    json_function(value.py(), "dumps")?.call1((value,))?.extract()
}

/// A Python value → serde_json, through `json.dumps` (which names what is not serializable).
pub fn to_json_value(value: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let text: String = json_function(value.py(), "dumps")?.call1((value,))?.extract()?;
    serde_json::from_str(&text).map_err(|e| crate::errors::config_error(e.to_string()))
}

mod common;
mod database;
mod embedder;
mod llm;
mod reasoning;
mod tools;
pub mod vectors;

pub use common::{HealthStatus, PluginInfo, PluginManifest};
pub use database::*;
pub use embedder::{text_from_py, texts_from_py, EmbedderInfo};
pub use llm::*;
pub use reasoning::*;
pub use tools::*;

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn required_str(dict: &Bound<'_, PyDict>, key: &str, what: &str) -> PyResult<String> {
    match dict.get_item(key)? {
        Some(value) => value.extract().map_err(|_| {
            crate::errors::type_error(format!("{what}[{key:?}] must be a str, not {}", type_name(&value)))
        }),
        None => Err(crate::errors::config_error(format!("{what} needs a {key:?} key"))),
    }
}

fn optional_str(dict: &Bound<'_, PyDict>, key: &str, what: &str) -> PyResult<String> {
    match dict.get_item(key)? {
        Some(value) if !value.is_none() => value.extract().map_err(|_| {
            crate::errors::type_error(format!("{what}[{key:?}] must be a str, not {}", type_name(&value)))
        }),
        _ => Ok(String::new()),
    }
}
