//! Compiles the repository's proto/ with protox (pure Rust), so building from source needs no
//! system protoc. Clients are generated for the `client` feature (the host), servers for the
//! `server` feature (the SDK), so the host never compiles server code.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "hector/plugin/common.proto",
    "hector/plugin/llm.proto",
    "hector/plugin/database.proto",
    "hector/plugin/embedder.proto",
    "hector/plugin/tool.proto",
    "hector/plugin/reasoning.proto",
    "goplugin/grpc_controller.proto",
    "goplugin/grpc_stdio.proto",
    "goplugin/grpc_broker.proto",
    "grpc/health/v1/health.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // proto/ stays at the top of the repository, where plugin authors and the sdist find it; a
    // copy of this crate vendored into a `hector-plugins new` skeleton carries its own proto/.
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let own = manifest_dir.join("proto");
    let proto_dir = if own.is_dir() { own } else { manifest_dir.join("../../proto") };
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    let descriptors = protox::compile(PROTOS, [&proto_dir])?;
    // services.rs: every service's full name with its RPC names, so the host can tell a real
    // RPC name (in a plugin's `idempotent` list) from a misspelt one without a hand-kept table.
    let mut services = String::from("&[\n");
    for file in &descriptors.file {
        for service in &file.service {
            let rpcs: Vec<String> = service.method.iter().map(|m| format!("{:?}", m.name())).collect();
            let name = format!("{}.{}", file.package(), service.name());
            services.push_str(&format!("    ({name:?}, &[{}]),\n", rpcs.join(", ")));
        }
    }
    services.push(']');
    std::fs::write(PathBuf::from(std::env::var("OUT_DIR")?).join("services.rs"), services)?;
    tonic_prost_build::configure()
        .build_client(std::env::var_os("CARGO_FEATURE_CLIENT").is_some())
        .build_server(std::env::var_os("CARGO_FEATURE_SERVER").is_some())
        // No `connect(url)` helpers: they need tonic's transport, which the host does not use.
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
