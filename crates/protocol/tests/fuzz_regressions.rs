//! The `handshake` fuzz target's property over its seed corpus and regressions, on stable
//! (docs/fuzzing.md).

#[path = "../../../fuzz/properties/handshake.rs"]
mod handshake;
#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn handshake_inputs_keep_the_property() {
    replay::replay("handshake", handshake::check);
}

#[test]
#[should_panic(expected = "inputs break the property")]
fn a_broken_property_fails_the_replay() {
    replay::replay("handshake", |_| panic!("broken"));
}
