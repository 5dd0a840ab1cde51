//! Which forge the window opens on, from its command line.

use std::path::PathBuf;

use countersign_api::target::{self, Wanted};
use countersign_api::{ApiError, LocalStores, Session};
use url::Url;

/// The session the window opens on: `--sandbox-url URL` (the end-to-end tests
/// use it), else the saved settings; when those cannot connect (no token in
/// the keychain yet), the embedded sandbox, and the settings screen says why.
pub async fn session(
    args: impl Iterator<Item = String>,
    data_dir: PathBuf,
) -> Result<Session, ApiError> {
    if let Some(wanted) = wanted_from_args(args)? {
        return Session::start_with(target::resolve(wanted)?, LocalStores::in_dir(data_dir)).await;
    }
    match Session::from_settings(data_dir.clone()).await {
        Ok(s) => Ok(s),
        Err(e) => {
            tracing::warn!(code = %e.code, error = %e.message, "the saved forge settings cannot connect; opening the sandbox");
            let sandbox = target::resolve(Wanted::EmbeddedSandbox)?;
            Session::start_with(sandbox, LocalStores::in_dir(data_dir)).await
        }
    }
}

/// `--sandbox-url URL`, when given.
pub fn wanted_from_args(
    mut args: impl Iterator<Item = String>,
) -> Result<Option<Wanted>, ApiError> {
    let mut target = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sandbox-url" => {
                let value = args
                    .next()
                    .ok_or_else(|| ApiError::invalid_input("--sandbox-url needs a URL"))?;
                let api_base = Url::parse(&value)
                    .map_err(|e| ApiError::invalid_input(format!("--sandbox-url {value}: {e}")))?;
                target = Some(Wanted::Sandbox(api_base));
            }
            other => {
                // WebDriver and desktop launchers may add flags of their own.
                tracing::debug!(flag = other, "ignoring unknown command-line argument");
            }
        }
    }
    Ok(target)
}

/// A change the window is launched onto: a `countersign://` link, or a web
/// address of a change (a pull request), as a desktop launcher passes it.
pub fn link_from_args(args: impl Iterator<Item = String>) -> Option<String> {
    args.filter(|a| {
        a.starts_with("countersign://")
            || ((a.starts_with("https://") || a.starts_with("http://")) && a.contains("/pull/"))
    })
    .last()
}
