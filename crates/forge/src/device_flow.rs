//! The OAuth 2.0 device authorization grant (RFC 8628) as GitHub and GitLab
//! implement it: the app shows a short code, the user enters it in their
//! browser on the forge, and the app polls until the forge hands out a
//! token. The device code is a secret: whoever holds it can collect the token.

use std::time::Duration;

use countersign_secret::Secret;
use serde::Deserialize;
use url::Url;

use crate::ForgeError;

/// Where the forge's web pages live (`https://github.com/`), and which OAuth
/// app asks. The client id is public; the device flow needs no client secret.
#[derive(Debug, Clone)]
pub struct DeviceFlow {
    web_base: Url,
    client_id: String,
    http: reqwest::Client,
    endpoints: Endpoints,
}

/// Where a forge takes the two requests, under its web root.
#[derive(Debug, Clone, Copy)]
struct Endpoints {
    code: &'static str,
    token: &'static str,
}

const GITHUB: Endpoints = Endpoints {
    code: "login/device/code",
    token: "login/oauth/access_token",
};

const GITLAB: Endpoints = Endpoints {
    code: "oauth/authorize_device",
    token: "oauth/token",
};

/// What the user must do, and what the app keeps to poll with.
pub struct DeviceCode {
    pub device_code: Secret<String>,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: Duration,
    pub interval: Duration,
}

#[derive(Debug)]
pub enum Poll {
    /// The user has not entered the code yet.
    Pending,
    /// Polling too fast: wait this long between polls from now on.
    SlowDown(Duration),
    Token(Secret<String>),
    Denied,
    Expired,
}

#[derive(Deserialize)]
struct CodeAnswer {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: u64,
    interval: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    interval: Option<u64>,
}

impl DeviceFlow {
    /// GitHub's (`https://github.com/`).
    pub fn new(web_base: Url, client_id: &str) -> Result<Self, ForgeError> {
        Self::with(web_base, client_id, GITHUB)
    }

    /// GitLab's (`https://gitlab.com/`), which answers a pending or refused
    /// poll with 400 and the RFC's error, where GitHub answers 200.
    pub fn gitlab(web_base: Url, client_id: &str) -> Result<Self, ForgeError> {
        Self::with(web_base, client_id, GITLAB)
    }

    fn with(web_base: Url, client_id: &str, endpoints: Endpoints) -> Result<Self, ForgeError> {
        if client_id.trim().is_empty() {
            return Err(ForgeError::InvalidInput(
                "the device flow needs the OAuth app's client id".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("countersign/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ForgeError::InvalidInput(format!("HTTP client: {e}")))?;
        Ok(Self {
            web_base,
            client_id: client_id.trim().to_owned(),
            http,
            endpoints,
        })
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, ForgeError> {
        let url = self
            .web_base
            .join(path)
            .map_err(|e| ForgeError::InvalidInput(e.to_string()))?;
        let response = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| ForgeError::Network {
                endpoint: path.to_owned(),
                detail: e.to_string(),
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| ForgeError::Network {
            endpoint: path.to_owned(),
            detail: e.to_string(),
        })?;
        // RFC 8628 answers a pending, slowed or refused poll with 400 and
        // an `error`: that is an answer, not a failure.
        let rfc_error = status == reqwest::StatusCode::BAD_REQUEST
            && serde_json::from_slice::<serde_json::Value>(&body)
                .is_ok_and(|v| v.get("error").is_some_and(serde_json::Value::is_string));
        if !status.is_success() && !rfc_error {
            return Err(ForgeError::Status {
                endpoint: path.to_owned(),
                status: status.as_u16(),
            });
        }
        serde_json::from_slice(&body).map_err(|e| ForgeError::Contract {
            endpoint: path.to_owned(),
            detail: e.to_string(),
        })
    }

    /// Ask for a user code. `scope` is for OAuth apps; GitHub Apps ignore it.
    pub async fn start(&self, scope: &str) -> Result<DeviceCode, ForgeError> {
        let a: CodeAnswer = self
            .post(
                self.endpoints.code,
                &[("client_id", &self.client_id), ("scope", scope)],
            )
            .await?;
        Ok(DeviceCode {
            device_code: Secret::new(a.device_code),
            user_code: a.user_code,
            verification_uri: a.verification_uri,
            expires_in: Duration::from_secs(a.expires_in),
            // GitHub's floor is 5 s; never poll faster than the forge says.
            interval: Duration::from_secs(a.interval.max(1)),
        })
    }

    /// One poll. The caller waits `interval` between polls.
    pub async fn poll(&self, device_code: &Secret<String>) -> Result<Poll, ForgeError> {
        let a: TokenAnswer = self
            .post(
                self.endpoints.token,
                &[
                    ("client_id", &self.client_id),
                    ("device_code", device_code.expose()),
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ],
            )
            .await?;
        Ok(match (a.access_token, a.error.as_deref()) {
            (Some(token), _) => Poll::Token(Secret::new(token)),
            (None, Some("authorization_pending")) => Poll::Pending,
            (None, Some("slow_down")) => {
                Poll::SlowDown(Duration::from_secs(a.interval.unwrap_or(10)))
            }
            (None, Some("access_denied")) => Poll::Denied,
            (None, Some("expired_token")) => Poll::Expired,
            (None, other) => {
                return Err(ForgeError::Contract {
                    endpoint: self.endpoints.token.into(),
                    detail: format!("neither a token nor a known error: {other:?}"),
                })
            }
        })
    }
}
