//! The tokio runtime every plugin task runs on, owned by this library so that shutdown at exit
//! is explicit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use tokio::runtime::{Builder, Runtime};

static CREATOR_PID: OnceLock<u32> = OnceLock::new();

/// False in a forked child of the process that started the runtime: its worker threads did not
/// survive the fork, so nothing scheduled on it would ever run.
pub fn usable() -> bool {
    CREATOR_PID.get().is_none_or(|pid| *pid == std::process::id())
}

static EXITING: AtomicBool = AtomicBool::new(false);

/// The process is exiting (the embedding layer's exit hook stops every plugin): from now on no
/// supervisor starts a plugin again.
pub fn begin_exit() {
    EXITING.store(true, Ordering::SeqCst);
}

pub fn exiting() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// Worker threads: `HECTOR_PLUGINS_WORKER_THREADS`, default 2 (calls are I/O bound).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let _ = CREATOR_PID.set(std::process::id());
        let workers = std::env::var("HECTOR_PLUGINS_WORKER_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(2);
        Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("hector-plugins")
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime")
    })
}
