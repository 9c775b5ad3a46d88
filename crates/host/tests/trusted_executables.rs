//! Only trusted executables run (docs/protocol.md §1.5), with real plugin processes: copies of
//! the example plugin (examples/rust-echo-llm) started with their checksum, tampered, unsigned,
//! signed, outside or symlinked into trusted directories, in a world-writable directory; and a
//! file replaced after its check, whose checked bytes are still what the keeper runs.

// Shared with the other integration tests; this one uses part of it.
#[allow(dead_code)]
mod support;

use hector_plugins_host::security::trust::{self, parse_public_key, Trust};
use hector_plugins_host::{Error, Plugin, PluginKind, PluginSpec};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use support::{example_plugin, Recorder};

/// One test at a time: a copy being written while another test's keeper is cloned would be
/// held open for writing by that keeper for a moment, and its exec would fail (ETXTBSY).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn copy_plugin(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::copy(example_plugin(), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn sha256_of(path: &Path) -> [u8; 32] {
    Sha256::digest(std::fs::read(path).unwrap()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn spec(path: &Path, trust: Trust) -> PluginSpec {
    let mut spec = PluginSpec::new("trusted", path, PluginKind::Llm);
    spec.trust = trust;
    spec
}

async fn starts(spec: PluginSpec) {
    let plugin = match Plugin::start(spec, Recorder::new()).await {
        Ok(plugin) => plugin,
        Err(e) => panic!("the plugin did not start: {e}"),
    };
    plugin.shutdown(plugin.shutdown_grace()).await;
}

/// The start's refusal message, which must name `rule`.
async fn refused(spec: PluginSpec, rule: &str) -> String {
    match Plugin::start(spec, Recorder::new()).await {
        Ok(plugin) => {
            plugin.shutdown(plugin.shutdown_grace()).await;
            panic!("the plugin started, but the {rule} rule should have refused it")
        }
        Err(Error::Start { message, .. }) => {
            assert!(message.contains(&format!("refused by the {rule} rule")), "{message}");
            message
        }
        Err(other) => panic!("expected a refusal by the {rule} rule, got {other}"),
    }
}

#[tokio::test]
async fn the_right_checksum_starts_and_a_tampered_copy_is_refused() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_plugin(dir.path(), "echo");
    let digest = sha256_of(&plugin);
    starts(spec(&plugin, Trust { sha256: Some(digest), ..Default::default() })).await;

    let tampered = copy_plugin(dir.path(), "tampered");
    let mut bytes = std::fs::read(&tampered).unwrap();
    bytes.push(0);
    std::fs::write(&tampered, &bytes).unwrap();
    let message =
        refused(spec(&tampered, Trust { sha256: Some(digest), ..Default::default() }), "sha256 checksum").await;
    assert!(message.contains(&format!("expected sha256:{}", hex(&digest))), "{message}");
    assert!(message.contains(&format!("found sha256:{}", hex(&sha256_of(&tampered)))), "{message}");
}

#[tokio::test]
async fn the_manifest_checksum_applies_unless_the_spec_has_one() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_plugin(dir.path(), "echo");
    let wrong = "ab".repeat(32);
    let manifest =
        format!("plugin:\n  name: echo\n  version: 1.0.0\n  type: llm\n  protocol: grpc\n  sha256: sha256:{wrong}\n");
    std::fs::write(hector_plugins_host::manifest::path_for(&plugin), manifest).unwrap();
    let message = refused(spec(&plugin, Trust::default()), "sha256 checksum").await;
    assert!(message.contains(&format!("expected sha256:{wrong}")), "{message}");
    // The configuration entry's checksum wins over the manifest's.
    starts(spec(&plugin, Trust { sha256: Some(sha256_of(&plugin)), ..Default::default() })).await;
}

#[tokio::test]
async fn signatures_are_required_when_configured() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_plugin(dir.path(), "echo");
    let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let key_file = dir.path().join("hector.pub");
    std::fs::write(&key_file, pair.pk.to_box().unwrap().into_string()).unwrap();
    let trust = Trust {
        verify_signatures: true,
        public_keys: vec![parse_public_key(key_file.to_str().unwrap()).unwrap()],
        ..Default::default()
    };
    let message = refused(spec(&plugin, trust.clone()), "minisign signature").await;
    assert!(message.contains("echo.minisig does not exist"), "{message}");

    let contents = std::fs::read(&plugin).unwrap();
    let signature = minisign::sign(Some(&pair.pk), &pair.sk, &contents[..], None, None).unwrap();
    std::fs::write(trust::signature_path(&plugin), signature.into_string()).unwrap();
    starts(spec(&plugin, trust)).await;
}

