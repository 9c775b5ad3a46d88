//! `${VAR}`, `${VAR:-default}` and `$VAR` in configuration strings, from the environment.
//!
//! An unset variable without a default is an error that names it, never a silent empty
//! string. `$$` is a literal `$`.

/// Expands one string; `lookup` gives a variable's value (normally `std::env::var`).
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| format!("unclosed \"${{\" in {text:?}"))?;
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            if default.is_some_and(|d| d.contains("${")) {
                return Err(format!("nested variables in a default are not supported in {text:?}"));
            }
            if !is_name(name) {
                return Err(format!("bad variable name {name:?} in {text:?}"));
            }
            match (lookup(name), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => return Err(unset(name)),
            }
            rest = &body[end + 1..];
        } else {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            let name = &after[..len];
            if !is_name(name) {
                // A lone `$` (e.g. "costs 5$") stays as it is.
                out.push('$');
                rest = after;
                continue;
            }
            out.push_str(&lookup(name).ok_or_else(|| unset(name))?);
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn unset(name: &str) -> String {
    format!("environment variable {name} is not set (write ${{{name}:-default}} to give a default)")
}

/// A string of a parsed configuration that cannot be expanded: its key path, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unexpandable {
    pub key: String,
    pub reason: String,
}

impl std::fmt::Display for Unexpandable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

/// Expands every string in a parsed configuration; errors carry the key path.
pub fn expand_value(
    value: &mut serde_json::Value,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Unexpandable> {
    match value {
        serde_json::Value::String(text) if text.contains('$') => {
            *text = expand(text, lookup).map_err(|reason| Unexpandable { key: path.to_string(), reason })?;
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_value(item, &format!("{path}[{i}]"), lookup)?;
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                expand_value(item, &child, lookup)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/u".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_all_three_forms() {
        assert_eq!(expand("${HOME}/p", &env).unwrap(), "/home/u/p");
        assert_eq!(expand("$HOME/p", &env).unwrap(), "/home/u/p");
        assert_eq!(expand("${NOPE:-fallback}", &env).unwrap(), "fallback");
        assert_eq!(expand("${HOME:-x}", &env).unwrap(), "/home/u");
        assert_eq!(expand("${EMPTY:-x}", &env).unwrap(), "", "set but empty is set");
        assert_eq!(expand("$$HOME costs 5$", &env).unwrap(), "$HOME costs 5$");
        assert_eq!(expand("plain", &env).unwrap(), "plain");
    }

    #[test]
    fn unset_variables_and_bad_syntax_are_errors() {
        assert!(expand("${NOPE}", &env).unwrap_err().contains("NOPE is not set"));
        assert!(expand("key-$NOPE", &env).unwrap_err().contains("NOPE is not set"));
        assert!(expand("${HOME", &env).unwrap_err().contains("unclosed"));
        assert!(expand("${1X}", &env).unwrap_err().contains("bad variable name"));
        let mut value = serde_json::json!({"plugins": {"llm": {"a": {"config": {"key": "${NOPE}"}}}}});
        let error = expand_value(&mut value, "", &env).unwrap_err();
        assert_eq!(error.key, "plugins.llm.a.config.key");
        assert!(error.to_string().starts_with("plugins.llm.a.config.key: environment variable NOPE"), "{error}");
        let mut value = serde_json::json!({"paths": ["$HOME/a", "b"]});
        expand_value(&mut value, "", &env).unwrap();
        assert_eq!(value["paths"][0], "/home/u/a");
    }
}
