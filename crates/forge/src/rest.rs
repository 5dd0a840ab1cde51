//! The HTTP side every forge client shares: one connection pool, the
//! token on every request and nowhere else, conditional requests (ETag), `Link`
//! pagination that never leaves the forge's origin, retries with jitter for
//! idempotent requests, rate limits waited out when short, body size limits,
//! and the forge's clock read from its `Date` header.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use countersign_secret::Secret;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, ETAG, IF_NONE_MATCH, LINK};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use crate::{ForgeClock, ForgeError};

/// What a request asks for: GitHub's JSON and diff media types, or plain
/// JSON and text as Gitea, Forgejo and GitLab answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum MediaType {
    GitHubJson,
    GitHubDiff,
    Json,
    Text,
}

impl MediaType {
    /// Every media type a cached answer may have been asked for.
    pub(crate) const ALL: [MediaType; 4] = [
        MediaType::GitHubJson,
        MediaType::GitHubDiff,
        MediaType::Json,
        MediaType::Text,
    ];

    /// The `Accept` header's value (and the disk cache's name for it).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MediaType::GitHubJson => "application/vnd.github+json",
            MediaType::GitHubDiff => "application/vnd.github.diff",
            MediaType::Json => "application/json",
            MediaType::Text => "text/plain",
        }
    }

    /// The media type a stored cache entry names, if it is one of ours.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether the answer must be JSON (else anything but an HTML page).
    fn is_json(self) -> bool {
        matches!(self, MediaType::GitHubJson | MediaType::Json)
    }
}
/// GitHub's own ceiling; also what keeps a hostile server from streaming forever.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
const MAX_PAGES: usize = 50;
const RETRIES: u32 = 3;

/// How the token travels: GitHub and GitLab take `Bearer` (GitLab for its
/// access tokens and OAuth tokens alike), Gitea and Forgejo `token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthScheme {
    Bearer,
    Token,
}

pub(crate) struct RestConfig {
    pub api_base: Url,
    pub token: Option<Secret<String>>,
    pub auth: AuthScheme,
    /// Sent with every request (e.g. GitHub's API version).
    pub headers: HeaderMap,
    /// What JSON requests ask for.
    pub json: MediaType,
    pub timeout: Duration,
    pub max_concurrency: usize,
    pub disk_cache: Option<crate::DiskCache>,
}

pub(crate) struct Cached {
    pub(crate) etag: String,
    pub(crate) body: Vec<u8>,
    pub(crate) next: Option<Url>,
    /// `X-Total-Count` of the stored answer.
    pub(crate) total: Option<u64>,
}

pub(crate) struct Rest {
    api_base: Url,
    host: String,
    token: Option<Secret<String>>,
    auth: AuthScheme,
    json: MediaType,
    http: reqwest::Client,
    slots: Semaphore,
    // Keyed by URL and media type: a 304 re-uses the stored body and costs no rate limit.
    cache: Mutex<HashMap<(String, MediaType), Cached>>,
    disk_cache: Option<crate::DiskCache>,
    clock: Mutex<Option<ForgeClock>>,
}

pub(crate) struct Page {
    pub(crate) endpoint: String,
    pub(crate) body: Vec<u8>,
    pub(crate) next: Option<Url>,
    /// `X-Total-Count`, when the forge sends it.
    pub(crate) total: Option<u64>,
}

impl Rest {
    pub(crate) fn new(config: RestConfig) -> Result<Self, ForgeError> {
        let mut api_base = config.api_base;
        if !api_base.path().ends_with('/') {
            let path = format!("{}/", api_base.path());
            api_base.set_path(&path);
        }
        if !matches!(api_base.scheme(), "https" | "http") {
            return Err(ForgeError::InvalidInput(format!(
                "unsupported URL scheme in {api_base}"
            )));
        }
        // Anyone on the path could rewrite records, statuses and the policy
        // in flight: plain http only to this machine (a sandbox, a tunnel).
        if api_base.scheme() == "http" && !is_loopback(&api_base) {
            return Err(ForgeError::InvalidInput(format!(
                "refusing {api_base}: a forge is reached over https:// (plain http:// only on this machine's loopback)"
            )));
        }
        let host = api_base.host_str().unwrap_or("forge").to_owned();
        let http = reqwest::Client::builder()
            .user_agent(concat!("countersign/", env!("CARGO_PKG_VERSION")))
            .default_headers(config.headers)
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            // A redirect could carry the token to another host; artifact downloads
            // handle their redirect explicitly instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ForgeError::InvalidInput(format!("HTTP client: {e}")))?;
        let cached = config
            .disk_cache
            .as_ref()
            .map(|c| crate::disk_cache::load(c, &api_base))
            .unwrap_or_default();
        Ok(Self {
            api_base,
            host,
            token: config.token,
            auth: config.auth,
            json: config.json,
            http,
            slots: Semaphore::new(config.max_concurrency.max(1)),
            cache: Mutex::new(cached),
            disk_cache: config.disk_cache,
            clock: Mutex::new(None),
        })
    }

    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn clock(&self) -> Option<ForgeClock> {
        *self.clock.lock().unwrap()
    }

