//! hclog-style structured logging to stderr.
//!
//! A plugin's stderr is its log channel (docs/protocol.md §5): the host turns every line that is a JSON
//! object carrying `@level`, `@message` and `@timestamp` into a structured record, and every other
//! key of that object into a field. [`Logger`] writes exactly such lines, the way go-plugin's
//! `hclog` JSON format does:
//!
//! ```text
//! {"@level":"info","@message":"echo-llm initialized","@module":"echo-llm","@timestamp":"2026-11-22T01:02:03.123456Z","config_keys":["a","b"]}
//! ```
//!
//! Each record is written with a single `write_all` on a locked stderr, so records from several
//! threads never interleave. Write errors (a host that closed the pipe) are ignored.
//!
//! ```
//! use hector_plugins_sdk::log::Logger;
//! use hector_plugins_sdk::json;
//!
//! let log = Logger::named("my-plugin");
//! log.info("loaded", &[("keys", json!(["model", "timeout"])), ("count", json!(2))]);
//! ```

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Severity of a record, spelled as hclog spells it in JSON (shared with the host's parser).
pub use hector_plugins_protocol::log_level::Level;

/// Writes hclog JSON records to stderr. Cheap to clone; holds only the optional module name.
#[derive(Debug, Clone, Default)]
pub struct Logger {
    module: Option<String>,
}

impl Logger {
    /// A logger without `@module`.
    pub fn new() -> Self {
        Self { module: None }
    }

    /// A logger whose records carry `"@module": module` (hclog's named logger).
    pub fn named(module: impl Into<String>) -> Self {
        Self { module: Some(module.into()) }
    }

    /// Writes one record. `fields` become extra keys of the JSON object; keys starting with `@`
    /// are reserved for the record itself and are renamed with a leading `_` to keep the object
    /// free of duplicate keys.
    pub fn log(&self, level: Level, message: &str, fields: &[(&str, Value)]) {
        let line = format_record(level, message, self.module.as_deref(), fields, SystemTime::now());
        if cfg!(test) {
            // Lets the test harness capture records; `eprint!` would panic on a closed pipe, so
            // it is never used outside tests.
            eprint!("{line}");
            return;
        }
        let stderr = std::io::stderr();
        let mut out = stderr.lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }

    /// [`Level::Trace`] record.
    pub fn trace(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Trace, message, fields)
    }

    /// [`Level::Debug`] record.
    pub fn debug(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Debug, message, fields)
    }

    /// [`Level::Info`] record.
    pub fn info(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Info, message, fields)
    }

    /// [`Level::Warn`] record.
    pub fn warn(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Warn, message, fields)
    }

    /// [`Level::Error`] record.
    pub fn error(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Error, message, fields)
    }
}

/// Builds one record line, newline included. Keys come out as hclog writes them: the `@` keys
/// first (alphabetical), then the fields in the order given.
pub fn format_record(
    level: Level,
    message: &str,
    module: Option<&str>,
    fields: &[(&str, Value)],
    at: SystemTime,
) -> String {
    let mut line = String::with_capacity(96 + message.len());
    line.push_str("{\"@level\":\"");
    line.push_str(level.as_str());
    line.push_str("\",\"@message\":");
    line.push_str(&json_string(message));
    if let Some(module) = module {
        line.push_str(",\"@module\":");
        line.push_str(&json_string(module));
    }
    line.push_str(",\"@timestamp\":\"");
    line.push_str(&format_timestamp(at));
    line.push('"');
    for (key, value) in fields {
        line.push(',');
        if key.starts_with('@') {
            line.push_str(&json_string(&format!("_{key}")));
        } else {
            line.push_str(&json_string(key));
        }
        line.push(':');
        // Serialising a `Value` cannot fail (its map keys are strings).
        line.push_str(&serde_json::to_string(value).unwrap_or_else(|_| "null".into()));
    }
    line.push_str("}\n");
    line
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Formats `at` in UTC as hclog's JSON layout does: `2006-01-02T15:04:05.000000Z`, always with
/// exactly six fractional digits. Times before 1970 are clamped to the epoch.
pub fn format_timestamp(at: SystemTime) -> String {
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let micros = since_epoch.subsec_micros();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Proleptic Gregorian date of the day `days` after 1970-01-01.
///
/// Eras of 400 years (146 097 days) repeat exactly; inside an era the year is shifted to start on
/// March 1st so that the leap day is the last day of the shifted year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let shifted_month = (5 * day_of_year + 2) / 153; // [0, 11], March = 0
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u32) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
    }

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        // 2000-02-29 (leap day of a year divisible by 400), 12:34:56.
        assert_eq!(format_timestamp(at(951_827_696, 7)), "2000-02-29T12:34:56.000007Z");
        // 2026-11-22T01:02:03.123456Z
        assert_eq!(format_timestamp(at(1_795_309_323, 123_456)), "2026-11-22T01:02:03.123456Z");
        // Last second of a year, and the day after a non-leap century February.
        assert_eq!(format_timestamp(at(1_704_067_199, 999_999)), "2023-12-31T23:59:59.999999Z");
        assert_eq!(format_timestamp(at(4_107_542_400, 0)), "2100-03-01T00:00:00.000000Z");
    }

    #[test]
    fn nanoseconds_are_truncated_to_six_digits() {
        let t = UNIX_EPOCH + Duration::new(0, 999_999_999);
        assert_eq!(format_timestamp(t), "1970-01-01T00:00:00.999999Z");
    }

    #[test]
    fn civil_dates_walk_day_by_day() {
        // Check every day from 1970 to 2400 against a naive calendar walk.
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for days in 0..(430 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > month_len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn record_layout() {
        let line = format_record(
            Level::Info,
            "hello \"world\"\n",
            Some("echo"),
            &[("keys", serde_json::json!(["a", "b"])), ("@level", serde_json::json!(1))],
            at(0, 5),
        );
        assert_eq!(
            line,
            "{\"@level\":\"info\",\"@message\":\"hello \\\"world\\\"\\n\",\"@module\":\"echo\",\
             \"@timestamp\":\"1970-01-01T00:00:00.000005Z\",\"keys\":[\"a\",\"b\"],\"_@level\":1}\n"
        );
        let parsed: Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(parsed["@message"], "hello \"world\"\n");
    }

    #[test]
    fn record_without_module() {
        let line = format_record(Level::Warn, "x", None, &[], at(0, 0));
        assert_eq!(line, "{\"@level\":\"warn\",\"@message\":\"x\",\"@timestamp\":\"1970-01-01T00:00:00.000000Z\"}\n");
    }
}
