//! The one place that decides which forge a session talks to, from whatever
//! its caller was given: the CLI's flags, the gate's environment, the
//! window's command line or the saved settings. Tokens come from the
//! environment (CI) or the OS keychain, never from arguments.

use std::path::PathBuf;

use countersign_forge::gitea::Flavor;
use countersign_forge::RepoId;
use countersign_keychain::{OsKeychain, SecretStore};
use countersign_secret::Secret;
use url::Url;

use crate::contract::ForgeKind;
use crate::{ApiError, ErrorCode, ForgeTarget};

/// GitHub's REST root, when neither a flag nor `GITHUB_API_URL` names another.
pub const GITHUB_API: &str = "https://api.github.com/";

/// What a caller asks for.
#[derive(Debug, Clone)]
pub enum Wanted {
    /// The sandbox forge embedded in this process.
    EmbeddedSandbox,
    /// A sandbox forge already running at this REST root.
    Sandbox(Url),
    /// GitHub or GitHub Enterprise Server.
    GitHub {
        /// `None`: `GITHUB_API_URL`, else github.com.
        api_base: Option<Url>,
        /// `owner/name` to watch; empty: the account's recent repositories.
        repos: Vec<String>,
        /// Take the token from `COUNTERSIGN_TOKEN` or `GITHUB_TOKEN` when set
        /// (the gate in CI), before the keychain.
        token_from_env: bool,
    },
    /// Gitea or Forgejo; the token as for GitHub, from the environment
    /// (`COUNTERSIGN_TOKEN`, `GITEA_TOKEN` or `FORGEJO_TOKEN`, then
    /// `GITHUB_TOKEN`, which their Actions also set) or the keychain.
    Gitea {
        flavor: Flavor,
        /// `None`: `GITHUB_SERVER_URL` (set by Gitea and Forgejo Actions) + `/api/v1/`.
        api_base: Option<Url>,
        repos: Vec<String>,
        token_from_env: bool,
    },
    /// GitLab; the token from `COUNTERSIGN_TOKEN` or `GITLAB_TOKEN` (a
    /// project access token with `read_api` kept as a CI/CD variable), else
    /// the keychain.
    GitLab {
        /// `None`: `CI_API_V4_URL` (set by GitLab CI).
        api_base: Option<Url>,
        repos: Vec<String>,
        token_from_env: bool,
    },
    /// Whatever the settings saved in this data directory say.
    Saved(PathBuf),
}

/// Where a stored token is read from.
#[derive(Clone, Copy)]
pub enum Keychain<'a> {
    /// The OS keychain, opened only when a token is needed.
    Os,
    Given(&'a dyn SecretStore),
}

/// The target `wanted` names, with its token.
pub fn resolve(wanted: Wanted) -> Result<ForgeTarget, ApiError> {
    resolve_with(wanted, Keychain::Os)
}

