//! The wire contract of hector-plugins (docs/protocol.md), shared by the host
//! (`hector-plugins-host`) and the plugin SDK (`hector-plugins-sdk`): the generated gRPC code,
//! every protocol constant, and the handshake line's writer and parser; with the `tls` feature,
//! automatic mTLS's certificates. No I/O.

pub mod env;
pub mod handshake;
pub mod log_level;
pub mod proto;
#[cfg(feature = "tls")]
pub mod tls;

/// Every service of proto/ by full name (`hector.plugin.LLMProvider`), with its RPC names.
pub const SERVICES: &[(&str, &[&str])] = include!(concat!(env!("OUT_DIR"), "/services.rs"));

/// The RPC names of the service `full_name`, if proto/ has it.
pub fn rpcs_of(full_name: &str) -> Option<&'static [&'static str]> {
    SERVICES.iter().find(|(name, _)| *name == full_name).map(|(_, rpcs)| *rpcs)
}

/// The go-plugin core protocol version, field 1 of the handshake line (docs/protocol.md §2).
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// The largest gRPC message either side may ever allow: 2^31-1 bytes, what go-plugin hosts use
/// (docs/protocol.md §3.2).
pub const MAX_MESSAGE_SIZE_LIMIT: usize = i32::MAX as usize;

/// The service name go-plugin's health service reports as SERVING (docs/protocol.md §8.4).
pub const PLUGIN_HEALTH_SERVICE: &str = "plugin";

#[cfg(test)]
mod tests {
    #[test]
    fn every_service_of_proto_lists_its_rpcs() {
        let llm = super::rpcs_of("hector.plugin.LLMProvider").unwrap();
        for rpc in ["Generate", "GenerateStreaming", "GetModelInfo", "Initialize", "Shutdown", "Health"] {
            assert!(llm.contains(&rpc), "{rpc} missing from {llm:?}");
        }
        assert!(super::rpcs_of("hector.plugin.EmbedderProvider").unwrap().contains(&"EmbedBatch"));
        assert!(super::rpcs_of("plugin.GRPCController").unwrap().contains(&"Shutdown"));
        assert_eq!(super::rpcs_of("hector.plugin.Nothing"), None);
    }
}
