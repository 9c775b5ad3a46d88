//! Per-round results and their summaries.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One sequential loop: every call's latency (in call order) and the loop's rate.
pub struct Sequential {
    pub latencies_ns: Vec<u64>,
    pub calls_per_s: f64,
}

/// Metric names of a sequential loop: p50 (µs), p99 (µs), calls/s.
pub type SequentialKeys = [&'static str; 3];
pub const SEQUENTIAL: SequentialKeys = ["p50_us", "p99_us", "seq_calls_per_s"];
/// The raw socket's second measurement, its two ends on different CPUs.
pub const CROSS_CPU: SequentialKeys = ["cross_cpu_p50_us", "cross_cpu_p99_us", "cross_cpu_calls_per_s"];

/// Same rule as `percentile` in `benchmarks/measure.py` (index `round(q·(n-1))` of the sorted samples, ties
/// to even like Python's `round`), so the native and Python reports pick the same sample.
pub fn percentile(sorted: &[u64], q: f64) -> f64 {
    let last = sorted.len().saturating_sub(1);
    let index = ((q * last as f64).round_ties_even() as usize).min(last);
    sorted.get(index).copied().unwrap_or(0) as f64
}

/// Like Python's `statistics.median`: the mean of the two middle values of an even count.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[mid],
        _ => (sorted[mid - 1] + sorted[mid]) / 2.0,
    }
}

/// Every metric of one client, one value per round.
#[derive(Default)]
pub struct Series {
    metrics: BTreeMap<&'static str, Vec<f64>>,
}

impl Series {
    pub fn push(&mut self, metric: &'static str, value: f64) {
        self.metrics.entry(metric).or_default().push(value);
    }

    /// p50/p99 (µs) and calls/s of a sequential loop, under `keys`.
    pub fn push_sequential(&mut self, keys: SequentialKeys, run: &Sequential) {
        let mut sorted = run.latencies_ns.clone();
        sorted.sort_unstable();
        let [p50, p99, rate] = keys;
        self.push(p50, percentile(&sorted, 0.50) / 1000.0);
        self.push(p99, percentile(&sorted, 0.99) / 1000.0);
        self.push(rate, run.calls_per_s);
    }

    /// The latest round's value of `metric` (for progress lines).
    pub fn last(&self, metric: &str) -> f64 {
        self.metrics.get(metric).and_then(|v| v.last().copied()).unwrap_or(0.0)
    }

    /// `{"<metric>": median, ..., "rounds": {"<metric>": [per round], ...}}`.
    pub fn to_json(&self) -> Value {
        let mut summary = Map::new();
        let mut rounds = Map::new();
        for (metric, values) in &self.metrics {
            summary.insert(metric.to_string(), tidy(median(values)));
            rounds.insert(metric.to_string(), values.iter().map(|v| tidy(*v)).collect());
        }
        summary.insert("rounds".into(), Value::Object(rounds));
        Value::Object(summary)
    }
}

/// Two decimals: finer digits are noise at these magnitudes and only make the JSON hard to read.
fn tidy(value: f64) -> Value {
    Value::from((value * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_and_median_match_the_python_rules() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 0.5), 51.0); // round(49.5) = 50 → the 51st sample
        assert_eq!(percentile(&sorted, 0.99), 99.0); // round(98.01) = 98
        let sorted: Vec<u64> = (1..=102).collect();
        assert_eq!(percentile(&sorted, 0.5), 51.0); // round(50.5) = 50 (ties to even), as in Python
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
