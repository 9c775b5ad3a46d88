//! Generated protobuf and gRPC code for every service we speak (see proto/).

#![allow(clippy::all, missing_docs)]

/// Hector's `hector.plugin` services.
pub mod hector {
    tonic::include_proto!("hector.plugin");
}

/// go-plugin's internal services (controller, stdio, broker), package `plugin`.
pub mod goplugin {
    tonic::include_proto!("plugin");
}

/// The standard gRPC health service.
pub mod health {
    tonic::include_proto!("grpc.health.v1");
}
