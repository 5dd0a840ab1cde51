//! Where the app keeps its files (the settings' place is in `settings`).

use std::path::PathBuf;

/// The app's data folder: `COUNTERSIGN_DATA_DIR`, else the platform's data
/// folder under the app identifier (the same one the desktop app uses).
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COUNTERSIGN_DATA_DIR") {
        return PathBuf::from(dir);
    }
    platform_data_dir()
}

/// The app's identifier (`tauri.conf.json`), which names its folders.
pub const APP_IDENTIFIER: &str = "dev.countersign.desktop";

/// The platform's data folder for the app, whatever `COUNTERSIGN_DATA_DIR` says.
pub fn platform_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(APP_IDENTIFIER)
}
