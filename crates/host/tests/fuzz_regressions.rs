//! The host's fuzz targets' properties over their seed corpora and regressions, on stable
//! (docs/fuzzing.md).

#[path = "../../../fuzz/properties/config.rs"]
mod config;
#[path = "../../../fuzz/properties/envexpand.rs"]
mod envexpand;
#[path = "../../../fuzz/properties/logs.rs"]
mod logs;
#[path = "../../../fuzz/properties/manifest.rs"]
mod manifest;
#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn log_inputs_keep_the_property() {
    replay::replay("logs", logs::check);
}

#[test]
fn manifest_inputs_keep_the_property() {
    replay::replay("manifest", manifest::check);
}

#[test]
fn config_inputs_keep_the_property() {
    replay::replay("config", config::check);
}

#[test]
fn envexpand_inputs_keep_the_property() {
    replay::replay("envexpand", envexpand::check);
}
