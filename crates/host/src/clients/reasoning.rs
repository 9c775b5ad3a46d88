//! `hector.plugin.ReasoningStrategy` client (docs/protocol.md §7.8). The strategy keeps no
//! state between calls: every hook gets the whole `ReasoningState`. A non-empty `error` in an
//! answer is the strategy's failure and becomes the same error a gRPC status gives.

use super::{call, in_band};
use crate::error::Result;
use crate::plugin::Plugin;
use crate::proto::hector::reasoning_strategy_client::ReasoningStrategyClient;
use crate::proto::hector::{
    ContextInjection, Empty, HealthResponse, IterationPlan, PromptSlots, ReasoningState, StateUpdate, StopDecision,
    StrategyInfo,
};
use crate::transport::{origin, PluginChannel};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct ReasoningClient {
    plugin: Arc<Plugin>,
    grpc: ReasoningStrategyClient<PluginChannel>,
}

impl ReasoningClient {
    pub fn new(plugin: Arc<Plugin>) -> Self {
        let channel = plugin.channel();
        let limit = channel.max_message_bytes();
        let grpc = ReasoningStrategyClient::with_origin(channel, origin())
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        ReasoningClient { plugin, grpc }
    }

    pub async fn info(&self, timeout: Option<Duration>) -> Result<StrategyInfo> {
        let mut grpc = self.grpc.clone();
        call(&self.plugin, "GetStrategyInfo", timeout, async move {
            grpc.get_strategy_info(Empty {}).await.map(|r| r.into_inner())
        })
        .await
    }

    pub async fn prepare_iteration(&self, state: ReasoningState, timeout: Option<Duration>) -> Result<IterationPlan> {
        let mut grpc = self.grpc.clone();
        let plan = call(&self.plugin, "PrepareIteration", timeout, async move {
            grpc.prepare_iteration(state).await.map(|r| r.into_inner())
        })
        .await?;
        in_band(&self.plugin, "PrepareIteration", true, &plan.error)?;
        Ok(plan)
    }

    pub async fn should_stop(&self, state: ReasoningState, timeout: Option<Duration>) -> Result<StopDecision> {
        let mut grpc = self.grpc.clone();
        let decision =
            call(
                &self.plugin,
                "ShouldStop",
                timeout,
                async move { grpc.should_stop(state).await.map(|r| r.into_inner()) },
            )
            .await?;
        in_band(&self.plugin, "ShouldStop", true, &decision.error)?;
        Ok(decision)
    }

    pub async fn after_iteration(&self, state: ReasoningState, timeout: Option<Duration>) -> Result<StateUpdate> {
        let mut grpc = self.grpc.clone();
        let update = call(&self.plugin, "AfterIteration", timeout, async move {
            grpc.after_iteration(state).await.map(|r| r.into_inner())
        })
        .await?;
        in_band(&self.plugin, "AfterIteration", true, &update.error)?;
        Ok(update)
    }

    pub async fn context_injection(
        &self,
        state: ReasoningState,
        timeout: Option<Duration>,
    ) -> Result<ContextInjection> {
        let mut grpc = self.grpc.clone();
        let injection = call(&self.plugin, "GetContextInjection", timeout, async move {
            grpc.get_context_injection(state).await.map(|r| r.into_inner())
        })
        .await?;
        in_band(&self.plugin, "GetContextInjection", true, &injection.error)?;
        Ok(injection)
    }

    pub async fn prompt_slots(&self, timeout: Option<Duration>) -> Result<PromptSlots> {
        let mut grpc = self.grpc.clone();
        call(&self.plugin, "GetPromptSlots", timeout, async move {
            grpc.get_prompt_slots(Empty {}).await.map(|r| r.into_inner())
        })
        .await
    }

    pub async fn health(&self, timeout: Option<Duration>) -> Result<HealthResponse> {
        super::health(&self.plugin, timeout).await
    }
}
