//! `ReasoningClient`: Python face of [`hector_plugins_host::clients::reasoning::ReasoningClient`].

use crate::callee::{no_args, CallSite, PyTarget};
use crate::types::{HealthStatus, IterationPlan, PromptSlots, ReasoningState, StopDecision, StrategyInfo};
use hector_plugins_host::clients::reasoning::ReasoningClient;
use hector_plugins_host::proto::hector as pb;
use pyo3::prelude::*;

/// The in-process argument of a hook: the state, as the `ReasoningState` the caller built.
fn state_arg<'py>(py: Python<'py>, state: pb::ReasoningState) -> PyResult<Vec<Bound<'py, PyAny>>> {
    Ok(vec![Bound::new(py, ReasoningState::from(state))?.into_any()])
}

#[pyclass(module = "hector_plugins", frozen, name = "ReasoningClient")]
pub struct PyReasoningClient {
    pub target: PyTarget,
}

#[pymethods]
impl PyReasoningClient {
    /// The plugin's name.
    #[getter]
    fn name(&self) -> String {
        self.target.name().to_string()
    }

    #[pyo3(signature = (*, timeout=None))]
    fn info<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "strategy_info",
            (),
            no_args,
            |plugin, (), timeout| async move { ReasoningClient::new(plugin).info(timeout).await },
            |py, info| Ok(Py::new(py, StrategyInfo::from(info))?.into_any()),
        )
    }

    #[pyo3(signature = (state, *, timeout=None))]
    fn prepare_iteration<'py>(
        &self,
        py: Python<'py>,
        state: &Bound<'py, ReasoningState>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "prepare_iteration",
            state.get().to_proto(),
            state_arg,
            |plugin, state, timeout| async move { ReasoningClient::new(plugin).prepare_iteration(state, timeout).await },
            |py, plan| Ok(Py::new(py, IterationPlan::from(plan))?.into_any()),
        )
    }

    #[pyo3(signature = (state, *, timeout=None))]
    fn should_stop<'py>(
        &self,
        py: Python<'py>,
        state: &Bound<'py, ReasoningState>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "should_stop",
            state.get().to_proto(),
            state_arg,
            |plugin, state, timeout| async move { ReasoningClient::new(plugin).should_stop(state, timeout).await },
            |py, decision| Ok(Py::new(py, StopDecision::from(decision))?.into_any()),
        )
    }

    /// The strategy's updated custom state, as JSON text ("" for none).
    #[pyo3(signature = (state, *, timeout=None))]
    fn after_iteration<'py>(
        &self,
        py: Python<'py>,
        state: &Bound<'py, ReasoningState>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "after_iteration",
            state.get().to_proto(),
            state_arg,
            |plugin, state, timeout| async move { ReasoningClient::new(plugin).after_iteration(state, timeout).await },
            |py, update| Ok(update.custom_state_json.into_pyobject(py)?.into_any().unbind()),
        )
    }

    /// Text to add to the model's context for this iteration ("" for none).
    #[pyo3(signature = (state, *, timeout=None))]
    fn context_injection<'py>(
        &self,
        py: Python<'py>,
        state: &Bound<'py, ReasoningState>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "context_injection",
            state.get().to_proto(),
            state_arg,
            |plugin, state, timeout| async move { ReasoningClient::new(plugin).context_injection(state, timeout).await },
            |py, injection| Ok(injection.text.into_pyobject(py)?.into_any().unbind()),
        )
    }

    #[pyo3(signature = (*, timeout=None))]
    fn prompt_slots<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "prompt_slots",
            (),
            no_args,
            |plugin, (), timeout| async move { ReasoningClient::new(plugin).prompt_slots(timeout).await },
            |py, slots| Ok(Py::new(py, PromptSlots::from(slots))?.into_any()),
        )
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "health",
            (),
            no_args,
            |plugin, (), timeout| async move { ReasoningClient::new(plugin).health(timeout).await },
            |py, health| Ok(Py::new(py, HealthStatus::from(health))?.into_any()),
        )
    }

    fn __repr__(&self) -> String {
        format!("ReasoningClient(name={:?})", self.target.name())
    }
}
