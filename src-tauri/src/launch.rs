//! Which forge the window opens on, from its command line.

use countersign_api::{ApiError, ForgeTarget};
use url::Url;

/// `--sandbox-url URL` points the app at a running sandbox forge (the end-to-end
/// tests use it); with no flag, and no forge account configured, the app starts
/// its own embedded sandbox.
pub fn target_from_args(mut args: impl Iterator<Item = String>) -> Result<ForgeTarget, ApiError> {
    let mut target = ForgeTarget::EmbeddedSandbox;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sandbox-url" => {
                let value = args
                    .next()
                    .ok_or_else(|| ApiError::invalid_input("--sandbox-url needs a URL"))?;
                let api_base = Url::parse(&value)
                    .map_err(|e| ApiError::invalid_input(format!("--sandbox-url {value}: {e}")))?;
                target = ForgeTarget::Sandbox { api_base };
            }
            other => {
                // WebDriver and desktop launchers may add flags of their own.
                tracing::debug!(flag = other, "ignoring unknown command-line argument");
            }
        }
    }
    Ok(target)
}
