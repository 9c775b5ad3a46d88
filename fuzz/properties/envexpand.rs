//! The property the `envexpand` fuzz target checks, and the replay test in
//! crates/host/tests/fuzz_regressions.rs re-checks: see docs/fuzzing.md.

use hector_plugins_host::envexpand::expand;

/// A fixed environment: one empty variable, and values that themselves look like references
/// (they must be inserted as they are, never expanded again).
fn lookup(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/home/fuzz".into()),
        "EMPTY" => Some(String::new()),
        "A" => Some("${B}$C$$".into()),
        "B" => Some("b".into()),
        _ => None,
    }
}

/// The input is a configuration string (not UTF-8: replaced). Expanding never panics; text
/// without `$` is left as it is; and text with every `$` doubled expands back to
/// itself (`$$` is a literal `$`).
///
/// The output grows at most linearly: a reference is at least 2 bytes (`$A`) and becomes at
/// most 10 (the longest value here), and a default is part of the input.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(out) = expand(&text, &lookup) {
        if !text.contains('$') {
            assert_eq!(out, text);
        }
        assert!(out.len() <= text.len() * 5, "{} bytes from {} bytes", out.len(), text.len());
    }
    let escaped = text.replace('$', "$$");
    assert_eq!(expand(&escaped, &lookup).as_deref(), Ok(text.as_ref()), "escaped: {escaped:?}");
}
