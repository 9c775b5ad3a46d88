//! Fuzz target: see fuzz/properties/logs.rs for the input and the property, docs/fuzzing.md for
//! how to run it.
#![no_main]

#[path = "../properties/logs.rs"]
mod property;

libfuzzer_sys::fuzz_target!(|data: &[u8]| property::check(data));
