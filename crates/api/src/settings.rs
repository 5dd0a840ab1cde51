//! The forge this device works with, kept in `settings.json`: in the XDG
//! config folder (`~/.config/dev.countersign.desktop/`) for the platform's
//! own data folder; beside the ledger in a data folder chosen with
//! `COUNTERSIGN_DATA_DIR`, so that such a folder carries its settings along.
//! A file an earlier version kept beside the ledger is still read, and moved
//! on the next save. The token is never in it: it lives in the OS keychain,
//! under the forge's API root (see `accounts`).

use std::path::{Path, PathBuf};

use url::Url;

use crate::ApiError;
use crate::ErrorCode;

// The settings are part of the IPC contract; they are declared there.
pub use crate::contract::{ForgeKind, ForgeSettings, GITHUB_API, GITHUB_WEB};

const FILE: &str = "settings.json";

/// Where the settings for `data_dir` are kept.
pub fn path_in(data_dir: &Path) -> PathBuf {
    path_for(
        data_dir,
        &crate::folders::platform_data_dir(),
        dirs::config_dir().as_deref(),
    )
}

fn path_for(data_dir: &Path, platform_data: &Path, config_root: Option<&Path>) -> PathBuf {
    match config_root {
        Some(config) if data_dir == platform_data => {
            config.join(crate::folders::APP_IDENTIFIER).join(FILE)
        }
        _ => data_dir.join(FILE),
    }
}

/// Where versions before 0.1.1 kept them: beside the ledger.
fn legacy_path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The saved settings; the defaults when there are none. A damaged file is an
/// error, never silently replaced.
pub fn load(data_dir: &Path) -> Result<ForgeSettings, ApiError> {
    load_from(&path_in(data_dir), &legacy_path(data_dir))
}

fn load_from(path: &Path, legacy: &Path) -> Result<ForgeSettings, ApiError> {
    let path = if !path.exists() && legacy.exists() {
        legacy
    } else {
        path
    };
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ForgeSettings::default()),
        Err(e) => Err(ApiError::new(
            ErrorCode::SettingsUnreadable,
            format!("cannot read {}: {e}", path.display()),
        )),
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                ErrorCode::SettingsUnreadable,
                format!("{} is damaged: {e}", path.display()),
            )
        }),
    }
}

/// Check every field; URLs must be http(s) and repositories `owner/name`.
pub fn validate(s: &ForgeSettings) -> Result<(), ApiError> {
    for (name, value) in [("API URL", &s.api_url), ("web URL", &s.web_url)] {
        let url = Url::parse(value).map_err(|e| {
            ApiError::invalid_input(format!("the {name} {value:?} is not a URL: {e}"))
        })?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(ApiError::invalid_input(format!(
                "the {name} must start with https://"
            )));
        }
    }
    for r in &s.repos {
        r.parse::<countersign_forge::RepoId>()?;
    }
    Ok(())
}

/// Write atomically (a crash leaves the old file or the new one, never half).
pub fn save(data_dir: &Path, s: &ForgeSettings) -> Result<(), ApiError> {
    save_to(&path_in(data_dir), &legacy_path(data_dir), s)
}

fn save_to(path: &Path, legacy: &Path, s: &ForgeSettings) -> Result<(), ApiError> {
    validate(s)?;
    let io = |e: std::io::Error| ApiError::new(ErrorCode::SettingsUnwritable, e.to_string());
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(io)?;
    }
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(s)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    // Moved: the old copy beside the ledger would otherwise be read by an
    // older version and silently disagree.
    if legacy != path && legacy.exists() {
        std::fs::remove_file(legacy).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_data_folder_keeps_its_settings_in_the_config_folder() {
        let platform = Path::new("/home/a/.local/share/dev.countersign.desktop");
        let config = Path::new("/home/a/.config");
        assert_eq!(
            path_for(platform, platform, Some(config)),
            Path::new("/home/a/.config/dev.countersign.desktop/settings.json")
        );
        // A data folder chosen for the purpose carries its settings.
        let chosen = Path::new("/srv/countersign");
        assert_eq!(
            path_for(chosen, platform, Some(config)),
            Path::new("/srv/countersign/settings.json")
        );
        assert_eq!(
            path_for(platform, platform, None),
            platform.join("settings.json")
        );
    }

    #[test]
    fn settings_kept_beside_the_ledger_are_read_and_moved_on_save() {
        let dir = std::env::temp_dir().join(format!("countersign-settings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let legacy = dir.join("data/settings.json");
        let path = dir.join("config/dev.countersign.desktop/settings.json");
        std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
        let mut s = ForgeSettings {
            repos: vec!["acme/pump".into()],
            ..ForgeSettings::default()
        };
        std::fs::write(&legacy, serde_json::to_vec(&s).unwrap()).unwrap();
        assert_eq!(
            load_from(&path, &legacy).unwrap(),
            s,
            "the old file is read"
        );
        s.notifications = false;
        save_to(&path, &legacy, &s).unwrap();
        assert!(path.exists() && !legacy.exists(), "moved");
        assert_eq!(load_from(&path, &legacy).unwrap(), s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
