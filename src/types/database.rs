//! `hector.plugin.DatabaseProvider` values (docs/protocol.md §7.4): the requests built from
//! Python arguments, and `SearchResult`. Vectors go through `vectors.rs`: no Python float per
//! element either way.

use super::type_name;
use super::vectors::{vector_from_py, vector_to_py, vectors_from_py};
use crate::errors::{config_error, type_error};
use hector_plugins_host::proto::hector as pb;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping, PyString};
use std::collections::HashMap;

/// One match of a search.
#[pyclass(module = "hector_plugins", frozen)]
#[derive(Debug)]
pub struct SearchResult {
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    score: f32,
    #[pyo3(get)]
    content: String,
    vector: Vec<f32>,
    metadata: HashMap<String, String>,
    #[pyo3(get)]
    model_name: String,
}

#[pymethods]
impl SearchResult {
    /// For in-process providers and tests; `vector` and `metadata` are checked as for `upsert`.
    #[new]
    #[pyo3(signature = (id, score, content="".to_string(), vector=None, metadata=None, model_name="".to_string()))]
    fn py_new(
        id: String,
        score: f32,
        content: String,
        vector: Option<&Bound<'_, PyAny>>,
        metadata: Option<&Bound<'_, PyAny>>,
        model_name: String,
    ) -> PyResult<Self> {
        let vector = vector.map(|v| vector_from_py(v, "vector")).transpose()?.unwrap_or_default();
        Ok(SearchResult { id, score, content, vector, metadata: metadata_from_py(metadata, "metadata")?, model_name })
    }

    /// The stored vector as a float32 block of shape `(dim,)` (a new one per access), or None
    /// when the plugin sent none.
    #[getter]
    fn vector<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if self.vector.is_empty() {
            return Ok(None);
        }
        vector_to_py(py, &self.vector).map(Some)
    }

    /// The entry's metadata (a new dict per access).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        metadata_to_py(py, &self.metadata)
    }

    fn __repr__(&self) -> String {
        format!("SearchResult(id={:?}, score={}, content={:?})", self.id, self.score, self.content)
    }
}

impl From<&SearchResult> for pb::SearchResult {
    fn from(r: &SearchResult) -> Self {
        pb::SearchResult {
            id: r.id.clone(),
            score: r.score,
            content: r.content.clone(),
            vector: r.vector.clone(),
            metadata: r.metadata.clone(),
            model_name: r.model_name.clone(),
        }
    }
}

impl From<pb::SearchResult> for SearchResult {
    fn from(r: pb::SearchResult) -> Self {
        SearchResult {
            id: r.id,
            score: r.score,
            content: r.content,
            vector: r.vector,
            metadata: r.metadata,
            model_name: r.model_name,
        }
    }
}

/// Metadata from Python: None, or a mapping of str to str. Other values are refused rather than
/// stringified: the plugin would hand back `"2024"` for `2024`, and a filter on it would have to
/// guess the spelling (docs/python-api.md).
pub fn metadata_from_py(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<HashMap<String, String>> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(HashMap::new()) };
    let mapping = value
        .cast::<PyMapping>()
        .map_err(|_| type_error(format!("{what} must be a dict of str to str, not {}", type_name(value))))?;
    let mut metadata = HashMap::with_capacity(mapping.len()?);
    for item in mapping.items()?.iter() {
        let (key, entry): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let key = key
            .cast::<PyString>()
            .map_err(|_| type_error(format!("{what} keys must be str, not {} ({key:?})", type_name(&key))))?
            .to_cow()?
            .into_owned();
        let entry = entry.cast::<PyString>().map_err(|_| {
            type_error(format!(
                "{what}[{key:?}] must be a str, not {} (metadata travels as strings: pass str(value) to store it)",
                type_name(&entry)
            ))
        })?;
        metadata.insert(key, entry.to_cow()?.into_owned());
    }
    Ok(metadata)
}

pub(crate) fn metadata_to_py<'py>(py: Python<'py>, metadata: &HashMap<String, String>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in metadata {
        dict.set_item(key, value)?;
    }
    Ok(dict)
}

pub fn upsert_request(
    collection: String,
    id: String,
    vector: &Bound<'_, PyAny>,
    metadata: Option<&Bound<'_, PyAny>>,
) -> PyResult<pb::UpsertRequest> {
    Ok(pb::UpsertRequest {
        collection,
        id,
        vector: vector_from_py(vector, "vector")?,
        metadata: metadata_from_py(metadata, "metadata")?,
    })
}

