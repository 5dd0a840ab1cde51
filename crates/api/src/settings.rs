//! The forge this device works with, kept in `settings.json` next to the
//! ledger. The token is never in it: it lives in the OS keychain, under the
//! forge's API root (see `accounts`).

use std::path::{Path, PathBuf};

use url::Url;

use crate::ApiError;
use crate::ErrorCode;

// The settings are part of the IPC contract; they are declared there.
pub use crate::contract::{ForgeKind, ForgeSettings, GITHUB_API, GITHUB_WEB};

pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join("settings.json")
}

/// The saved settings; the defaults when there are none. A damaged file is an
/// error, never silently replaced.
pub fn load(data_dir: &Path) -> Result<ForgeSettings, ApiError> {
    let path = path_in(data_dir);
    match std::fs::read(&path) {
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
    validate(s)?;
    let io = |e: std::io::Error| ApiError::new(ErrorCode::SettingsUnwritable, e.to_string());
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let path = path_in(data_dir);
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(s)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}
