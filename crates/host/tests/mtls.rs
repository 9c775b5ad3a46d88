//! Automatic mTLS (docs/protocol.md §3.5) against real plugin processes: a go-plugin Go plugin
//! (examples/go/echo-llm, built with the go-plugin version of examples/go/go.mod) reached over
//! TLS under `on` and in plaintext on its private socket under `auto`, and the refusals of each
//! rule: `on` without a certificate, `off` with one, plain TCP under `auto`, and a printed
//! certificate that is not the plugin's own (or no certificate at all).
//! The other way round, go-plugin's own Go host (benchmarks/go-host) with `AutoMTLS` calls the
//! Rust SDK's example plugin (examples/rust-echo-llm). Go is required: without it these tests
//! fail, they never skip.

// The example plugin's build; the rest of the shared support is for other test files.
#[allow(dead_code)]
mod support;

use base64::Engine as _;
use hector_plugins_host::clients::llm::LlmClient;
use hector_plugins_host::handshake::Address;
use hector_plugins_host::logs::{LogRecord, LogSink};
use hector_plugins_host::peer::PeerPolicy;
use hector_plugins_host::proto::hector::{GenerateRequest, Message};
use hector_plugins_host::security::mtls::{self, MtlsMode};
use hector_plugins_host::transport::{self, ConnectOptions};
use hector_plugins_host::{Plugin, PluginKind, PluginSpec};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Plugin output is not what these tests look at.
struct Discard;

impl LogSink for Discard {
    fn log(&self, _record: LogRecord) {}
}

/// examples/go/echo-llm, built once per test run into the target's scratch directory.
fn go_echo_plugin() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    go_build(&BUILT, "examples/go", "./echo-llm", "mtls-echo-llm-go")
}

/// benchmarks/go-host: go-plugin v1.8.0's host, built once per test run.
fn go_host() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    go_build(&BUILT, "benchmarks/go-host", ".", "mtls-go-host")
}

/// `go build -o <scratch>/<output> <package>` in the Go module at `module` (from the workspace).
fn go_build(
    built: &'static OnceLock<Result<PathBuf, String>>,
    module: &str,
    package: &str,
    output: &str,
) -> &'static Path {
    let built = built.get_or_init(|| {
        let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(module);
        let output = Path::new(env!("CARGO_TARGET_TMPDIR")).join(output);
        let run = Command::new("go")
            .args(["build", "-o"])
            .arg(&output)
            .arg(package)
            .current_dir(&module)
            .output()
            .map_err(|e| format!("cannot run go (Go is required for these tests): {e}"))?;
        if !run.status.success() {
            return Err(format!("go build failed: {}", String::from_utf8_lossy(&run.stderr)));
        }
        Ok(output)
    });
    match built {
        Ok(path) => path,
        Err(e) => panic!("cannot build {module}/{package}: {e}"),
    }
}

fn spec(name: &str, path: &Path, mode: MtlsMode) -> PluginSpec {
    let mut spec = PluginSpec::new(name, path.to_path_buf(), PluginKind::Llm);
    spec.connection.mtls = mode;
    spec.start_timeout = Duration::from_secs(30);
    spec
}

/// The start's error, which must come: these plugins break a rule.
async fn refusal(spec: PluginSpec) -> String {
    match Plugin::start(spec, Arc::new(Discard)).await {
        Ok(plugin) => {
            plugin.shutdown(plugin.shutdown_grace()).await;
            panic!("the plugin {} was accepted", plugin.name)
        }
        Err(e) => e.to_string(),
    }
}

/// A `/bin/sh` plugin written into `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn user(text: &str) -> GenerateRequest {
    GenerateRequest {
        messages: vec![Message { role: "user".into(), content: text.into(), ..Default::default() }],
        tools: vec![],
    }
}

/// Whether a plaintext HTTP/2 client is served on the plugin's socket.
async fn serves_plaintext(plugin: &Plugin) -> bool {
    let address = plugin.status().address;
    let socket = PathBuf::from(address.strip_prefix("unix:").expect("a unix address"));
    let options = ConnectOptions::new(PeerPolicy::Unchecked);
    match transport::connect(&Address::Unix(socket), &options, Duration::from_secs(10)).await {
        Err(refused) => panic!("cannot connect to {address}: {refused}"),
        Ok((channel, _closed)) => channel.wrong_protocol().await.is_none(),
    }
}

#[tokio::test]
async fn on_reaches_a_go_plugin_over_mtls_and_its_socket_refuses_plaintext() {
    let plugin = Plugin::start(spec("go-mtls", go_echo_plugin(), MtlsMode::On), Arc::new(Discard)).await.unwrap();
    let reply = LlmClient::new(plugin.clone()).generate(user("over tls"), None).await.unwrap();
    assert_eq!(reply.text, "Echo: over tls");
    assert!(!serves_plaintext(&plugin).await, "a plaintext HTTP/2 client was served under mtls: on");
    plugin.shutdown(plugin.shutdown_grace()).await;
}

