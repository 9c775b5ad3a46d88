//! YAML parsing for configuration files and manifests, with errors in plain words.
//!
//! The parser runs with budgets (nodes, aliases, depth), so an alias bomb fails fast; its own
//! messages name internals (`budget breached: Nodes { .. }`, `DuplicateKeyPolicy`), which mean
//! nothing to someone editing hector.yaml, so they are rewritten here.

use serde::de::DeserializeOwned;
use serde_saphyr::budget::BudgetBreach;

/// What went wrong, and where (1-based line and column, when the parser knows).
#[derive(Debug)]
pub struct YamlError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str(text).map_err(|error| {
        let location = error.location();
        YamlError {
            message: plain_message(&error),
            line: location.map(|l| l.line() as usize),
            column: location.map(|l| l.column() as usize),
        }
    })
}

fn plain_message(error: &serde_saphyr::Error) -> String {
    let limits = serde_saphyr::Budget::default();
    match innermost(error) {
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            BudgetBreach::Nodes { .. } => format!(
                "the document expands to more than {} values; a configuration this large is refused (is it an \
                 alias bomb, `*alias` references repeated inside anchors?)",
                limits.max_nodes
            ),
            BudgetBreach::Aliases { .. } => {
                format!("the document uses more than {} `*alias` references; it is refused", limits.max_aliases)
            }
            BudgetBreach::Anchors { .. } => {
                format!("the document defines more than {} `&anchor`s; it is refused", limits.max_anchors)
            }
            BudgetBreach::Depth { .. } => {
                format!("lists and mappings are nested more than {} levels deep; it is refused", limits.max_depth)
            }
            BudgetBreach::Documents { .. } => {
                format!("the file holds more than {} YAML documents; a configuration is one", limits.max_documents)
            }
            BudgetBreach::AliasAnchorRatio { aliases, anchors } => format!(
                "the document uses {aliases} `*alias` references to {anchors} `&anchor`s, which looks like an alias \
                 bomb; it is refused"
            ),
            _ => "the document is too large or too complex to be a configuration; it is refused".into(),
        },
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("the key {key:?} appears twice in the same mapping; keep one of them")
        }
        serde_saphyr::Error::DuplicateMappingKey { key: None, .. } => {
            "a key appears twice in the same mapping; keep one of them".into()
        }
        other => {
            let text = other.to_string();
            let first = text.lines().next().unwrap_or_default();
            strip_position(first).to_string()
        }
    }
}

/// The error itself, without the wrappers that add a source snippet or the alias it came
/// through (the caller reports the position instead).
fn innermost(mut error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error: inner, .. }
    | serde_saphyr::Error::WithSnippet { error: inner, .. } = error
    {
        error = inner;
    }
    error
}

/// `line 3 column 5: message` → `message` (the position is reported separately).
fn strip_position(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("line ") else { return text };
    match rest.split_once(": ") {
        Some((position, message)) if position.split(" column ").all(|n| n.parse::<u64>().is_ok()) => message,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> YamlError {
        from_str::<serde_json::Value>(text).unwrap_err()
    }

    #[test]
    fn an_alias_bomb_is_named_in_plain_words() {
        let mut bomb = vec!["a0: &a0 [x, x, x, x, x, x, x, x, x, x]".to_string()];
        bomb.extend((1..12).map(|i| format!("a{i}: &a{i} [{}]", vec![format!("*a{}", i - 1); 10].join(", "))));
        let message = error(&bomb.join("\n")).message;
        assert!(message.contains("alias") && !message.contains("budget") && !message.contains('{'), "{message}");
    }

    #[test]
    fn a_duplicated_key_is_named_with_its_position() {
        let e = error("plugins:\n  llm_providers: {}\n  llm_providers: {}\n");
        assert!(e.message.contains("\"llm_providers\" appears twice"), "{}", e.message);
        assert!(!e.message.contains("DuplicateKeyPolicy"), "{}", e.message);
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn other_messages_lose_their_position_prefix() {
        let e = error("plugins: {llm_providers: [unclosed\n");
        assert!(!e.message.starts_with("line "), "{}", e.message);
        assert!(e.line.is_some());
    }
}
