//! Ctrl+C and SIGTERM: the first stops new work and lets sinks finish whole
//! files; a second one exits at once, after removing the temporary
//! directories registered with [`remove_on_exit`] (a clone of a git URL
//! source), which an exit would otherwise leave behind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

/// Directories to remove if a second signal ends the process at once.
static REMOVE_ON_EXIT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Cancels `token` on the first Ctrl+C or SIGTERM; exits 130 on the second.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::warn!("interrupted: finishing whole files (press Ctrl+C again to stop at once)");
        token.cancel();
        wait_for_signal().await;
        if let Ok(dirs) = REMOVE_ON_EXIT.lock() {
            for dir in dirs.iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        std::process::exit(130);
    });
}

/// Registers `dir` to be removed should a second signal end the process
/// before its owner removes it.
pub fn remove_on_exit(dir: &Path) {
    if let Ok(mut dirs) = REMOVE_ON_EXIT.lock() {
        dirs.push(dir.to_path_buf());
    }
}

/// Forgets `dir` (its owner has removed it).
pub fn keep_on_exit(dir: &Path) {
    if let Ok(mut dirs) = REMOVE_ON_EXIT.lock() {
        dirs.retain(|d| d != dir);
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
