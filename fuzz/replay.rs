//! Replays a fuzz target's committed inputs under plain `cargo test` on stable (docs/fuzzing.md):
//! its seed corpus (fuzz/corpus/<target>/) and the inputs that once broke it
//! (fuzz/regressions/<target>/), each through the target's property.

use std::path::{Path, PathBuf};

/// Runs `check` on every committed input of `target`; fails naming each input that breaks the
/// property, and fails if there is no input at all (a moved directory must not pass unseen).
pub fn replay(target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let inputs: Vec<PathBuf> =
        ["corpus", "regressions"].iter().flat_map(|kind| files(&fuzz.join(kind).join(target))).collect();
    assert!(!inputs.is_empty(), "no inputs for the {target} fuzz target under {}", fuzz.display());
    let failures: Vec<String> = inputs
        .iter()
        .filter_map(|path| {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| check(&data));
            outcome.err().map(|panic| format!("{}: {}", path.display(), panic_message(&*panic)))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs break the property:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

/// The files of `dir`, sorted; none if it does not exist (a target without regressions).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut paths: Vec<PathBuf> =
        entries.map(|entry| entry.expect("a directory entry").path()).filter(|p| p.is_file()).collect();
    paths.sort();
    paths
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<String>(), panic.downcast_ref::<&str>()) {
        (Some(message), _) => message.clone(),
        (None, Some(message)) => (*message).to_string(),
        (None, None) => "a panic without a message".into(),
    }
}
