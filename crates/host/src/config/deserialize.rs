//! Typed parts of the configuration from their JSON values, with errors that name the key of
//! the wrong value and say what to write instead in the configuration's words, not Rust's.

use super::invalid::Invalid;

/// Deserializes `value`, the part of the configuration at key path `at`. serde names the wrong
/// value but not the field it sits in, so on failure each field is tried alone to find it.
pub(super) fn deserialize_at<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    at: &str,
) -> Result<T, Invalid> {
    serde_json::from_value(value.clone()).map_err(|error| {
        let message = error.to_string();
        // Unknown and missing fields are about the mapping itself.
        if let (serde_json::Value::Object(map), false) = (value, message.starts_with("unknown field")) {
            for (key, field) in map {
                let alone = serde_json::Value::Object([(key.clone(), field.clone())].into_iter().collect());
                if let Err(e) = serde_json::from_value::<T>(alone) {
                    let text = e.to_string();
                    if !text.starts_with("missing field") && !text.starts_with("unknown field") {
                        return Invalid::at(format!("{at}.{key}"), plain_serde_error(&text));
                    }
                }
            }
        }
        Invalid::at(at, plain_serde_error(&message))
    })
}

/// `invalid type: string "maybe", expected a boolean` → `must be true or false, not the string
/// "maybe"`: what to write instead comes first.
fn plain_serde_error(message: &str) -> String {
    let parsed = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    let Some((got, expected)) = parsed else { return message.to_string() };
    let expected = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        "a map" => "a mapping",
        other => other,
    };
    let got = got.replace('`', "");
    let got = match got.as_str() {
        "sequence" => "a list".to_string(),
        "map" => "a mapping".to_string(),
        "null" => "empty".to_string(),
        _ => format!("the {got}"),
    };
    format!("must be {expected}, not {got}")
}
