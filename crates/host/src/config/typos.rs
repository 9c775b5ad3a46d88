//! Top-level keys that are probably a misspelt key this library reads (`plugin:` for
//! `plugins:`): such a file would otherwise configure nothing without a word.

/// The top-level keys this library reads. Others belong to the orchestrator and are left alone,
/// unless they look like a typo of one of these.
const OWN_TOP_LEVEL_KEYS: [&str; 6] =
    ["plugins", "plugin_discovery", "plugin_security", "supervision", "agents", "hooks"];

/// The near misses among the top-level keys, as (key, message).
pub(super) fn near_misses(root: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    root.keys()
        .filter(|key| !OWN_TOP_LEVEL_KEYS.contains(&key.as_str()))
        .filter_map(|key| {
            let lower = key.to_lowercase().replace('-', "_");
            let meant = OWN_TOP_LEVEL_KEYS.iter().find(|own| lower == **own || edit_distance(&lower, own) <= 2)?;
            Some((
                key.clone(),
                format!("hector-plugins does not read `{key}:`; did you mean `{meant}:`? (as written, it is ignored)"),
            ))
        })
        .collect()
}

/// Levenshtein distance, for spotting typos in short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}
