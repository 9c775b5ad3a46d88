//! What keeps a plugin from doing harm (docs/security.md): which executables may run
//! (`trust`), what they see of the host's environment (`env`), the limits they run within
//! (`limits`, `cgroup`, `memory_watch`), their filesystem and network (`sandbox`), and how one
//! process gets all of it (`confine`), and the TLS that
//! authenticates both ends of its connection (`mtls`).

#[cfg(target_os = "linux")]
pub mod cgroup;
pub mod confine;
pub mod env;
pub mod limits;
pub mod memory_watch;
pub mod mtls;
pub mod permissions;
pub mod sandbox;
pub mod trust;
