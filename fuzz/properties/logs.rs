//! The property the `logs` fuzz target checks, and the replay test in
//! crates/host/tests/fuzz_regressions.rs re-checks: see docs/fuzzing.md.

use hector_plugins_host::logs::{LineClassifier, LineSplitter};

/// The input is two control bytes, then a plugin's output stream. Byte 0 picks the splitter's
/// line limit (4 to 64 bytes, so that fuzz-sized inputs have over-long lines; 4 is the longest
/// UTF-8 character); byte 1 seeds the sizes of the chunks the stream arrives in.
///
/// Splitting never panics and does not depend on how the stream was chunked; no line is longer
/// than the limit; text that is valid UTF-8 comes out whole, without `\n` or the `\r` before
/// it (docs/protocol.md §5.2: split, never dropped); classifying every line never panics, and a
/// plain-text line's message is the end of the line.
pub fn check(data: &[u8]) {
    let [limit, seed, stream @ ..] = data else { return };
    let max = 4 + usize::from(*limit) % 61;

    let whole = split(max, &[stream]);
    let chunked = split(max, &chunks(stream, *seed));
    assert_eq!(whole, chunked, "the lines depend on how the stream was chunked");

    if let Ok(text) = std::str::from_utf8(stream) {
        for line in &whole {
            assert!(line.len() <= max, "a {}-byte line with a {max}-byte limit: {line:?}", line.len());
        }
        let expected: String = text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line)).collect();
        assert_eq!(whole.concat(), expected, "text was lost or changed");
    }

    let mut classifier = LineClassifier::default();
    for line in &whole {
        let (_level, message, _fields, timestamp) = classifier.classify(line);
        if timestamp.is_none() {
            assert!(line.ends_with(message.as_ref() as &str), "message {message:?} is not the end of {line:?}");
        }
    }
}

/// The lines of `chunks` fed one after another, then finished.
fn split(max: usize, chunks: &[&[u8]]) -> Vec<String> {
    let mut splitter = LineSplitter::new(max);
    let mut lines = Vec::new();
    let mut keep = |line: &[u8]| lines.push(String::from_utf8_lossy(line).into_owned());
    for chunk in chunks {
        splitter.feed(chunk, &mut keep);
    }
    splitter.finish(&mut keep);
    lines
}

/// `stream` cut into chunks of 0 to 15 bytes, their sizes drawn from `seed`.
fn chunks(mut stream: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed) | 0x100;
    let mut out = Vec::new();
    while !stream.is_empty() {
        // xorshift: cheap, deterministic, and never stuck at 0 (state starts non-zero).
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let (chunk, rest) = stream.split_at(((state % 16) as usize).min(stream.len()));
        out.push(chunk);
        stream = rest;
    }
    out
}
