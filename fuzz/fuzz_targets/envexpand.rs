//! Fuzz target: see fuzz/properties/envexpand.rs for the input and the property, docs/fuzzing.md for
//! how to run it.
#![no_main]

#[path = "../properties/envexpand.rs"]
mod property;

libfuzzer_sys::fuzz_target!(|data: &[u8]| property::check(data));
