//! `log_budget`, in a plugin entry or as `load()`'s keyword argument (docs/protocol.md §5.2):
//! `unlimited`, or a mapping of `lines_per_second`, `bytes_per_second` and `burst_seconds`, each
//! optional (what is left out keeps its default).

use super::deserialize::deserialize_at;
use super::invalid::Invalid;
use super::settings::{bad_seconds, positive_seconds};
use crate::error::Result;
use crate::log_budget::LogBudget;
use serde::Deserialize;

/// The word for no budget at all.
pub const UNLIMITED: &str = "unlimited";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    lines_per_second: Option<u64>,
    bytes_per_second: Option<u64>,
    burst_seconds: Option<f64>,
}

/// The budget `value` describes (`None`: unlimited); `key` is where it sits.
pub(super) fn checked_log_budget(
    value: &serde_json::Value,
    key: &str,
) -> std::result::Result<Option<LogBudget>, Invalid> {
    let limits: Limits = match value {
        serde_json::Value::String(word) if word == UNLIMITED => return Ok(None),
        serde_json::Value::Object(_) => deserialize_at(value, key)?,
        other => {
            return Err(Invalid::at(
                key,
                format!(
                    "must be `{UNLIMITED}` or a mapping of lines_per_second, bytes_per_second and burst_seconds \
                     (each optional), not {other}"
                ),
            ))
        }
    };
    let default = LogBudget::DEFAULT;
    let budget = LogBudget {
        lines_per_second: limits.lines_per_second.unwrap_or(default.lines_per_second),
        bytes_per_second: limits.bytes_per_second.unwrap_or(default.bytes_per_second),
        burst_seconds: limits.burst_seconds.unwrap_or(default.burst_seconds),
    };
    for (field, value) in [("lines_per_second", budget.lines_per_second), ("bytes_per_second", budget.bytes_per_second)]
    {
        if value == 0 {
            return Err(Invalid::at(
                format!("{key}.{field}"),
                format!("must be at least 1 (for no budget at all: `log_budget: {UNLIMITED}`)"),
            ));
        }
    }
    if positive_seconds(budget.burst_seconds).is_none() {
        let field = format!("{key}.burst_seconds");
        return Err(Invalid::about(&field, bad_seconds(&field, budget.burst_seconds)));
    }
    Ok(Some(budget))
}

/// [`checked_log_budget`] for `load()`'s keyword argument: the error carries its name.
pub fn log_budget_setting(value: &serde_json::Value) -> Result<Option<LogBudget>> {
    checked_log_budget(value, "log_budget").map_err(Invalid::into_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(value: serde_json::Value) -> String {
        checked_log_budget(&value, "plugins.llm_providers.x.log_budget").unwrap_err().message
    }

    #[test]
    fn unlimited_or_limits_over_the_defaults() {
        assert_eq!(checked_log_budget(&json!("unlimited"), "k").unwrap(), None);
        let budget = checked_log_budget(&json!({"lines_per_second": 100}), "k").unwrap().unwrap();
        assert_eq!(budget, LogBudget { lines_per_second: 100, ..LogBudget::DEFAULT });
        let budget = checked_log_budget(&json!({"bytes_per_second": 1024, "burst_seconds": 0.5}), "k").unwrap();
        assert_eq!(budget.map(|b| (b.bytes_per_second, b.burst_seconds)), Some((1024, 0.5)));
    }

    #[test]
    fn wrong_values_name_their_key_and_what_to_write() {
        assert_eq!(
            message(json!("none")),
            "plugins.llm_providers.x.log_budget: must be `unlimited` or a mapping of lines_per_second, \
             bytes_per_second and burst_seconds (each optional), not \"none\""
        );
        assert_eq!(
            message(json!({"lines_per_second": 0})),
            "plugins.llm_providers.x.log_budget.lines_per_second: must be at least 1 (for no budget at all: \
             `log_budget: unlimited`)"
        );
        assert!(message(json!({"lines_per_second": -5}))
            .starts_with("plugins.llm_providers.x.log_budget.lines_per_second: must be a whole number"));
        assert!(message(json!({"burst_seconds": 0}))
            .contains("log_budget.burst_seconds: must be a finite number of seconds"));
        assert!(message(json!({"lines_per_sec": 5})).contains("unknown field `lines_per_sec`"));
        let error = log_budget_setting(&json!(7)).unwrap_err();
        assert!(error.to_string().starts_with("log_budget: must be `unlimited`"), "{error}");
    }
}
