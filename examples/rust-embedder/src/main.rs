//! `embedder-rust`: a Hector embedder plugin written with the hector-plugins SDK.
//!
//! Vectors are deterministic hashed character-trigram embeddings (`embedding.rs`), the same bit
//! for bit as its Go twin's (`examples/go/embedder`), which serves `Embed` only: a host gets the
//! same vectors from this plugin's `EmbedBatch` and from the Go one through per-text `Embed` calls.
//!
//! - `Embed`: the vector of the text. An empty text is refused in-band (`error`), a text longer
//!   than `max_text_bytes` with the status INVALID_ARGUMENT.
//! - `EmbedBatch`: the vectors of every text, packed end to end, with the dimension; the same
//!   refusals, naming the text (`texts[3] ...`).
//! - `GetEmbedderInfo`: model `ngram-hash-3` and the dimension.
//!
//! Config keys (optional): `dimension` (default 384) and `max_text_bytes` (default 8192),
//! positive integers; anything else fails `Initialize`.
//!
//! Built with `cargo build --release -p embedder-rust`; launched by a host, never by hand.

mod embedding;

use std::collections::HashMap;
use std::sync::Mutex;

use hector_plugins_sdk::proto::hector::embedder_provider_server::EmbedderProvider;
use hector_plugins_sdk::proto::hector::{
    EmbedBatchRequest, EmbedBatchResponse, EmbedRequest, EmbedResponse, EmbedderInfo, Empty, HealthRequest,
    HealthResponse, InitializeRequest, InitializeResponse, ManifestRequest, ManifestResponse, ShutdownRequest,
    ShutdownResponse, StatusRequest, StatusResponse,
};
use hector_plugins_sdk::{self as sdk, json, Logger};
use tonic::{Request, Response, Status};

const NAME: &str = "embedder-rust";
const VERSION: &str = "1.0.0";
const MODEL: &str = "ngram-hash-3";
const LARGEST_DIMENSION: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Settings {
    dimension: usize,
    max_text_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { dimension: 384, max_text_bytes: 8192 }
    }
}

impl Settings {
    fn from_config(config: &HashMap<String, String>) -> Result<Settings, String> {
        let defaults = Settings::default();
        Ok(Settings {
            dimension: positive(config, "dimension", defaults.dimension, LARGEST_DIMENSION)?,
            max_text_bytes: positive(config, "max_text_bytes", defaults.max_text_bytes, usize::MAX)?,
        })
    }
}

fn positive(config: &HashMap<String, String>, key: &str, default: usize, largest: usize) -> Result<usize, String> {
    let Some(raw) = config.get(key) else { return Ok(default) };
    match raw.trim().parse::<usize>() {
        Ok(value) if value > 0 && value <= largest => Ok(value),
        _ => Err(format!("{key} must be an integer from 1 to {largest}, got {raw:?}")),
    }
}

/// Why a text cannot be embedded: in the answer's `error` field, or as a gRPC status.
enum Refusal {
    InBand(String),
    Status(Status),
}

struct Embedder {
    log: Logger,
    settings: Mutex<Settings>,
}

