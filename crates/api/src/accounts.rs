//! Forge accounts: a token, checked against the forge, then kept only in the
//! OS keychain under the forge's API root.

use countersign_forge::gitea::{Flavor, GiteaConfig, GiteaForge};
use countersign_forge::github::{GitHubConfig, GitHubForge};
use countersign_forge::gitlab::{GitLabConfig, GitLabForge};
use countersign_forge::Forge;
use countersign_keychain::SecretStore;
use countersign_secret::Secret;
use url::Url;

use crate::contract::{ForgeKind, Person};
use crate::ApiError;

/// The keychain entry of the token for the forge at `api_base`.
pub(crate) fn account(api_base: &Url) -> String {
    format!("forge-token/{}", api_base.as_str().trim_end_matches('/'))
}

/// [`login`] into the OS keychain (`countersign login`).
pub async fn login_to_os_keychain(
    kind: ForgeKind,
    api_base: Url,
    token: Secret<String>,
) -> Result<Person, ApiError> {
    let keychain = countersign_keychain::OsKeychain::open()?;
    login(kind, api_base, token, &keychain).await
}

/// Check `token` with the forge (`GET /user`) and keep it in the keychain.
/// A token the forge refuses is never stored.
pub async fn login(
    kind: ForgeKind,
    api_base: Url,
    token: Secret<String>,
    keychain: &dyn SecretStore,
) -> Result<Person, ApiError> {
    let user = match kind {
        ForgeKind::Gitea | ForgeKind::Forgejo => {
            let flavor = match kind {
                ForgeKind::Forgejo => Flavor::Forgejo,
                _ => Flavor::Gitea,
            };
            let mut config = GiteaConfig::new(api_base.clone(), flavor);
            config.token = Some(token.clone());
            GiteaForge::new(config)?.current_user().await?
        }
        ForgeKind::GitLab => {
            let mut config = GitLabConfig::new(api_base.clone());
            config.token = Some(token.clone());
            GitLabForge::new(config)?.current_user().await?
        }
        ForgeKind::GitHub | ForgeKind::Sandbox => {
            let mut config = GitHubConfig::new(api_base.clone());
            config.token = Some(token.clone());
            GitHubForge::new(config)?.current_user().await?
        }
    };
    keychain.set(&account(&api_base), token.expose().as_bytes())?;
    tracing::info!(forge = %api_base, user_id = user.id, "forge token stored in the keychain");
    Ok(Person {
        id: user.id,
        login: user.login,
        name: user.name,
    })
}

/// A device flow waiting for the user: the device code stays here, in this
/// process; the webview only ever sees the user code.
pub struct PendingDevice {
    flow: countersign_forge::device_flow::DeviceFlow,
    code: countersign_forge::device_flow::DeviceCode,
    kind: ForgeKind,
    api_base: Url,
    started: std::time::Instant,
}

/// Start the OAuth device flow of the forge `kind` against `web_base` for
/// the API at `api_base`.
pub async fn device_start(
    kind: ForgeKind,
    web_base: Url,
    api_base: Url,
    client_id: &str,
) -> Result<(PendingDevice, crate::contract::DeviceStart), ApiError> {
    use countersign_forge::device_flow::DeviceFlow;
    let (flow, scope) = match kind {
        // Reading pull requests and writing statuses and comments needs
        // `repo` on an OAuth app.
        ForgeKind::GitHub | ForgeKind::Sandbox => (DeviceFlow::new(web_base, client_id)?, "repo"),
        // Merge requests, notes, statuses and the records branch: `api`.
        ForgeKind::GitLab => (DeviceFlow::gitlab(web_base, client_id)?, "api"),
        ForgeKind::Gitea | ForgeKind::Forgejo => {
            return Err(ApiError::invalid_input(
                "Gitea and Forgejo have no device sign-in: keep a personal access token instead",
            ))
        }
    };
    let code = flow.start(scope).await?;
    let shown = crate::contract::DeviceStart {
        user_code: code.user_code.clone(),
        verification_uri: code.verification_uri.clone(),
        interval_seconds: u32::try_from(code.interval.as_secs()).unwrap_or(5),
        expires_in_seconds: u32::try_from(code.expires_in.as_secs()).unwrap_or(900),
    };
    Ok((
        PendingDevice {
            flow,
            code,
            kind,
            api_base,
            started: std::time::Instant::now(),
        },
        shown,
    ))
}

/// Poll once. On success the token is checked with the forge and kept in
/// the keychain exactly like a pasted one.
pub async fn device_poll(
    pending: &mut PendingDevice,
    keychain: &dyn SecretStore,
) -> Result<crate::contract::DevicePoll, ApiError> {
    use crate::contract::{DevicePoll, DevicePollState};
    use countersign_forge::device_flow::Poll;
    if pending.started.elapsed() > pending.code.expires_in {
        return Ok(DevicePoll {
            state: DevicePollState::Expired,
            person: None,
            interval_seconds: 0,
        });
    }
    Ok(match pending.flow.poll(&pending.code.device_code).await? {
        Poll::Pending => DevicePoll {
            state: DevicePollState::Pending,
            person: None,
            interval_seconds: u32::try_from(pending.code.interval.as_secs()).unwrap_or(5),
        },
        Poll::SlowDown(interval) => {
            pending.code.interval = interval;
            DevicePoll {
                state: DevicePollState::Pending,
                person: None,
                interval_seconds: u32::try_from(interval.as_secs()).unwrap_or(10),
            }
        }
        Poll::Denied => DevicePoll {
            state: DevicePollState::Denied,
            person: None,
            interval_seconds: 0,
        },
        Poll::Expired => DevicePoll {
            state: DevicePollState::Expired,
            person: None,
            interval_seconds: 0,
        },
        Poll::Token(token) => {
            let person = login(pending.kind, pending.api_base.clone(), token, keychain).await?;
            DevicePoll {
                state: DevicePollState::Approved,
                person: Some(person),
                interval_seconds: 0,
            }
        }
    })
}

/// Whether a token for `api_base` is kept in the keychain.
pub fn has_token(api_base: &Url, keychain: &dyn SecretStore) -> Result<bool, ApiError> {
    Ok(keychain.get(&account(api_base))?.is_some())
}