    /// Write the conditional-request cache to disk, when one is configured.
    pub(crate) fn persist_cache(&self) {
        if let Some(disk) = &self.disk_cache {
            let entries = self.cache.lock().unwrap();
            if let Err(e) = crate::disk_cache::save(disk, &entries) {
                tracing::warn!(error = %e, path = %disk.path.display(), "cannot write the HTTP cache");
            }
        }
    }

    fn authorization(&self, token: &Secret<String>) -> Result<HeaderValue, ForgeError> {
        authorization(self.auth, token)
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        // `path` is built from validated parts only (RepoId, numbers).
        self.api_base.join(path).expect("relative API path")
    }

    fn observe_clock(&self, headers: &HeaderMap) {
        let server_time = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|t| t.with_timezone(&Utc));
        if let Some(server_time) = server_time {
            *self.clock.lock().unwrap() = Some(ForgeClock {
                server_time,
                local_time: Utc::now(),
            });
        }
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, ForgeError> {
        let page = self.get(url, self.json).await?;
        decode(&page.endpoint, &page.body)
    }

    /// Every page of a list endpoint, following `Link: rel="next"`.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        url: Url,
    ) -> Result<Vec<T>, ForgeError> {
        self.pages(url, |page| decode(&page.endpoint, &page.body))
            .await
    }

    /// Every page of a list that GitHub wraps in an object (`{"total_count":
    /// n, key: [...]}`, as the Actions endpoints answer).
    pub(crate) async fn get_all_in<T: DeserializeOwned>(
        &self,
        url: Url,
        key: &str,
    ) -> Result<Vec<T>, ForgeError> {
        self.pages(url, |page| {
            let mut wrapped: serde_json::Map<String, serde_json::Value> =
                decode(&page.endpoint, &page.body)?;
            let list = wrapped.remove(key).ok_or_else(|| ForgeError::Contract {
                endpoint: page.endpoint.clone(),
                detail: format!("missing field `{key}`"),
            })?;
            serde_json::from_value(list).map_err(|e| ForgeError::Contract {
                endpoint: page.endpoint.clone(),
                detail: e.to_string(),
            })
        })
        .await
    }

    /// Follow `Link: rel="next"` (at most [`MAX_PAGES`]), reading each page's items with `items`.
    pub(crate) async fn pages<T>(
        &self,
        url: Url,
        items: impl Fn(&Page) -> Result<Vec<T>, ForgeError>,
    ) -> Result<Vec<T>, ForgeError> {
        let mut all = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(ForgeError::Contract {
                    endpoint: url.path().to_owned(),
                    detail: format!("more than {MAX_PAGES} pages"),
                });
            }
            let page = self.get(url, self.json).await?;
            all.append(&mut items(&page)?);
            next = page.next;
        }
        Ok(all)
    }

    pub(crate) async fn get(&self, url: Url, accept: MediaType) -> Result<Page, ForgeError> {
        let endpoint = url.path().to_owned();
        let key = (url.to_string(), accept);
        let mut attempt = 0;
        let mut waited_for_limit = false;
        loop {
            attempt += 1;
            match self.get_once(&url, accept, &key, &endpoint).await {
                Err(e) if attempt < RETRIES && retryable(&e) => {
                    let delay = backoff(attempt);
                    tracing::warn!(%endpoint, attempt, ?delay, error = %e, "retrying GET");
                    tokio::time::sleep(delay).await;
                }
                // A short limit is waited out once, so a gate run does not go
                // red on it; a long one is the caller's to report.
                Err(ForgeError::RateLimited { until }) if !waited_for_limit => {
                    let wait = (until - Utc::now()).to_std().unwrap_or_default();
                    if wait > MAX_RATE_LIMIT_WAIT {
                        return Err(ForgeError::RateLimited { until });
                    }
                    waited_for_limit = true;
                    tracing::warn!(%endpoint, ?wait, "rate limited: waiting, then retrying");
                    // The reset time has one-second resolution.
                    tokio::time::sleep(wait + Duration::from_millis(500)).await;
                }
                other => return other,
            }
        }
    }

    async fn get_once(
        &self,
        url: &Url,
        accept: MediaType,
        key: &(String, MediaType),
        endpoint: &str,
    ) -> Result<Page, ForgeError> {
        let _slot = self.slots.acquire().await.expect("semaphore never closed");
        let mut request = self.http.get(url.clone()).header(ACCEPT, accept.as_str());
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, self.authorization(token)?);
        }
        let cached_etag = self.cache.lock().unwrap().get(key).map(|c| c.etag.clone());
        if let Some(etag) = &cached_etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(|e| network(endpoint, &e))?;
        self.observe_clock(response.headers());
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            let cache = self.cache.lock().unwrap();
            if let Some(hit) = cache.get(key) {
                return Ok(Page {
                    endpoint: endpoint.to_owned(),
                    body: hit.body.clone(),
                    next: hit.next.clone(),
                    total: hit.total,
                });
            }
            return Err(contract(
                endpoint,
                "304 Not Modified for a request that was not conditional",
            ));
        }
        if !status.is_success() {
            return Err(status_error(endpoint, status, response.headers()));
        }
        // A JSON endpoint answering HTML is a proxy or captive portal, not GitHub.
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let expected = if accept.is_json() {
            content_type.contains("json")
        } else {
            !content_type.contains("html")
        };
        if !expected {
            return Err(contract(
                endpoint,
                &format!(
                    "expected {}, got content type {content_type:?}",
                    accept.as_str()
                ),
            ));
        }
        let next = next_link(response.headers(), &self.api_base, endpoint)?;
        let total = response
            .headers()
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_limited(response, endpoint).await?;
        if let Some(etag) = etag {
            self.cache.lock().unwrap().insert(
                key.clone(),
                Cached {
                    etag,
                    body: body.clone(),
                    next: next.clone(),
                    total,
                },
            );
        }
        Ok(Page {
            endpoint: endpoint.to_owned(),
            body,
            next,
            total,
        })
    }

    pub(crate) async fn write_json<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: Url,
        body: &serde_json::Value,
    ) -> Result<T, ForgeError> {
        let endpoint = url.path().to_owned();
        let attempts = if method == reqwest::Method::PATCH {
            RETRIES
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.write_once(method.clone(), &url, body, &endpoint).await;
            match result {
                Err(e) if attempt < attempts && retryable(&e) => {
                    tokio::time::sleep(backoff(attempt)).await
                }
                Err(e) => return Err(e),
                Ok(bytes) => return decode(&endpoint, &bytes),
            }
        }
    }

    async fn write_once(
        &self,
        method: reqwest::Method,
        url: &Url,
        body: &serde_json::Value,
        endpoint: &str,
    ) -> Result<Vec<u8>, ForgeError> {
        let _slot = self.slots.acquire().await.expect("semaphore never closed");
        let mut request = self
            .http
            .request(method, url.clone())
            .header(ACCEPT, self.json.as_str())
            .json(body);
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, self.authorization(token)?);
        }
        let response = request.send().await.map_err(|e| network(endpoint, &e))?;
        self.observe_clock(response.headers());
        let status = response.status();
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            let text = read_limited(response, endpoint).await.unwrap_or_default();
            return Err(ForgeError::InvalidInput(format!(
                "{endpoint} refused the request: {}",
                String::from_utf8_lossy(&text)
                    .chars()
                    .take(300)
                    .collect::<String>()
            )));
        }
        if !status.is_success() {
            return Err(status_error(endpoint, status, response.headers()));
        }
        read_limited(response, endpoint).await
    }

    /// Download `artifact`'s zip from `url` to `dest`: refused before any
    /// request when it has expired or says it is larger than `max_bytes`,
    /// and cut off when the bytes outgrow `max_bytes` anyway.
    pub(crate) async fn download_artifact(
        &self,
        url: Url,
        artifact: &crate::Artifact,
        dest: &std::path::Path,
        max_bytes: u64,
    ) -> Result<u64, ForgeError> {
        if artifact.expired {
            return Err(ForgeError::NotFound(format!(
                "artifact {} has expired",
                artifact.name
            )));
        }
        if artifact.size_bytes > max_bytes {
            return Err(ForgeError::InvalidInput(format!(
                "artifact {} is {} bytes, more than the {max_bytes} allowed",
                artifact.name, artifact.size_bytes
            )));
        }
        self.download(url, dest, max_bytes, &format!("artifact {}", artifact.name))
            .await
    }

    /// Stream a download (an artifact's zip) to `dest`, refusing more than
    /// `max_bytes`. A redirect is followed once, without the token, and only
    /// to https or to this forge.
    async fn download(
        &self,
        url: Url,
        dest: &std::path::Path,
        max_bytes: u64,
        what: &str,
    ) -> Result<u64, ForgeError> {
        let endpoint = url.path().to_owned();
        let response = {
            let _slot = self.slots.acquire().await.expect("semaphore never closed");
            let mut request = self
                .http
                .get(url.clone())
                .header(ACCEPT, self.json.as_str());
            if let Some(token) = &self.token {
                request = request.header(AUTHORIZATION, self.authorization(token)?);
            }
            request.send().await.map_err(|e| network(&endpoint, &e))?
        };
        self.observe_clock(response.headers());
        let response = if response.status() == StatusCode::FOUND {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| url.join(v).ok())
                .ok_or_else(|| contract(&endpoint, "302 without a usable Location"))?;
            // The signed storage URL needs no token, and must never get one.
            let trusted = location.scheme() == "https"
                || location.origin() == self.api_base.origin()
                || (is_loopback(&location) && is_loopback(&self.api_base));
            if !trusted {
                return Err(contract(
                    &endpoint,
                    "the artifact redirect is neither https nor this forge",
                ));
            }
            self.http
                .get(location)
                .send()
                .await
                .map_err(|e| network(&endpoint, &e))?
        } else {
            response
        };
        if response.status() == StatusCode::GONE {
            return Err(ForgeError::NotFound(format!("{what} has expired")));
        }
        if !response.status().is_success() {
            return Err(status_error(
                &endpoint,
                response.status(),
                response.headers(),
            ));
        }
        stream_to_file(response, dest, max_bytes, &endpoint).await
    }
}

