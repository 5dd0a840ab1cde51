//! Forge accounts: a token, checked against the forge, then kept only in the
//! OS keychain under the forge's API root.

use countersign_forge::github::{GitHubConfig, GitHubForge};
use countersign_forge::{Forge, RepoId};
use countersign_keychain::SecretStore;
use countersign_secret::Secret;
use url::Url;

use crate::contract::Person;
use crate::{ApiError, ForgeTarget};

fn account(api_base: &Url) -> String {
    format!("forge-token/{}", api_base.as_str().trim_end_matches('/'))
}

/// Check `token` with the forge (`GET /user`) and keep it in the keychain.
/// A token the forge refuses is never stored.
pub async fn login(
    api_base: Url,
    token: Secret<String>,
    keychain: &dyn SecretStore,
) -> Result<Person, ApiError> {
    let mut config = GitHubConfig::new(api_base.clone());
    config.token = Some(token.clone());
    let user = GitHubForge::new(config)?.current_user().await?;
    keychain.set(&account(&api_base), token.expose().as_bytes())?;
    tracing::info!(forge = %api_base, user_id = user.id, "forge token stored in the keychain");
    Ok(Person {
        id: user.id,
        login: user.login,
        name: user.name,
    })
}

/// The GitHub target for `api_base`, with the token from the keychain.
pub fn github_target(
    api_base: Url,
    repos: Vec<RepoId>,
    keychain: &dyn SecretStore,
) -> Result<ForgeTarget, ApiError> {
    let token = keychain.get(&account(&api_base))?.ok_or_else(|| {
        ApiError::new("forge.not_signed_in", format!("no token for {api_base}: run `countersign login --api-url {api_base} --token-stdin`"))
    })?;
    let text = String::from_utf8(token.expose().clone())
        .map_err(|_| ApiError::new("keychain.error", "the stored forge token is not text"))?;
    Ok(ForgeTarget::GitHub {
        api_base,
        token: Some(Secret::new(text)),
        repos,
    })
}