#[tokio::test]
async fn auto_offers_no_certificate_so_a_go_plugin_serves_its_private_socket_in_plaintext() {
    // TLS on a unix socket in the plugin's 0700 directory, whose server the peer check proves,
    // would cost every call and a handshake per start for nothing (docs/protocol.md §3.5).
    let plugin = Plugin::start(spec("go-auto", go_echo_plugin(), MtlsMode::Auto), Arc::new(Discard)).await.unwrap();
    let reply = LlmClient::new(plugin.clone()).generate(user("plain"), None).await.unwrap();
    assert_eq!(reply.text, "Echo: plain");
    assert!(serves_plaintext(&plugin).await, "the Go plugin served TLS: it was offered a certificate under auto");
    plugin.shutdown(plugin.shutdown_grace()).await;
}

#[tokio::test]
async fn on_refuses_a_plugin_that_prints_no_certificate() {
    let dir = tempfile::tempdir().unwrap();
    // Announces a socket and no certificate (it ignores PLUGIN_CLIENT_CERT).
    let plain = script(
        dir.path(),
        "plain",
        r#"printf '1|1|unix|%s/none.sock|grpc|\n' "$PLUGIN_UNIX_SOCKET_DIR"; exec sleep 30"#,
    );
    let error = refusal(spec("plain-on", &plain, MtlsMode::On)).await;
    assert!(error.contains("plain-on") && error.contains("mtls is on for it"), "{error}");
}

#[tokio::test]
async fn auto_refuses_plain_tcp_and_names_the_setting_that_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let tcp = script(dir.path(), "tcp", "echo '1|1|tcp|127.0.0.1:9|grpc|'; exec sleep 30");
    let error = refusal(spec("plain-tcp", &tcp, MtlsMode::Auto)).await;
    assert!(error.contains("plain-tcp") && error.contains("serves plain TCP (tcp:127.0.0.1:9)"), "{error}");
    assert!(error.contains("set mtls: on for it if it does automatic mTLS"), "{error}");
    assert!(error.contains("mtls: off to accept plain TCP"), "{error}");
}

#[tokio::test]
async fn off_refuses_a_plugin_that_presents_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    // The Go plugin given a client certificate by someone else than the host: it answers with its own.
    let offered = mtls::generate().unwrap().cert_pem;
    let body = format!("PLUGIN_CLIENT_CERT='{offered}' exec '{}'", go_echo_plugin().display());
    let insisting = script(dir.path(), "insisting", &body);
    let error = refusal(spec("go-off", &insisting, MtlsMode::Off)).await;
    assert!(error.contains("go-off") && error.contains("mtls is off for it"), "{error}");
}

#[tokio::test]
async fn a_printed_certificate_that_is_not_the_plugins_own_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The Go plugin's handshake line with field 6 replaced by another valid certificate: its TLS
    // handshake then shows a certificate (and key) other than the printed one.
    let other = base64::engine::general_purpose::STANDARD_NO_PAD.encode(mtls::generate().unwrap().cert_der);
    let body = format!(
        "'{}' | {{ IFS= read -r line; printf '%s|{other}\\n' \"$(echo \"$line\" | cut -d'|' -f1-5)\"; exec cat; }}",
        go_echo_plugin().display()
    );
    let impostor = script(dir.path(), "impostor", &body);
    let error = refusal(spec("go-impostor", &impostor, MtlsMode::On)).await;
    assert!(error.contains("go-impostor") && error.contains("automatic mTLS with unix:"), "{error}");
    assert!(error.contains("not the certificate the plugin printed on its handshake line"), "{error}");
}

#[tokio::test]
async fn a_certificate_field_that_is_no_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let not_base64 = "!".repeat(60);
    let garbled = script(dir.path(), "garbled", &format!("echo '1|1|unix|/nowhere|grpc|{not_base64}'; exec sleep 30"));
    let error = refusal(spec("garbled", &garbled, MtlsMode::Auto)).await;
    assert!(error.contains("garbled") && error.contains("malformed server certificate"), "{error}");

    // A DER SEQUENCE, but no X.509 certificate.
    let sequence =
        base64::engine::general_purpose::STANDARD_NO_PAD.encode([vec![0x30, 0x40], vec![2u8; 0x40]].concat());
    let fake = script(dir.path(), "fake", &format!("echo '1|1|unix|/nowhere|grpc|{sequence}'; exec sleep 30"));
    let error = refusal(spec("fake-cert", &fake, MtlsMode::Auto)).await;
    assert!(error.contains("fake-cert") && error.contains("not an X.509 certificate"), "{error}");
}

#[test]
fn go_plugins_own_host_with_auto_mtls_calls_the_rust_sdk_plugin() {
    // Unary calls and a stream, all over the mTLS go-plugin negotiates: with AutoMTLS the Go host
    // dials TLS only, so a plugin that answered without a certificate would fail every call.
    let run = Command::new(go_host())
        .arg("-plugin")
        .arg(support::example_plugin())
        .args(["-automtls", "-calls", "20", "-rounds", "1", "-stream-chunks", "10", "-skip-startup"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "the Go host failed ({}):\n{stderr}", run.status);
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["stream"]["chunks"], 10, "{report}");
    assert!(report["unary"]["p50_us"].as_f64().is_some_and(|p50| p50 > 0.0), "{report}");
}
