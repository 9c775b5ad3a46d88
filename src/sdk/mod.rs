//! Serving plugins from Rust.
