//! Ctrl+C and SIGTERM: the first stops new work and lets sinks finish whole
//! files; a second one exits at once.

use tokio_util::sync::CancellationToken;

/// Cancels `token` on the first Ctrl+C or SIGTERM; exits 130 on the second.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::warn!("interrupted: finishing whole files (press Ctrl+C again to stop at once)");
        token.cancel();
        wait_for_signal().await;
        std::process::exit(130);
    });
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
