//! Fuzz target: see fuzz/properties/manifest.rs for the input and the property, docs/fuzzing.md for
//! how to run it.
#![no_main]

#[path = "../properties/manifest.rs"]
mod property;

libfuzzer_sys::fuzz_target!(|data: &[u8]| property::check(data));