impl Drop for Rest {
    fn drop(&mut self) {
        self.persist_cache();
    }
}

/// A ref under `refs/`, e.g. `countersign/acme-medical/42`: plain segments only.
pub(crate) fn check_ref_name(name: &str) -> Result<(), ForgeError> {
    let ok = !name.is_empty()
        && name.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && !seg.ends_with(".lock")
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        && !name.contains("..");
    if ok {
        Ok(())
    } else {
        Err(ForgeError::InvalidInput(format!(
            "not a usable ref name: {name:?}"
        )))
    }
}

/// `{ref}` is one path parameter: its slashes travel encoded, as GitHub's
/// own clients send them (`heads%2Fmain`).
pub(crate) fn ref_segment(name: &str) -> String {
    name.replace('/', "%2F")
}

/// A repository path, split into segments that `Url` percent-encodes.
pub(crate) fn path_segments(path: &str) -> Result<Vec<&str>, ForgeError> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(ForgeError::InvalidInput(format!(
            "not a repository file path: {path:?}"
        )));
    }
    Ok(segments)
}

/// GitHub wraps base64 at 60 columns.
pub(crate) fn decode_base64(endpoint: &str, text: &str) -> Result<Vec<u8>, ForgeError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, compact)
        .map_err(|e| contract(endpoint, &format!("content is not base64: {e}")))
}

