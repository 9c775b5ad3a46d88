//! `embedder-rust`: a Hector embedder plugin written with the hector-plugins SDK.
//!
//! Vectors are deterministic hashed character-trigram embeddings (`embedding.rs`), the same bit
//! for bit as its Go twin's (`examples/go/embedder`), which serves `Embed` only: a host gets the
//! same vectors from this plugin's `EmbedBatch` and from the Go one through per-text `Embed` calls.
//!
//! - `Embed`: the vector of the text. An empty text is refused with the status UNKNOWN (what an
//!   in-band `error` becomes), a text longer than `max_text_bytes` with INVALID_ARGUMENT.
//! - `EmbedBatch`: the vectors of every text (the SDK packs them end to end, with the
//!   dimension); the same refusals, naming the text (`texts[3] ...`).
//! - `GetEmbedderInfo`: model `ngram-hash-3` and the dimension.
//!
//! Config keys (optional): `dimension` (default 384) and `max_text_bytes` (default 8192),
//! positive integers; anything else fails `Initialize`.
//!
//! Built with `cargo build --release -p embedder-rust`; launched by a host, never by hand.

mod embedding;

use std::collections::HashMap;
use std::sync::Mutex;

use hector_plugins_sdk::proto::hector::{EmbedderInfo, ManifestResponse};
use hector_plugins_sdk::{self as sdk, json, EmbedderPlugin, Lifecycle, Logger, PluginError};

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

struct Embedder {
    log: Logger,
    settings: Mutex<Settings>,
}

impl Embedder {
    fn settings(&self) -> Settings {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why `text` cannot be embedded, if it cannot; `what` names it in the message. An empty text
/// is the call's failure (UNKNOWN, as an in-band error would be); a text too long, INVALID_ARGUMENT.
fn refusal(text: &str, what: impl Fn() -> String, settings: Settings) -> Option<PluginError> {
    if text.is_empty() {
        return Some(PluginError::new(format!("{} is empty: cannot embed an empty text", what())));
    }
    if text.len() > settings.max_text_bytes {
        return Some(PluginError::invalid_argument(format!(
            "{} has {} bytes, more than max_text_bytes ({})",
            what(),
            text.len(),
            settings.max_text_bytes
        )));
    }
    None
}

#[tonic::async_trait]
impl Lifecycle for Embedder {
    async fn initialize(&self, config: HashMap<String, String>) -> Result<(), PluginError> {
        let settings = Settings::from_config(&config).map_err(PluginError::invalid_argument)?;
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
        self.log.info("embedder initialized", &[("dimension", json!(settings.dimension))]);
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), PluginError> {
        self.log.info("embedder shutdown requested", &[]);
        Ok(())
    }

    async fn health(&self) -> Result<String, PluginError> {
        Ok("ok".into())
    }

    fn manifest(&self) -> ManifestResponse {
        ManifestResponse {
            name: NAME.into(),
            version: VERSION.into(),
            author: "hector-plugins".into(),
            description: "Embedder plugin written in Rust with the hector-plugins SDK".into(),
            r#type: "embedder_provider".into(),
            protocol: "grpc".into(),
            hector_version: ">=0.1.0".into(),
            capabilities: HashMap::from([("dimension".to_string(), self.settings().dimension.to_string())]),
        }
    }
}

#[tonic::async_trait]
impl EmbedderPlugin for Embedder {
    async fn embed(&self, text: String) -> Result<Vec<f32>, PluginError> {
        let settings = self.settings();
        match refusal(&text, || "the text".into(), settings) {
            None => Ok(embedding::embed(&text, settings.dimension)),
            Some(error) => Err(error),
        }
    }

    async fn embed_batch(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
        let settings = self.settings();
        if let Some(error) =
            texts.iter().enumerate().find_map(|(index, text)| refusal(text, || format!("texts[{index}]"), settings))
        {
            return Err(error);
        }
        Ok(texts.iter().map(|text| embedding::embed(text, settings.dimension)).collect())
    }

    async fn info(&self) -> Result<EmbedderInfo, PluginError> {
        let dimension = i32::try_from(self.settings().dimension).expect("at most LARGEST_DIMENSION");
        Ok(EmbedderInfo { model_name: MODEL.into(), dimension })
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
