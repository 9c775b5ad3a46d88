//! Records the compiler that built the benchmark, for the `rustc` key of its report.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Cargo tells build scripts which rustc it uses; `rustc` on PATH may be another one.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .unwrap_or_default();
    println!("cargo:rustc-env=BENCH_FLOOR_RUSTC={}", version.trim());
}