pub(crate) fn not_found_as_none<T>(r: Result<T, ForgeError>) -> Result<Option<T>, ForgeError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(ForgeError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The refs among `refs` (full name, commit) whose name, less `strip`,
/// starts with `prefix`: each with that shorter name and a checked commit id.
pub(crate) fn refs_with_prefix(
    refs: impl IntoIterator<Item = (String, String)>,
    strip: &str,
    prefix: &str,
) -> Result<Vec<(String, String)>, ForgeError> {
    let mut found = Vec::new();
    for (full, sha) in refs {
        let Some(name) = full.strip_prefix(strip) else {
            continue;
        };
        if name.starts_with(prefix) {
            check_sha(&sha)?;
            found.push((name.to_owned(), sha));
        }
    }
    Ok(found)
}

/// The commits a forge listed for the records branch `name`, newest first,
/// checked before any is read: at most `max`, each a commit id, and the
/// first the branch's `tip` (a list that starts elsewhere is not its history).
pub(crate) fn branch_history(
    name: &str,
    tip: &str,
    listed: Vec<String>,
    max: usize,
    endpoint: &str,
) -> Result<Vec<String>, ForgeError> {
    if listed.len() > max {
        return Err(ForgeError::TooLarge(format!(
            "branch {name} has more than {max} commits"
        )));
    }
    if listed.first().map(String::as_str) != Some(tip) {
        return Err(contract(
            endpoint,
            "the commits list does not start at the branch's tip",
        ));
    }
    for sha in &listed {
        check_sha(sha)?;
    }
    Ok(listed)
}

/// A commit SHA goes into a URL path: only hex, so it cannot add path segments.
pub(crate) fn check_sha(sha: &str) -> Result<(), ForgeError> {
    if (7..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(ForgeError::InvalidInput(format!(
            "not a commit SHA: {sha:?}"
        )))
    }
}

pub(crate) fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, ForgeError> {
    serde_json::from_slice(body).map_err(|e| contract(endpoint, &format!("bad JSON: {e}")))
}

pub(crate) fn contract(endpoint: &str, detail: &str) -> ForgeError {
    ForgeError::Contract {
        endpoint: endpoint.to_owned(),
        detail: detail.to_owned(),
    }
}

pub(crate) fn network(endpoint: &str, e: &reqwest::Error) -> ForgeError {
    let detail = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection refused or failed".to_owned()
    } else {
        // reqwest's Display includes the URL, never headers: no token in here.
        e.to_string()
    };
    ForgeError::Network {
        endpoint: endpoint.to_owned(),
        detail,
    }
}

