//! Reasoning strategies: `hector.plugin.ReasoningStrategy` (docs/protocol.md §7.8). The host
//! sends the whole [`pb::ReasoningState`] with every call; the strategy keeps nothing between
//! calls and carries its own data in `custom_state_json`.

use super::adapter::{answer, served_service, Served};
use super::{Lifecycle, PluginError};
use crate::proto::hector as pb;
use crate::proto::hector::reasoning_strategy_server::{ReasoningStrategy, ReasoningStrategyServer};
use crate::{MessageLimits as _, SdkError, ServeOptions};
use tonic::{Request, Response, Status};

/// A reasoning strategy. Only [`should_stop`](Self::should_stop) and [`info`](Self::info) are
/// required; the other hooks default to doing nothing and keeping the custom state.
///
/// ```no_run
/// use hector_plugins_sdk::plugin::{serve_reasoning, Lifecycle, PluginError, ReasoningPlugin};
/// use hector_plugins_sdk::proto::hector::{ReasoningState, StopDecision, StrategyInfo};
///
/// /// Stops when the model called no tool, or after 5 iterations.
/// struct UntilAnswered;
///
/// impl Lifecycle for UntilAnswered {}
///
/// #[tonic::async_trait]
/// impl ReasoningPlugin for UntilAnswered {
///     async fn info(&self) -> Result<StrategyInfo, PluginError> {
///         Ok(StrategyInfo { name: "until-answered".into(), ..Default::default() })
///     }
///
///     async fn should_stop(&self, state: ReasoningState) -> Result<StopDecision, PluginError> {
///         let stop = state.tool_calls.is_empty() || state.iteration >= 5;
///         let reason = if stop { "answered or out of iterations" } else { "" };
///         Ok(StopDecision { stop, reason: reason.into(), custom_state_json: state.custom_state_json, ..Default::default() })
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), hector_plugins_sdk::SdkError> {
///     serve_reasoning(UntilAnswered).await
/// }
/// ```
#[tonic::async_trait]
pub trait ReasoningPlugin: Lifecycle {
    /// The strategy's name, description and the tools it needs.
    async fn info(&self) -> Result<pb::StrategyInfo, PluginError>;

    /// Before an iteration: messages to inject. Default: none, custom state kept.
    async fn prepare_iteration(&self, state: pb::ReasoningState) -> Result<pb::IterationPlan, PluginError> {
        Ok(pb::IterationPlan { custom_state_json: state.custom_state_json, ..Default::default() })
    }

    /// After an iteration: whether the run is over.
    async fn should_stop(&self, state: pb::ReasoningState) -> Result<pb::StopDecision, PluginError>;

    /// After an iteration: the new custom state. Default: kept.
    async fn after_iteration(&self, state: pb::ReasoningState) -> Result<pb::StateUpdate, PluginError> {
        Ok(pb::StateUpdate { custom_state_json: state.custom_state_json, ..Default::default() })
    }

    /// Text added to the system prompt. Default: none.
    async fn context_injection(&self, state: pb::ReasoningState) -> Result<pb::ContextInjection, PluginError> {
        let _ = state;
        Ok(pb::ContextInjection::default())
    }

    /// The prompt's parts this strategy fills. Default: none.
    async fn prompt_slots(&self) -> Result<pb::PromptSlots, PluginError> {
        Ok(pb::PromptSlots::default())
    }
}

/// Serves `plugin` with Hector's default options until the host stops it (see [`crate::serve`]).
pub async fn serve_reasoning(plugin: impl ReasoningPlugin) -> Result<(), SdkError> {
    let service = ReasoningStrategyServer::new(Served::new(plugin)).with_large_messages();
    crate::serve(ServeOptions::default(), tonic::transport::Server::builder().add_service(service)).await
}

served_service!(ReasoningStrategy for ReasoningPlugin, "reasoning_strategy", {

    async fn get_strategy_info(&self, _request: Request<pb::Empty>) -> Result<Response<pb::StrategyInfo>, Status> {
        answer(self.plugin.info().await)
    }

    async fn prepare_iteration(
        &self,
        request: Request<pb::ReasoningState>,
    ) -> Result<Response<pb::IterationPlan>, Status> {
        answer(self.plugin.prepare_iteration(request.into_inner()).await)
    }

    async fn should_stop(&self, request: Request<pb::ReasoningState>) -> Result<Response<pb::StopDecision>, Status> {
        answer(self.plugin.should_stop(request.into_inner()).await)
    }

    async fn after_iteration(&self, request: Request<pb::ReasoningState>) -> Result<Response<pb::StateUpdate>, Status> {
        answer(self.plugin.after_iteration(request.into_inner()).await)
    }

    async fn get_context_injection(
        &self,
        request: Request<pb::ReasoningState>,
    ) -> Result<Response<pb::ContextInjection>, Status> {
        answer(self.plugin.context_injection(request.into_inner()).await)
    }

    async fn get_prompt_slots(&self, _request: Request<pb::Empty>) -> Result<Response<pb::PromptSlots>, Status> {
        answer(self.plugin.prompt_slots().await)
    }
});
