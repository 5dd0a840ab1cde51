use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// How many days of log files are kept.
pub const DAYS_KEPT: usize = 7;

/// JSON lines in `log_dir`, a file a day (`countersign.YYYY-MM-DD.log`), the
/// last [`DAYS_KEPT`] kept. Secrets are typed
/// (`countersign_secret::Secret`), so they print as `[redacted]` here.
fn daily_files(
    log_dir: &Path,
) -> Result<tracing_appender::rolling::RollingFileAppender, tracing_appender::rolling::InitError> {
    tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("countersign")
        .filename_suffix("log")
        .max_log_files(DAYS_KEPT)
        .build(log_dir)
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("COUNTERSIGN_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Human-readable logs to stderr, and JSON lines to daily files in `log_dir`.
pub fn init(log_dir: &Path) {
    let file_layer = match std::fs::create_dir_all(log_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| daily_files(log_dir).map_err(|e| e.to_string()))
    {
        Ok(files) => Some(fmt::layer().json().with_writer(files).with_filter(filter())),
        Err(e) => {
            eprintln!(
                "countersign: cannot write logs in {}: {e}",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_s_file_holds_json_lines_and_no_secret() {
        let dir = std::env::temp_dir().join(format!("countersign-logs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let subscriber = tracing_subscriber::registry()
            .with(fmt::layer().json().with_writer(daily_files(&dir).unwrap()));
        tracing::subscriber::with_default(subscriber, || {
            let password = countersign_secret::Secret::from("correct horse battery staple");
            tracing::info!(?password, "signing");
        });
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        assert_eq!(files, [format!("countersign.{today}.log")]);
        let text = std::fs::read_to_string(dir.join(&files[0])).unwrap();
        assert!(text.contains("\"signing\""), "{text}");
        assert!(!text.contains("battery staple"), "{text}");
    }
}
