//! Compiles proto/ with protox (pure Rust), so building from source needs no system protoc.

const PROTOS: &[&str] = &[
    "hector/plugin/common.proto",
    "hector/plugin/llm.proto",
    "hector/plugin/database.proto",
    "hector/plugin/embedder.proto",
    "goplugin/grpc_controller.proto",
    "goplugin/grpc_stdio.proto",
    "goplugin/grpc_broker.proto",
    "grpc/health/v1/health.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
