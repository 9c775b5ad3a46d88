//! The one rule for plugin names, wherever a name enters: hector.yaml entries, `load(name=...)`,
//! `register()`, discovered manifests and entry points.
//!
//! A name becomes part of file names, socket paths and logger names
//! (`hector_plugins.plugin.<name>`) and is printed in messages, so it must be non-empty, must
//! not walk out of a directory, and must not hide what it says on a terminal.

/// Longer names are refused: they only make paths and log lines unreadable.
pub const MAX_NAME_BYTES: usize = 128;

/// Checks a plugin (or in-process provider, or fallback chain) name. The error says what is
/// wrong with it; callers prefix where the name came from.
pub fn check_name(name: &str) -> Result<(), String> {
    let refuse = |why: String| {
        Err(format!("the plugin name {name:?} {why}; use letters, digits, '-', '_' and '.' (e.g. \"my-llm\")"))
    };
    if name.is_empty() {
        return Err("a plugin name may not be empty; give it a name such as \"my-llm\"".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return refuse(format!("is {} bytes long (at most {MAX_NAME_BYTES})", name.len()));
    }
    if let Some(separator) = name.chars().find(|c| matches!(c, '/' | '\\')) {
        return refuse(format!("contains {separator:?}, a path separator"));
    }
    if name.contains("..") {
        return refuse("contains \"..\"".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return refuse(format!("contains the control character U+{:04X}", u32::from(c)));
    }
    if let Some(c) = name.chars().find(|c| is_bidi_control(*c)) {
        return refuse(format!("contains the bidirectional-text control U+{:04X}", u32::from(c)));
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return refuse("starts or ends with white space".into());
    }
    Ok(())
}

/// Characters that reorder how the text around them is displayed ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for name in ["echo", "my-llm", "echo-llm-go", "gpt_4.1", "Ω-llm", "a b"] {
            assert_eq!(check_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn names_that_become_bad_paths_or_hide_text_are_refused() {
        let cases = [
            ("", "may not be empty"),
            ("a/b", "path separator"),
            ("a\\b", "path separator"),
            ("..", "\"..\""),
            ("x..y", "\"..\""),
            ("a\0b", "control character U+0000"),
            ("a\nb", "control character U+000A"),
            ("evil\u{202E}txt", "bidirectional-text control U+202E"),
            ("a\u{2066}", "bidirectional-text control U+2066"),
            (" echo", "white space"),
        ];
        for (name, expected) in cases {
            let error = check_name(name).unwrap_err();
            assert!(error.contains(expected), "{name:?}: {error}");
            // The name is quoted with escapes: nothing invisible reaches a terminal.
            assert!(!error.contains('\u{202E}') && !error.contains('\0'), "{error:?}");
        }
        assert!(check_name(&"x".repeat(MAX_NAME_BYTES + 1)).unwrap_err().contains("at most 128"));
    }
}
