use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Human-readable logs to stderr and JSON lines to `<app log dir>/countersign.log`.
/// Secrets are typed (`countersign_secret::Secret`) so they print as `[redacted]` here.
pub fn init(log_dir: &Path) {
    let filter =
        || EnvFilter::try_from_env("COUNTERSIGN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file = std::fs::create_dir_all(log_dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_dir.join("countersign.log"))
    });
    let file_layer = match file {
        Ok(file) => Some(
            fmt::layer()
                .json()
                .with_writer(std::sync::Mutex::new(file))
                .with_filter(filter()),
        ),
        Err(e) => {
            eprintln!(
                "countersign: cannot open the log file in {}: {e}",
                log_dir.display()
            );
            None
        }
    };
    let _ = tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter()),
        )
        .with(file_layer)
        .try_init();
}
