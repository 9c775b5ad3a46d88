//! The manager's name rules, without launching anything.

use super::*;
use crate::kind::PluginKind;
use crate::logs::LogRecord;

struct Discard;
impl LogSink for Discard {
    fn log(&self, _record: LogRecord) {}
}

/// A chain `resilient` of a configured (never loaded) plugin `remote` then a declared
/// in-process provider `local`.
fn manager() -> Manager<&'static str> {
    let config = serde_json::json!({"plugins": {"llm_providers": {
        "remote": {"path": "/nonexistent/remote"},
        "local": {"type": "builtin"},
        "resilient": {"fallbacks": ["remote", "local"]},
    }}});
    let config =
        crate::config::from_value(&config, "test", std::path::Path::new("/"), &mut crate::config::no_entry_points)
            .unwrap();
    Manager::new(config, Arc::new(Discard))
}

#[test]
fn a_chain_is_served_by_its_registered_in_process_member() {
    let manager = manager();
    let unserved = manager.resolve("resilient", Some(PluginKind::Llm)).err().unwrap().to_string();
    assert!(
        unserved.contains("remote is not loaded") && unserved.contains("local (in-process) is not registered"),
        "{unserved}"
    );
    manager.register("local", PluginKind::Llm, "the object").unwrap();
    assert!(matches!(
        manager.resolve("resilient", Some(PluginKind::Llm)),
        Ok(Provider::InProcess(p)) if p.name == "local" && p.payload == "the object"
    ));
    assert!(matches!(manager.resolve("local", None), Ok(Provider::InProcess(_))));
    // A process is needed for raw calls.
    assert!(manager.get("local", None).is_err());
    assert_eq!(manager.unregister("local").map(|p| p.payload), Some("the object"));
    assert!(manager.resolve("resilient", Some(PluginKind::Llm)).is_err());
}

#[test]
fn registration_refuses_taken_names_and_the_wrong_kind() {
    let manager = manager();
    for taken in ["remote", "resilient"] {
        assert!(manager.register(taken, PluginKind::Llm, "").is_err(), "{taken}");
    }
    let wrong_kind = manager.register("local", PluginKind::Embedder, "").err().unwrap().to_string();
    assert!(wrong_kind.contains("declares it an llm_provider"), "{wrong_kind}");
    manager.register("extra", PluginKind::Llm, "").unwrap();
    assert!(manager.register("extra", PluginKind::Llm, "").is_err());
}

#[tokio::test]
async fn nothing_resolves_or_registers_after_shutdown() {
    let manager = manager();
    manager.register("local", PluginKind::Llm, "").unwrap();
    manager.shutdown(None, None).await;
    assert!(matches!(
        manager.resolve("local", None),
        Err(Error::Closed { state: Closed::ShutDown(ShutDownDuring::Call), .. })
    ));
    assert!(matches!(manager.register("other", PluginKind::Llm, ""), Err(Error::Closed { .. })));
}
