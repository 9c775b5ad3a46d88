//! Typed clients, one per service. Each holds its plugin, checks it is callable, and maps
//! failures to [`crate::Error`] (a crash becomes `Crashed`, never a hang).

pub mod llm;
pub mod raw;

use crate::error::{Error, Result};
use crate::plugin::Plugin;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A server stream whose failures are mapped through the plugin (a crash becomes `Crashed`).
pub(crate) fn map_stream_errors<T: Send + 'static>(
    plugin: &Arc<Plugin>,
    method: &str,
    stream: tonic::Streaming<T>,
) -> BoxStream<'static, Result<T>> {
    let (plugin, method) = (plugin.clone(), method.to_string());
    stream
        .then(move |item| {
            let (plugin, method) = (plugin.clone(), method.clone());
            async move {
                match item {
                    Ok(item) => Ok(item),
                    Err(status) => Err(plugin.call_error(&method, status).await),
                }
            }
        })
        .boxed()
}

/// Runs one call with an optional deadline, mapping its status through the plugin.
pub(crate) async fn call<T, F>(plugin: &Plugin, method: &str, timeout: Option<Duration>, call: F) -> Result<T>
where
    F: Future<Output = Result<T, tonic::Status>>,
{
    plugin.ensure_callable(method)?;
    let outcome = match timeout {
        Some(limit) => match tokio::time::timeout(limit, call).await {
            Ok(outcome) => outcome,
            Err(_) => {
                return Err(Error::Call {
                    plugin: plugin.name.clone(),
                    method: method.into(),
                    code: tonic::Code::DeadlineExceeded,
                    message: format!("no answer within {:.3}s", limit.as_secs_f64()),
                })
            }
        },
        None => call.await,
    };
    match outcome {
        Ok(value) => Ok(value),
        Err(status) => Err(plugin.call_error(method, status).await),
    }
}