/// `Bearer <token>` or `token <token>`, marked sensitive so no log or Debug
/// of a request shows it; the formatted copy is wiped when dropped.
fn authorization(scheme: AuthScheme, token: &Secret<String>) -> Result<HeaderValue, ForgeError> {
    let word = match scheme {
        AuthScheme::Bearer => "Bearer",
        AuthScheme::Token => "token",
    };
    let text = Secret::new(format!("{word} {}", token.expose()));
    let mut value = HeaderValue::from_str(text.expose())
        .map_err(|_| ForgeError::InvalidInput("the token is not a valid header value".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The longest rate limit a request waits out before it reports the limit.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

pub(crate) fn retryable(e: &ForgeError) -> bool {
    match e {
        ForgeError::Network { .. } => true,
        ForgeError::Status { status, .. } => matches!(status, 500 | 502 | 503 | 504),
        _ => false,
    }
}

pub(crate) fn backoff(attempt: u32) -> Duration {
    // Full jitter without a RNG dependency: the clock's low bits are random enough
    // to de-synchronise clients.
    let base_ms = 200u64 << attempt.min(5);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    Duration::from_millis(base_ms / 2 + nanos % (base_ms / 2 + 1))
}

pub(crate) fn status_error(endpoint: &str, status: StatusCode, headers: &HeaderMap) -> ForgeError {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (header("x-ratelimit-remaining") == Some("0") || header("retry-after").is_some()));
    if rate_limited {
        let until = header("retry-after")
            .and_then(|s| s.parse::<i64>().ok())
            .map(|secs| Utc::now() + chrono::Duration::seconds(secs.clamp(0, 3600)))
            .or_else(|| {
                // GitHub's name, then GitLab's.
                header("x-ratelimit-reset")
                    .or_else(|| header("ratelimit-reset"))
                    .and_then(|s| s.parse::<i64>().ok())
                    .and_then(|t| Utc.timestamp_opt(t, 0).single())
            })
            .unwrap_or_else(|| Utc::now() + chrono::Duration::seconds(60));
        return ForgeError::RateLimited {
            until: until.max(Utc::now()),
        };
    }
    match status {
        StatusCode::NOT_FOUND => ForgeError::NotFound(endpoint.to_owned()),
        StatusCode::UNAUTHORIZED => ForgeError::Unauthorized(endpoint.to_owned()),
        StatusCode::FORBIDDEN => {
            let missing = header("x-accepted-github-permissions").unwrap_or("unknown");
            ForgeError::Forbidden(format!("{endpoint} (needs: {missing})"))
        }
        other => ForgeError::Status {
            endpoint: endpoint.to_owned(),
            status: other.as_u16(),
        },
    }
}

/// The `rel="next"` target of a `Link` header. A next page on another origin
/// is an error, not the end of the list: following it would hand our token to
/// that host, and stopping there would show a partial list as whole.
pub(crate) fn next_link(
    headers: &HeaderMap,
    api_base: &Url,
    endpoint: &str,
) -> Result<Option<Url>, ForgeError> {
    let Some(link) = headers.get(LINK).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    for part in link.split(',') {
        let Some((target, params)) = part.split_once(';') else {
            continue;
        };
        if !params.split(';').any(|p| p.trim() == "rel=\"next\"") {
            continue;
        }
        let raw = target.trim().trim_start_matches('<').trim_end_matches('>');
        let url = Url::parse(raw)
            .map_err(|_| contract(endpoint, &format!("unparseable next-page link {raw:?}")))?;
        if url.origin() != api_base.origin() {
            return Err(contract(
                endpoint,
                &format!(
                    "the next page is on another host ({})",
                    url.origin().ascii_serialization()
                ),
            ));
        }
        return Ok(Some(url));
    }
    Ok(None)
}

async fn stream_to_file(
    mut response: reqwest::Response,
    dest: &std::path::Path,
    max_bytes: u64,
    endpoint: &str,
) -> Result<u64, ForgeError> {
    use tokio::io::AsyncWriteExt;
    let io = |e: std::io::Error| {
        ForgeError::InvalidInput(format!("cannot write {}: {e}", dest.display()))
    };
    let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
    let mut written = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| network(endpoint, &e))? {
        written += chunk.len() as u64;
        if written > max_bytes {
            drop(file);
            let _ = tokio::fs::remove_file(dest).await;
            return Err(ForgeError::InvalidInput(format!(
                "{endpoint}: the download is larger than the {max_bytes} bytes allowed"
            )));
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok(written)
}

async fn read_limited(
    mut response: reqwest::Response,
    endpoint: &str,
) -> Result<Vec<u8>, ForgeError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(contract(endpoint, "response larger than 32 MiB"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| network(endpoint, &e))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(contract(endpoint, "response larger than 32 MiB"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_is_sensitive_and_never_shown() {
        let value =
            authorization(AuthScheme::Bearer, &Secret::from("ghp_not-a-real-token")).unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("ghp_"), "{value:?}");
        assert!(authorization(AuthScheme::Token, &Secret::from("line\nbreak")).is_err());
    }

    fn headers(link: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(LINK, HeaderValue::from_str(link).unwrap());
        h
    }

    #[test]
    fn next_link_follows_only_the_same_origin_and_never_stops_silently() {
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let same = headers(
            r#"<http://127.0.0.1:8080/x?page=2>; rel="next", <http://127.0.0.1:8080/x?page=5>; rel="last""#,
        );
        let next = next_link(&same, &base, "/x").unwrap().unwrap();
        assert_eq!(next.as_str(), "http://127.0.0.1:8080/x?page=2");
        let last_only = headers(r#"<http://127.0.0.1:8080/x?page=5>; rel="last""#);
        assert!(next_link(&last_only, &base, "/x").unwrap().is_none());
        let elsewhere = headers(r#"<http://evil.example/x?page=2>; rel="next""#);
        assert!(matches!(
            next_link(&elsewhere, &base, "/x"),
            Err(ForgeError::Contract { .. })
        ));
    }

    #[test]
    fn rate_limits_are_recognised_from_either_header() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("4102444800"));
        match status_error("/user", StatusCode::FORBIDDEN, &h) {
            ForgeError::RateLimited { until } => assert_eq!(until.timestamp(), 4102444800),
            other => panic!("{other:?}"),
        }
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("30"));
        assert!(matches!(
            status_error("/user", StatusCode::TOO_MANY_REQUESTS, &h),
            ForgeError::RateLimited { .. }
        ));
        assert!(matches!(
            status_error("/user", StatusCode::FORBIDDEN, &HeaderMap::new()),
            ForgeError::Forbidden(_)
        ));
        // GitLab's 429 names its reset time in `RateLimit-Reset`.
        let mut h = HeaderMap::new();
        h.insert("ratelimit-reset", HeaderValue::from_static("4102444800"));
        match status_error("/user", StatusCode::TOO_MANY_REQUESTS, &h) {
            ForgeError::RateLimited { until } => assert_eq!(until.timestamp(), 4102444800),
            other => panic!("{other:?}"),
        }
    }
}
