//! Reading a hector.yaml file, and pointing an error at the line and column of the key it
//! concerns.

use super::discovered::EntryPoints;
use super::read::from_value;
use super::types::Config;
use crate::error::{Error, Result};
use std::path::Path;

/// A configuration file larger than this is refused without being read.
const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Reads a hector.yaml file. Relative plugin paths are relative to the file's directory. The
/// YAML parser runs with budgets (nodes, aliases, depth), so an alias bomb fails fast.
pub fn load_file(path: &Path, entry_points: EntryPoints<'_>) -> Result<Config> {
    let origin = path.display().to_string();
    let config_error = |message: String| file_error(&origin, message, None, None);
    let metadata = std::fs::metadata(path).map_err(|e| config_error(format!("cannot read {origin}: {e}")))?;
    if !metadata.is_file() {
        return Err(config_error(format!("{origin}: not a regular file")));
    }
    let size = metadata.len();
    if size > MAX_CONFIG_BYTES {
        return Err(config_error(format!(
            "{origin}: the file is {size} bytes; a configuration may be at most {MAX_CONFIG_BYTES}"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| config_error(format!("cannot read {origin}: {e}")))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_str(&text, &origin, &base, entry_points)
}

/// Reads hector.yaml text. `origin` names it in messages (normally the file's path); relative
/// plugin paths are relative to `base`. The size limit is the caller's: [`load_file`] applies it.
pub fn load_str(text: &str, origin: &str, base: &Path, entry_points: EntryPoints<'_>) -> Result<Config> {
    let value: serde_json::Value = if text.trim().is_empty() {
        serde_json::Value::Null
    } else {
        crate::yaml::from_str(text).map_err(|e| {
            let position = match (e.line, e.column) {
                (Some(line), Some(column)) => format!(":{line}:{column}"),
                _ => String::new(),
            };
            file_error(origin, format!("{origin}{position}: invalid YAML: {}", e.message), e.line, e.column)
        })?
    };
    from_value(&value, origin, base, entry_points).map_err(|error| locate_in(error, text))
}

/// An error of the configuration `origin` that concerns no key: unreadable, or not YAML.
fn file_error(origin: &str, message: String, line: Option<usize>, column: Option<usize>) -> Error {
    Error::Config { message, file: Some(origin.to_string()), line, column, key: None }
}

/// Gives a configuration error the line and column of the key it concerns (its `key`), and
/// puts them after the file name in the message.
fn locate_in(error: Error, text: &str) -> Error {
    let Error::Config { message, file, line: None, column: None, key: Some(key) } = error else { return error };
    match locate_key(text, &key) {
        Some((line, column)) => {
            let origin = file.clone().unwrap_or_default();
            let rest = message.strip_prefix(&format!("{origin}: ")).unwrap_or(&message);
            let message = format!("{origin}:{line}:{column}: {rest}");
            Error::Config { message, file, line: Some(line), column: Some(column), key: Some(key) }
        }
        None => Error::Config { message, file, line: None, column: None, key: Some(key) },
    }
}

/// Best-effort position (1-based line and column) of the last key of `key_path` in YAML text,
/// found by looking for each key in turn after the previous one. Works for block and flow style.
pub fn locate_key(text: &str, key_path: &str) -> Option<(usize, usize)> {
    let keys = key_path.split('.').map(|part| part.split('[').next().unwrap_or(part)).filter(|k| !k.is_empty());
    let mut offset = 0;
    let mut found = None;
    for key in keys {
        let at = find_key(text, key, offset)?;
        found = Some(at);
        offset = at + key.len();
    }
    let at = found?;
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |newline| newline + 1) + 1;
    Some((line, column))
}

/// The byte offset of `key` used as a mapping key (`key:`), at or after `from`.
fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let mut search = from;
    while let Some(relative) = text.get(search..)?.find(key) {
        let at = search + relative;
        let before = text[..at].chars().next_back();
        let after = text[at + key.len()..].trim_start_matches([' ', '"', '\'']);
        let starts_key = matches!(before, None | Some(' ' | '\n' | '{' | ',' | '"' | '\'' | '\t'));
        if starts_key && after.starts_with(':') {
            return Some(at);
        }
        search = at + key.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_located_in_block_and_flow_yaml() {
        let text =
            "plugins:\n  llm_providers:\n    a: {path: ./a}\n    x:\n      path: ./x\n      config: {api_key: k}\n";
        assert_eq!(locate_key(text, "plugins.llm_providers.x"), Some((4, 5)));
        assert_eq!(locate_key(text, "plugins.llm_providers.x.config.api_key"), Some((6, 16)));
        assert_eq!(locate_key(text, "plugins.llm_providers.a.path"), Some((3, 9)));
        assert_eq!(locate_key(text, "plugins.nothing"), None);
    }

    fn config_error(message: &str, key: Option<&str>) -> Error {
        Error::Config {
            message: format!("hector.yaml: {message}"),
            file: Some("hector.yaml".into()),
            line: None,
            column: None,
            key: key.map(Into::into),
        }
    }

    #[test]
    fn errors_are_located_by_their_key_not_their_wording() {
        let text = "plugins: [a]\nagents:\n  main: {llm: ghost}\n";
        // The message does not start with the key path; the key still finds the line.
        let located = locate_in(config_error("`plugins` must be a mapping", Some("plugins")), text);
        let Error::Config { message, line, column, .. } = located else { unreachable!() };
        assert_eq!((line, column), (Some(1), Some(1)));
        assert_eq!(message, "hector.yaml:1:1: `plugins` must be a mapping");
        let located = locate_in(config_error("agents.main.llm: no such plugin", Some("agents.main.llm")), text);
        assert_eq!(located.to_string(), "hector.yaml:3:10: agents.main.llm: no such plugin");
        // A message that reads like a key path but has no key is left where it is.
        let unlocated = locate_in(config_error("agents.main.llm: no such plugin", None), text);
        assert_eq!(unlocated.to_string(), "hector.yaml: agents.main.llm: no such plugin");
    }
}
