//! `DatabaseClient`: Python face of [`hector_plugins_host::clients::database::DatabaseClient`].

use crate::callee::{no_args, CallSite, PyTarget};
use crate::types::{
    create_collection_request, results_to_py, search_request, search_to_py, upsert_request, upsert_requests,
    upsert_to_py, upserts_to_py, HealthStatus, PluginManifest,
};
use hector_plugins_host::clients::database::DatabaseClient;
use hector_plugins_host::proto::hector::{DeleteCollectionRequest, DeleteRequest};
use pyo3::prelude::*;

#[pyclass(module = "hector_plugins", frozen, name = "DatabaseClient")]
pub struct PyDatabaseClient {
    pub target: PyTarget,
}

/// Calls that answer nothing return None.
fn none(py: Python<'_>, (): ()) -> PyResult<Py<PyAny>> {
    Ok(py.None())
}

#[pymethods]
impl PyDatabaseClient {
    /// The name the client was obtained for.
    #[getter]
    fn name(&self) -> String {
        self.target.name().to_string()
    }

    #[pyo3(signature = (collection, id, vector, metadata=None, *, timeout=None))]
    fn upsert<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        id: String,
        vector: &Bound<'py, PyAny>,
        metadata: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = upsert_request(collection, id, vector, metadata)?;
        CallSite::new(py, &self.target, timeout)?.unary(
            "upsert",
            request,
            upsert_to_py,
            |plugin, request, timeout| async move { DatabaseClient::new(plugin).upsert(request, timeout).await },
            none,
        )
    }

    /// One `Upsert` per entry, several in flight at once (the core bounds how many).
    #[pyo3(signature = (collection, ids, vectors, metadatas=None, *, timeout=None))]
    fn upsert_many<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        ids: &Bound<'py, PyAny>,
        vectors: &Bound<'py, PyAny>,
        metadatas: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let requests = (collection.clone(), upsert_requests(collection, ids, vectors, metadatas)?);
        CallSite::new(py, &self.target, timeout)?.unary(
            "upsert_many",
            requests,
            upserts_to_py,
            |plugin, (_, requests), timeout| async move {
                DatabaseClient::new(plugin).upsert_many(requests, timeout).await
            },
            none,
        )
    }

    #[pyo3(signature = (collection, vector, top_k=10, *, filter=None, timeout=None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        vector: &Bound<'py, PyAny>,
        top_k: i64,
        filter: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = search_request(collection, vector, top_k, filter)?;
        CallSite::new(py, &self.target, timeout)?.unary(
            "search",
            request,
            search_to_py,
            |plugin, request, timeout| async move { DatabaseClient::new(plugin).search(request, timeout).await },
            results_to_py,
        )
    }

    #[pyo3(signature = (collection, id, *, timeout=None))]
    fn delete<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        id: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "delete",
            DeleteRequest { collection, id },
            |py, request| {
                Ok(vec![request.collection.into_pyobject(py)?.into_any(), request.id.into_pyobject(py)?.into_any()])
            },
            |plugin, request, timeout| async move { DatabaseClient::new(plugin).delete(request, timeout).await },
            none,
        )
    }

    #[pyo3(signature = (collection, vector_size, *, timeout=None))]
    fn create_collection<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        vector_size: i64,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = create_collection_request(collection, vector_size)?;
        CallSite::new(py, &self.target, timeout)?.unary(
            "create_collection",
            request,
            |py, request| {
                let collection = request.collection.into_pyobject(py)?.into_any();
                Ok(vec![collection, request.vector_size.into_pyobject(py)?.into_any()])
            },
            |plugin, request, timeout| async move {
                DatabaseClient::new(plugin).create_collection(request, timeout).await
            },
            none,
        )
    }

    #[pyo3(signature = (collection, *, timeout=None))]
    fn delete_collection<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "delete_collection",
            DeleteCollectionRequest { collection },
            |py, request| Ok(vec![request.collection.into_pyobject(py)?.into_any()]),
            |plugin, request, timeout| async move {
                DatabaseClient::new(plugin).delete_collection(request, timeout).await
            },
            none,
        )
    }

    /// What the plugin says about itself (`GetManifest`).
    #[pyo3(signature = (*, timeout=None))]
    fn info<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "database_info",
            (),
            no_args,
            |plugin, (), timeout| async move { DatabaseClient::new(plugin).manifest(timeout).await },
            |py, manifest| Ok(Py::new(py, PluginManifest::from(manifest))?.into_any()),
        )
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "health",
            (),
            no_args,
            |plugin, (), timeout| async move { DatabaseClient::new(plugin).health(timeout).await },
            |py, health| Ok(Py::new(py, HealthStatus::from(health))?.into_any()),
        )
    }

    fn __repr__(&self) -> String {
        format!("DatabaseClient(name={:?})", self.target.name())
    }
}