impl Embedder {
    fn settings(&self) -> Settings {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why `text` cannot be embedded, if it cannot; `what` names it in the message.
fn refusal(text: &str, what: impl Fn() -> String, settings: Settings) -> Option<Refusal> {
    if text.is_empty() {
        return Some(Refusal::InBand(format!("{} is empty: cannot embed an empty text", what())));
    }
    if text.len() > settings.max_text_bytes {
        return Some(Refusal::Status(Status::invalid_argument(format!(
            "{} has {} bytes, more than max_text_bytes ({})",
            what(),
            text.len(),
            settings.max_text_bytes
        ))));
    }
    None
}

#[tonic::async_trait]
impl EmbedderProvider for Embedder {
    async fn initialize(&self, request: Request<InitializeRequest>) -> Result<Response<InitializeResponse>, Status> {
        match Settings::from_config(&request.into_inner().config) {
            Ok(settings) => {
                *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
                self.log.info("embedder initialized", &[("dimension", json!(settings.dimension))]);
                Ok(Response::new(InitializeResponse { success: true, error: String::new() }))
            }
            Err(error) => Ok(Response::new(InitializeResponse { success: false, error })),
        }
    }

    async fn shutdown(&self, _request: Request<ShutdownRequest>) -> Result<Response<ShutdownResponse>, Status> {
        self.log.info("embedder shutdown requested", &[]);
        Ok(Response::new(ShutdownResponse { success: true, error: String::new() }))
    }

    async fn health(&self, _request: Request<HealthRequest>) -> Result<Response<HealthResponse>, Status> {
        Ok(Response::new(HealthResponse { healthy: true, message: "ok".into() }))
    }

    async fn get_manifest(&self, _request: Request<ManifestRequest>) -> Result<Response<ManifestResponse>, Status> {
        Ok(Response::new(ManifestResponse {
            name: NAME.into(),
            version: VERSION.into(),
            author: "hector-plugins".into(),
            description: "Embedder plugin written in Rust with the hector-plugins SDK".into(),
            r#type: "embedder_provider".into(),
            protocol: "grpc".into(),
            hector_version: ">=0.1.0".into(),
            capabilities: HashMap::from([("dimension".to_string(), self.settings().dimension.to_string())]),
        }))
    }

    async fn get_status(&self, _request: Request<StatusRequest>) -> Result<Response<StatusResponse>, Status> {
        Ok(Response::new(StatusResponse { status: "ready".into() }))
    }

    async fn embed(&self, request: Request<EmbedRequest>) -> Result<Response<EmbedResponse>, Status> {
        let text = request.into_inner().text;
        let settings = self.settings();
        match refusal(&text, || "the text".into(), settings) {
            None => Ok(Response::new(EmbedResponse {
                vector: embedding::embed(&text, settings.dimension),
                error: String::new(),
            })),
            Some(Refusal::InBand(error)) => Ok(Response::new(EmbedResponse { vector: Vec::new(), error })),
            Some(Refusal::Status(status)) => Err(status),
        }
    }

    async fn embed_batch(&self, request: Request<EmbedBatchRequest>) -> Result<Response<EmbedBatchResponse>, Status> {
        let texts = request.into_inner().texts;
        let settings = self.settings();
        for (index, text) in texts.iter().enumerate() {
            match refusal(text, || format!("texts[{index}]"), settings) {
                None => {}
                Some(Refusal::InBand(error)) => {
                    return Ok(Response::new(EmbedBatchResponse { vectors: Vec::new(), dimension: 0, error }))
                }
                Some(Refusal::Status(status)) => return Err(status),
            }
        }
        // Every vector written in place into the one buffer the answer carries.
        let mut vectors = vec![0f32; texts.len() * settings.dimension];
        for (text, vector) in texts.iter().zip(vectors.chunks_exact_mut(settings.dimension)) {
            embedding::embed_into(text, vector);
        }
        let dimension = i32::try_from(settings.dimension).expect("at most LARGEST_DIMENSION");
        Ok(Response::new(EmbedBatchResponse { vectors, dimension, error: String::new() }))
    }

    async fn get_embedder_info(&self, _request: Request<Empty>) -> Result<Response<EmbedderInfo>, Status> {
        let dimension = i32::try_from(self.settings().dimension).expect("at most LARGEST_DIMENSION");
        Ok(Response::new(EmbedderInfo { model_name: MODEL.into(), dimension }))
    }
}

#[tokio::main]
async fn main() -> Result<(), sdk::SdkError> {
    let embedder = Embedder { log: Logger::named("embedder"), settings: Mutex::new(Settings::default()) };
    sdk::serve_embedder(embedder).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn settings_come_from_the_config_or_defaults() {
        assert_eq!(Settings::from_config(&config(&[])), Ok(Settings::default()));
        let set = Settings::from_config(&config(&[("dimension", " 64 "), ("max_text_bytes", "10")]));
        assert_eq!(set, Ok(Settings { dimension: 64, max_text_bytes: 10 }));
        for bad in ["0", "-3", "x", "65537"] {
            let error = Settings::from_config(&config(&[("dimension", bad)])).unwrap_err();
            assert!(error.starts_with("dimension must be an integer from 1 to 65536"), "{error}");
        }
    }
}