/// [`resolve`], reading stored tokens from `keychain`.
pub fn resolve_with(wanted: Wanted, keychain: Keychain<'_>) -> Result<ForgeTarget, ApiError> {
    match wanted {
        Wanted::EmbeddedSandbox => Ok(ForgeTarget::EmbeddedSandbox),
        Wanted::Sandbox(api_base) => Ok(ForgeTarget::Sandbox { api_base }),
        Wanted::GitHub {
            api_base,
            repos,
            token_from_env,
        } => {
            let api_base = match api_base {
                Some(url) => url,
                None => {
                    let from_env =
                        std::env::var("GITHUB_API_URL").unwrap_or_else(|_| GITHUB_API.to_owned());
                    Url::parse(&from_env).map_err(|e| {
                        ApiError::invalid_input(format!("GITHUB_API_URL is not a URL: {e}"))
                    })?
                }
            };
            let repos = repo_ids(&repos)?;
            let token = token_for(
                &api_base,
                &["COUNTERSIGN_TOKEN", "GITHUB_TOKEN"],
                token_from_env,
                keychain,
            )?;
            Ok(ForgeTarget::GitHub {
                api_base,
                token: Some(token),
                repos,
            })
        }
        Wanted::Gitea {
            flavor,
            api_base,
            repos,
            token_from_env,
        } => {
            let api_base = match api_base {
                Some(url) => url,
                None => {
                    let server = std::env::var("GITHUB_SERVER_URL").map_err(|_| {
                        ApiError::invalid_input(
                            "name the forge's REST root with --api-url (e.g. https://git.example/api/v1/)",
                        )
                    })?;
                    Url::parse(&format!("{}/api/v1/", server.trim_end_matches('/'))).map_err(
                        |e| ApiError::invalid_input(format!("GITHUB_SERVER_URL is not a URL: {e}")),
                    )?
                }
            };
            let repos = repo_ids(&repos)?;
            let names = match flavor {
                Flavor::Gitea => ["COUNTERSIGN_TOKEN", "GITEA_TOKEN", "GITHUB_TOKEN"],
                Flavor::Forgejo => ["COUNTERSIGN_TOKEN", "FORGEJO_TOKEN", "GITHUB_TOKEN"],
            };
            let token = token_for(&api_base, &names, token_from_env, keychain)?;
            Ok(ForgeTarget::Gitea {
                flavor,
                api_base,
                token: Some(token),
                repos,
            })
        }
        Wanted::GitLab {
            api_base,
            repos,
            token_from_env,
        } => {
            let api_base = match api_base {
                Some(url) => url,
                None => {
                    let from_env = std::env::var("CI_API_V4_URL").map_err(|_| {
                        ApiError::invalid_input(
                            "name GitLab's REST root with --api-url (e.g. https://gitlab.com/api/v4/)",
                        )
                    })?;
                    Url::parse(&format!("{}/", from_env.trim_end_matches('/'))).map_err(|e| {
                        ApiError::invalid_input(format!("CI_API_V4_URL is not a URL: {e}"))
                    })?
                }
            };
            let repos = repo_ids(&repos)?;
            let token = token_for(
                &api_base,
                &["COUNTERSIGN_TOKEN", "GITLAB_TOKEN"],
                token_from_env,
                keychain,
            )?;
            Ok(ForgeTarget::GitLab {
                api_base,
                token: Some(token),
                repos,
            })
        }
        Wanted::Saved(data_dir) => {
            let settings = crate::settings::load(&data_dir)?;
            crate::settings::validate(&settings)?;
            let api_base = || {
                Url::parse(&settings.api_url).map_err(|e| ApiError::invalid_input(e.to_string()))
            };
            let repos = settings.repos.clone();
            let gitea = |flavor| -> Result<Wanted, ApiError> {
                Ok(Wanted::Gitea {
                    flavor,
                    api_base: Some(api_base()?),
                    repos: repos.clone(),
                    token_from_env: false,
                })
            };
            let wanted = match settings.kind {
                ForgeKind::Sandbox => return Ok(ForgeTarget::EmbeddedSandbox),
                ForgeKind::GitHub => Wanted::GitHub {
                    api_base: Some(api_base()?),
                    repos: repos.clone(),
                    token_from_env: false,
                },
                ForgeKind::Gitea => gitea(Flavor::Gitea)?,
                ForgeKind::Forgejo => gitea(Flavor::Forgejo)?,
                ForgeKind::GitLab => Wanted::GitLab {
                    api_base: Some(api_base()?),
                    repos: repos.clone(),
                    token_from_env: false,
                },
            };
            resolve_with(wanted, keychain)
        }
    }
}

fn repo_ids(repos: &[String]) -> Result<Vec<RepoId>, ApiError> {
    Ok(repos
        .iter()
        .map(|r| r.parse())
        .collect::<Result<Vec<RepoId>, _>>()?)
}

/// The token for the forge at `api_base`: from the first of the environment
/// variables `names` that holds one, when the caller takes it from there
/// (the gate in CI), else the one kept in the keychain.
fn token_for(
    api_base: &Url,
    names: &[&str],
    token_from_env: bool,
    keychain: Keychain<'_>,
) -> Result<Secret<String>, ApiError> {
    let from_env = names
        .iter()
        .filter(|_| token_from_env)
        .find_map(|v| std::env::var(v).ok().filter(|t| !t.is_empty()));
    match (from_env, keychain) {
        (Some(token), _) => Ok(Secret::new(token)),
        (None, Keychain::Given(store)) => stored_token(api_base, store),
        (None, Keychain::Os) => stored_token(api_base, &OsKeychain::open()?),
    }
}

/// The token `countersign login` (or Settings) kept for the forge at `api_base`.
fn stored_token(api_base: &Url, keychain: &dyn SecretStore) -> Result<Secret<String>, ApiError> {
    let token = keychain
        .get(&crate::accounts::account(api_base))?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ForgeNotSignedIn,
                format!("no token for {api_base}: run `countersign login --api-url {api_base} --token-stdin`"),
            )
        })?;
    let text = String::from_utf8(token.expose().clone()).map_err(|_| {
        ApiError::new(
            ErrorCode::KeychainError,
            "the stored forge token is not text",
        )
    })?;
    Ok(Secret::new(text))
}
