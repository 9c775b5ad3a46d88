//! `hot_reload: true` (docs/supervision.md, "Hot reload"): the directory of the plugin's
//! executable is watched (inotify on Linux), and a change of the executable or of its manifest
//! reloads the plugin once the file has been quiet for a moment (a build or copy writes it in
//! several steps). One watcher per name, for as long as the manager runs.

use super::Manager;
use crate::supervisor::EventKind;
use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long a changed file must stay unchanged before the reload starts.
const QUIET: Duration = Duration::from_millis(300);

impl<P: Send + Sync + 'static> Manager<P> {
    /// Starts watching `name`'s executable and manifest, once per name. A watch that cannot be
    /// set up is logged; the plugin runs on, without hot reload.
    pub(super) fn watch_for_changes(self: &Arc<Self>, name: &str, executable: PathBuf) {
        if !self.watched.lock().unwrap().insert(name.to_string()) {
            return;
        }
        // Events name absolute paths.
        let executable = std::fs::canonicalize(&executable).unwrap_or(executable);
        let manifest = crate::manifest::path_for(&executable);
        let Some(directory) = executable.parent().map(PathBuf::from) else { return };
        let (changes, mut changed) = tokio::sync::mpsc::unbounded_channel();
        let watched = [executable.clone(), manifest];
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event {
                if event.paths.iter().any(|p| watched.contains(p)) && !event.kind.is_access() {
                    let _ = changes.send(());
                }
            }
        });
        let watcher = watcher.and_then(|mut w| w.watch(&directory, RecursiveMode::NonRecursive).map(|()| w));
        let watcher = match watcher {
            Ok(watcher) => watcher,
            Err(error) => {
                self.events.emit(
                    name,
                    EventKind::ReloadFailed,
                    0,
                    format!("cannot watch {}: {error}", directory.display()),
                );
                return;
            }
        };
        let manager: Weak<Self> = Arc::downgrade(self);
        let mut closing = self.closing.subscribe();
        let name = name.to_string();
        tokio::spawn(async move {
            let _watcher = watcher;
            loop {
                tokio::select! {
                    change = changed.recv() => if change.is_none() { return },
                    _ = closing.wait_for(|closing| *closing) => return,
                }
                // Debounce: wait until no change came for QUIET.
                while let Ok(Some(())) = tokio::time::timeout(QUIET, changed.recv()).await {}
                let Some(manager) = manager.upgrade() else { return };
                // A failed reload is reported as an event; the old process keeps serving.
                let _ = manager.reload(&name).await;
            }
        });
    }
}