#[tokio::test]
async fn trusted_directories_hold_what_runs_whichever_way_a_symlink_points() {
    let _serial = SERIAL.lock().await;
    let root = tempfile::tempdir().unwrap();
    let trusted = root.path().join("trusted");
    let elsewhere = root.path().join("elsewhere");
    std::fs::create_dir(&trusted).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    let inside = copy_plugin(&trusted, "echo");
    let outside = copy_plugin(&elsewhere, "echo");
    let trust = Trust { trusted_directories: vec![trusted.clone()], ..Default::default() };

    starts(spec(&inside, trust.clone())).await;
    let message = refused(spec(&outside, trust.clone()), "trusted_directories").await;
    assert!(message.contains("is outside the trusted directories"), "{message}");

    let into = elsewhere.join("into");
    std::os::unix::fs::symlink(&inside, &into).unwrap();
    starts(spec(&into, trust.clone())).await;

    let out_of = trusted.join("out-of");
    std::os::unix::fs::symlink(&outside, &out_of).unwrap();
    let message = refused(spec(&out_of, trust), "trusted_directories").await;
    let resolved = std::fs::canonicalize(&outside).unwrap();
    assert!(message.contains(&format!("{} (it resolves to {})", out_of.display(), resolved.display())), "{message}");
}

#[tokio::test]
async fn world_writable_executables_and_directories_are_refused() {
    let _serial = SERIAL.lock().await;
    let root = tempfile::tempdir().unwrap();
    let open = root.path().join("open");
    std::fs::create_dir(&open).unwrap();
    let plugin = copy_plugin(&open, "echo");
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o777)).unwrap();
    let message = refused(spec(&plugin, Trust::default()), "world-writable").await;
    assert!(message.contains("is writable by others (mode 0777)"), "{message}");

    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let message = refused(spec(&plugin, Trust::default()), "world-writable").await;
    assert!(message.contains(&format!("the directory {} above the executable", open.display())), "{message}");
}

/// Exec by descriptor is the keeper's (Linux): the portable launcher execs by path.
#[cfg(target_os = "linux")]
mod exec_by_descriptor {
    use super::*;
    use hector_plugins_host::launch::{self, LaunchOptions, Stdio};
    use hector_plugins_host::supervised::Executable;
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

    /// A hang guard, not a measurement.
    const WAIT_LIMIT: Duration = Duration::from_secs(60);

    /// Verifies `path`, then replaces it with `replacement` (a new file renamed over it), then
    /// runs what was verified through the keeper; returns the process's first stdout line.
    async fn run_after_replacing(path: &Path, sha256: [u8; 32], replacement: &[u8]) -> String {
        let verified = trust::verify(path, &Trust { sha256: Some(sha256), ..Default::default() }).unwrap();
        let swap = path.with_extension("swap");
        std::fs::write(&swap, replacement).unwrap();
        std::fs::set_permissions(&swap, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&swap, path).unwrap();
        assert_eq!(std::fs::read(path).unwrap(), replacement, "the path now names the replacement");

        let socket_dir = launch::make_socket_dir().unwrap();
        let executable = Executable { file: verified.file.into(), is_script: verified.is_script };
        let options = LaunchOptions::default();
        let mut process =
            launch::spawn(path, Some(executable), &options, socket_dir.path(), Stdio::Handshake, Default::default())
                .await
                .unwrap_or_else(|e| panic!("the verified file did not start: {e}"));
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(WAIT_LIMIT, lines.next_line()).await.expect("a first line in time").unwrap();
        process.kill_handle.kill();
        let mut rest = String::new();
        let _ = tokio::time::timeout(WAIT_LIMIT, lines.into_inner().read_to_string(&mut rest)).await;
        tokio::time::timeout(WAIT_LIMIT, process.wait()).await.expect("the process ends");
        first.unwrap_or_default()
    }

    #[tokio::test]
    async fn what_runs_is_the_file_that_was_verified_even_if_the_path_is_replaced() {
        let _serial = SERIAL.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let replacement = b"#!/bin/sh\necho replaced\n";

        // A script: its interpreter reads the checked descriptor (/dev/fd/3), not the path.
        let script = dir.path().join("plugin.sh");
        let original = b"#!/bin/sh\necho \"original $0\"\nsleep 300\n";
        std::fs::write(&script, original).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let line = run_after_replacing(&script, Sha256::digest(original).into(), replacement).await;
        assert_eq!(line, "original /dev/fd/3");

        // A binary: the example plugin prints its handshake line, not "replaced".
        let binary = copy_plugin(dir.path(), "echo");
        let line = run_after_replacing(&binary, sha256_of(&binary), replacement).await;
        assert!(line.contains("|unix|") || line.contains("|tcp|"), "not a handshake line: {line:?}");
    }
}
