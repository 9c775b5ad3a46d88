//! A quick measurement (not a test): p50 of a unary `Generate` to a plugin with automatic mTLS on
//! and off (docs/protocol.md §3.5). `cargo run --release -p hector-plugins-host --example mtls_p50
//! -- PLUGIN [CALLS]`, e.g. with examples/go/echo-llm built by examples/build_plugins.py.

use hector_plugins_host::clients::llm::LlmClient;
use hector_plugins_host::logs::{LogRecord, LogSink};
use hector_plugins_host::proto::hector::{GenerateRequest, Message};
use hector_plugins_host::security::mtls::MtlsMode;
use hector_plugins_host::{Plugin, PluginKind, PluginSpec};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Discard;

impl LogSink for Discard {
    fn log(&self, _record: LogRecord) {}
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let plugin = args.next().expect("usage: mtls_p50 PLUGIN [CALLS]");
    let calls: usize = args.next().map_or(5000, |n| n.parse().expect("CALLS is a number"));
    let request = GenerateRequest {
        messages: vec![Message { role: "user".into(), content: "hello".into(), ..Default::default() }],
        tools: vec![],
    };
    for round in 0..2 {
        for mode in [MtlsMode::Off, MtlsMode::On] {
            let mut spec = PluginSpec::new(format!("p50-{mode}"), plugin.clone(), PluginKind::Llm);
            spec.connection.mtls = mode;
            let started = Instant::now();
            let plugin = Plugin::start(spec, Arc::new(Discard)).await.expect("the plugin starts");
            let start_ms = started.elapsed().as_secs_f64() * 1e3;
            let llm = LlmClient::new(plugin.clone());
            for _ in 0..calls / 10 {
                llm.generate(request.clone(), None).await.unwrap();
            }
            let mut samples: Vec<Duration> = Vec::with_capacity(calls);
            for _ in 0..calls {
                let t0 = Instant::now();
                llm.generate(request.clone(), None).await.unwrap();
                samples.push(t0.elapsed());
            }
            samples.sort();
            let p50 = samples[calls / 2].as_secs_f64() * 1e6;
            let p99 = samples[calls * 99 / 100].as_secs_f64() * 1e6;
            println!(
                "round {round} mtls={mode}: start {start_ms:.1} ms, p50 {p50:.1} µs, p99 {p99:.1} µs ({calls} calls)"
            );
            plugin.shutdown(plugin.shutdown_grace()).await;
        }
    }
}