/// The entries of `upsert_many`: as many ids as vectors (and metadata dicts, when given).
pub fn upsert_requests(
    collection: String,
    ids: &Bound<'_, PyAny>,
    vectors: &Bound<'_, PyAny>,
    metadatas: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<pb::UpsertRequest>> {
    let ids = strings_from_py(ids, "ids")?;
    let vectors = vectors_from_py(vectors, "vectors")?;
    if vectors.len() != ids.len() {
        return Err(config_error(format!(
            "{} ids but {} vectors: upsert_many needs one vector per id",
            ids.len(),
            vectors.len()
        )));
    }
    let metadatas = match metadatas.filter(|m| !m.is_none()) {
        None => vec![HashMap::new(); ids.len()],
        Some(items) => {
            let items = list_from_py(items, "metadatas")?;
            if items.len() != ids.len() {
                let message = format!("{} ids but {} metadatas: pass one dict per id, or none", ids.len(), items.len());
                return Err(config_error(message));
            }
            let each = items.iter().enumerate().map(|(i, m)| metadata_from_py(Some(m), &format!("metadatas[{i}]")));
            each.collect::<PyResult<Vec<_>>>()?
        }
    };
    let entries = ids.into_iter().zip(vectors).zip(metadatas);
    Ok(entries
        .map(|((id, vector), metadata)| pb::UpsertRequest { collection: collection.clone(), id, vector, metadata })
        .collect())
}

pub fn search_request(
    collection: String,
    vector: &Bound<'_, PyAny>,
    top_k: i64,
    filter: Option<&Bound<'_, PyAny>>,
) -> PyResult<pb::SearchRequest> {
    let top_k = i32::try_from(top_k)
        .ok()
        .filter(|k| *k > 0)
        .ok_or_else(|| config_error(format!("top_k must be a positive number below 2**31, not {top_k}")))?;
    Ok(pb::SearchRequest {
        collection,
        vector: vector_from_py(vector, "vector")?,
        top_k,
        filter: metadata_from_py(filter, "filter")?,
    })
}

pub fn create_collection_request(collection: String, vector_size: i64) -> PyResult<pb::CreateCollectionRequest> {
    let vector_size = u64::try_from(vector_size)
        .ok()
        .filter(|size| *size > 0)
        .ok_or_else(|| config_error(format!("vector_size must be a positive number, not {vector_size}")))?;
    Ok(pb::CreateCollectionRequest { collection, vector_size })
}

/// The in-process arguments of `upsert`: `collection, id, vector, metadata`.
pub fn upsert_to_py<'py>(py: Python<'py>, request: pb::UpsertRequest) -> PyResult<Vec<Bound<'py, PyAny>>> {
    Ok(vec![
        request.collection.into_pyobject(py)?.into_any(),
        request.id.into_pyobject(py)?.into_any(),
        vector_to_py(py, &request.vector)?,
        metadata_to_py(py, &request.metadata)?.into_any(),
    ])
}

/// The in-process arguments of `upsert_many`: `collection, ids, vectors, metadatas` (lists).
pub fn upserts_to_py<'py>(
    py: Python<'py>,
    (collection, requests): (String, Vec<pb::UpsertRequest>),
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let (mut ids, mut vectors, mut metadatas) = (Vec::new(), Vec::new(), Vec::new());
    for request in requests {
        vectors.push(vector_to_py(py, &request.vector)?);
        metadatas.push(metadata_to_py(py, &request.metadata)?);
        ids.push(request.id);
    }
    Ok(vec![
        collection.into_pyobject(py)?.into_any(),
        ids.into_pyobject(py)?.into_any(),
        vectors.into_pyobject(py)?.into_any(),
        metadatas.into_pyobject(py)?.into_any(),
    ])
}

/// The in-process arguments of `search`: `collection, vector, top_k, filter`.
pub fn search_to_py<'py>(py: Python<'py>, request: pb::SearchRequest) -> PyResult<Vec<Bound<'py, PyAny>>> {
    Ok(vec![
        request.collection.into_pyobject(py)?.into_any(),
        vector_to_py(py, &request.vector)?,
        request.top_k.into_pyobject(py)?.into_any(),
        metadata_to_py(py, &request.filter)?.into_any(),
    ])
}

/// Search results as the list `search` returns.
pub fn results_to_py(py: Python<'_>, results: Vec<pb::SearchResult>) -> PyResult<Py<PyAny>> {
    let results = results.into_iter().map(|r| Py::new(py, SearchResult::from(r))).collect::<PyResult<Vec<_>>>()?;
    Ok(results.into_pyobject(py)?.into_any().unbind())
}

fn list_from_py<'py>(value: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyDict>() {
        return Err(type_error(format!("{what} must be a list, not {}", type_name(value))));
    }
    let items = value.try_iter().map_err(|_| type_error(format!("{what} must be a list, not {}", type_name(value))))?;
    items.collect()
}

fn strings_from_py(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    let items = list_from_py(value, what)?;
    let each = items.iter().enumerate().map(|(i, item)| {
        let text = item
            .cast::<PyString>()
            .map_err(|_| type_error(format!("{what}[{i}] must be a str, not {}", type_name(item))))?;
        Ok(text.to_cow()?.into_owned())
    });
    each.collect()
}
