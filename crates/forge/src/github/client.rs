use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use countersign_secret::Secret;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, ETAG, IF_NONE_MATCH, LINK};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use super::wire;
use crate::{
    ChangeRequest, ChangeRequestSummary, ChangedFile, Forge, ForgeClock, ForgeError, ForgeUser,
    RepoId,
};

const JSON: &str = "application/vnd.github+json";
const DIFF: &str = "application/vnd.github.diff";
/// Every media type a cached answer may have been asked for.
pub(super) const ACCEPTS: [&str; 2] = [JSON, DIFF];
const API_VERSION: &str = "2022-11-28";
/// GitHub's own ceiling; also what keeps a hostile server from streaming forever.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
const MAX_PAGES: usize = 50;
const RETRIES: u32 = 3;

/// How to reach one GitHub instance.
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// REST root, e.g. `https://api.github.com/` or `https://ghe.example/api/v3/`.
    pub api_base: Url,
    /// Fine-grained PAT or OAuth token; `None` for anonymous reads.
    pub token: Option<Secret<String>>,
    /// Repositories to watch. Empty: the user's own most recently pushed ones.
    pub repos: Vec<RepoId>,
    pub timeout: Duration,
    pub max_concurrency: usize,
    /// Keep conditional-request answers on disk between runs.
    pub disk_cache: Option<super::DiskCache>,
}

impl GitHubConfig {
    pub fn new(api_base: Url) -> Self {
        Self {
            api_base,
            token: None,
            repos: Vec::new(),
            timeout: Duration::from_secs(20),
            max_concurrency: 8,
            disk_cache: None,
        }
    }
}

pub(super) struct Cached {
    pub(super) etag: String,
    pub(super) body: Vec<u8>,
    pub(super) next: Option<Url>,
}

pub struct GitHubForge {
    api_base: Url,
    host: String,
    token: Option<Secret<String>>,
    repos: Vec<RepoId>,
    http: reqwest::Client,
    slots: Semaphore,
    // Keyed by URL and media type: a 304 re-uses the stored body and costs no rate limit.
    cache: Mutex<HashMap<(String, &'static str), Cached>>,
    disk_cache: Option<super::DiskCache>,
    clock: Mutex<Option<ForgeClock>>,
}

impl GitHubForge {
    pub fn new(config: GitHubConfig) -> Result<Self, ForgeError> {
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
        let mut headers = HeaderMap::new();
        headers.insert(
            "X-GitHub-Api-Version",
            HeaderValue::from_static(API_VERSION),
        );
        let http = reqwest::Client::builder()
            .user_agent(concat!("countersign/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
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
            .map(|c| super::disk_cache::load(c, &api_base))
            .unwrap_or_default();
        Ok(Self {
            api_base,
            host,
            token: config.token,
            repos: config.repos,
            http,
            slots: Semaphore::new(config.max_concurrency.max(1)),
            cache: Mutex::new(cached),
            disk_cache: config.disk_cache,
            clock: Mutex::new(None),
        })
    }

    /// Write the conditional-request cache to disk, when one is configured.
    pub fn persist_cache(&self) {
        if let Some(disk) = &self.disk_cache {
            let entries = self.cache.lock().unwrap();
            if let Err(e) = super::disk_cache::save(disk, &entries) {
                tracing::warn!(error = %e, path = %disk.path.display(), "cannot write the HTTP cache");
            }
        }
    }

    fn url(&self, path: &str) -> Url {
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

    async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, ForgeError> {
        let page = self.get(url, JSON).await?;
        decode(&page.endpoint, &page.body)
    }

    /// Every page of a list endpoint, following `Link: rel="next"`.
    async fn get_all<T: DeserializeOwned>(&self, url: Url) -> Result<Vec<T>, ForgeError> {
        self.pages(url, |page| decode(&page.endpoint, &page.body))
            .await
    }

    /// Every page of a list that GitHub wraps in an object (`{"total_count":
    /// n, key: [...]}`, as the Actions endpoints answer).
    async fn get_all_in<T: DeserializeOwned>(
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
    async fn pages<T>(
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
            let page = self.get(url, JSON).await?;
            all.append(&mut items(&page)?);
            next = page.next;
        }
        Ok(all)
    }

    async fn get(&self, url: Url, accept: &'static str) -> Result<Page, ForgeError> {
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
        accept: &'static str,
        key: &(String, &'static str),
        endpoint: &str,
    ) -> Result<Page, ForgeError> {
        let _slot = self.slots.acquire().await.expect("semaphore never closed");
        let mut request = self.http.get(url.clone()).header(ACCEPT, accept);
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, bearer(token)?);
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
        let expected = if accept == DIFF {
            !content_type.contains("html")
        } else {
            content_type.contains("json")
        };
        if !expected {
            return Err(contract(
                endpoint,
                &format!("expected {accept}, got content type {content_type:?}"),
            ));
        }
        let next = next_link(response.headers(), &self.api_base, endpoint)?;
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
                },
            );
        }
        Ok(Page {
            endpoint: endpoint.to_owned(),
            body,
            next,
        })
    }
}

impl GitHubForge {
    /// A blob's bytes through the Git Data API.
    /// The commit `sha` and the blob id of the file `path` in its tree
    /// (`None`: no such file there).
    async fn commit_file(
        &self,
        repo: &RepoId,
        sha: &str,
        path: &str,
    ) -> Result<(wire::GitCommit, Option<String>), ForgeError> {
        check_sha(sha)?;
        let base = format!("repos/{}/{}/git", repo.owner, repo.name);
        let commit: wire::GitCommit = self
            .get_json(self.url(&format!("{base}/commits/{sha}")))
            .await?;
        check_sha(&commit.tree.sha)?;
        let tree: wire::Tree = self
            .get_json(self.url(&format!("{base}/trees/{}", commit.tree.sha)))
            .await?;
        let blob = tree
            .tree
            .into_iter()
            .find(|e| e.path == path && e.kind == "blob")
            .map(|e| e.sha);
        Ok((commit, blob))
    }

    /// The commit `refs/<name>` points to; `None` when there is no such ref.
    async fn ref_commit(&self, repo: &RepoId, name: &str) -> Result<Option<String>, ForgeError> {
        check_ref_name(name)?;
        let url = self.url(&format!(
            "repos/{}/{}/git/ref/{}",
            repo.owner,
            repo.name,
            ref_segment(name)
        ));
        let Some(r) = not_found_as_none(self.get_json::<wire::Ref>(url).await)? else {
            return Ok(None);
        };
        check_sha(&r.object.sha)?;
        Ok(Some(r.object.sha))
    }

    async fn blob(&self, repo: &RepoId, sha: &str) -> Result<Vec<u8>, ForgeError> {
        check_sha(sha)?;
        let url = self.url(&format!(
            "repos/{}/{}/git/blobs/{sha}",
            repo.owner, repo.name
        ));
        let endpoint = url.path().to_owned();
        let blob: wire::Blob = self.get_json(url).await?;
        if blob.encoding != "base64" {
            return Err(contract(&endpoint, "blob not in base64"));
        }
        decode_base64(&endpoint, &blob.content)
    }

    /// POST or PATCH a JSON body. POST is never retried (it is not idempotent);
    /// PATCH with the same body is, like GET.
    async fn write_json<T: DeserializeOwned>(
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
            .header(ACCEPT, JSON)
            .json(body);
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, bearer(token)?);
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
}

struct Page {
    endpoint: String,
    body: Vec<u8>,
    next: Option<Url>,
}

#[async_trait]
impl Forge for GitHubForge {
    fn host(&self) -> &str {
        &self.host
    }

    fn clock(&self) -> Option<ForgeClock> {
        *self.clock.lock().unwrap()
    }

    async fn current_user(&self) -> Result<ForgeUser, ForgeError> {
        let user: wire::User = self.get_json(self.url("user")).await?;
        Ok(user.into())
    }

    async fn repositories(&self) -> Result<Vec<RepoId>, ForgeError> {
        if !self.repos.is_empty() {
            return Ok(self.repos.clone());
        }
        let repos: Vec<wire::Repository> = self
            .get_json(self.url("user/repos?sort=pushed&per_page=100"))
            .await?;
        Ok(repos.into_iter().map(RepoId::from).collect())
    }

    async fn open_change_requests(
        &self,
        repo: &RepoId,
    ) -> Result<Vec<ChangeRequestSummary>, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/pulls?state=open&sort=created&direction=desc&per_page=100",
            repo.owner, repo.name
        ));
        let pulls: Vec<wire::Pull> = self.get_all(url).await?;
        Ok(pulls.into_iter().map(|p| p.into_summary(repo)).collect())
    }

    async fn change_request(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<ChangeRequest, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/pulls/{number}",
            repo.owner, repo.name
        ));
        let pull: wire::Pull = self.get_json(url).await?;
        Ok(pull.into_change_request(repo))
    }

    async fn changed_files(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<ChangedFile>, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/pulls/{number}/files?per_page=100",
            repo.owner, repo.name
        ));
        let files: Vec<wire::File> = self.get_all(url).await?;
        Ok(files.into_iter().map(ChangedFile::from).collect())
    }

    async fn commit_statuses(
        &self,
        repo: &RepoId,
        sha: &str,
    ) -> Result<Vec<crate::CommitStatus>, ForgeError> {
        check_sha(sha)?;
        let url = self.url(&format!(
            "repos/{}/{}/commits/{sha}/status?per_page=100",
            repo.owner, repo.name
        ));
        let combined: wire::CombinedStatus = self.get_json(url).await?;
        Ok(combined.statuses.into_iter().map(Into::into).collect())
    }

    async fn create_status(
        &self,
        repo: &RepoId,
        sha: &str,
        status: &crate::CommitStatus,
    ) -> Result<(), ForgeError> {
        check_sha(sha)?;
        let description = status.description.clone().unwrap_or_default();
        if description.chars().count() > 140 {
            return Err(ForgeError::InvalidInput(
                "a commit status description has at most 140 characters".into(),
            ));
        }
        let url = self.url(&format!(
            "repos/{}/{}/statuses/{sha}",
            repo.owner, repo.name
        ));
        let body = serde_json::json!({
            "state": status.state,
            "description": description,
            "context": status.context,
            "target_url": status.target_url,
        });
        let _: serde_json::Value = self.write_json(reqwest::Method::POST, url, &body).await?;
        Ok(())
    }

    async fn comments(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::Comment>, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/issues/{number}/comments?per_page=100",
            repo.owner, repo.name
        ));
        let list: Vec<wire::IssueComment> = self.get_all(url).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    async fn create_comment(
        &self,
        repo: &RepoId,
        number: u64,
        body: &str,
    ) -> Result<crate::Comment, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/issues/{number}/comments",
            repo.owner, repo.name
        ));
        let c: wire::IssueComment = self
            .write_json(
                reqwest::Method::POST,
                url,
                &serde_json::json!({ "body": body }),
            )
            .await?;
        Ok(c.into())
    }

    async fn update_comment(
        &self,
        repo: &RepoId,
        comment_id: u64,
        body: &str,
    ) -> Result<crate::Comment, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/issues/comments/{comment_id}",
            repo.owner, repo.name
        ));
        let c: wire::IssueComment = self
            .write_json(
                reqwest::Method::PATCH,
                url,
                &serde_json::json!({ "body": body }),
            )
            .await?;
        Ok(c.into())
    }

    async fn reviews(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::ForgeReview>, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/pulls/{number}/reviews?per_page=100",
            repo.owner, repo.name
        ));
        let list: Vec<wire::Review> = self.get_all(url).await?;
        Ok(list
            .into_iter()
            .filter_map(wire::Review::into_review)
            .collect())
    }

    async fn default_branch(&self, repo: &RepoId) -> Result<String, ForgeError> {
        let url = self.url(&format!("repos/{}/{}", repo.owner, repo.name));
        let r: wire::RepositoryBranch = self.get_json(url).await?;
        Ok(r.default_branch)
    }

    async fn commits(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::CommitInfo>, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/pulls/{number}/commits?per_page=100",
            repo.owner, repo.name
        ));
        let list: Vec<wire::PullCommit> = self.get_all(url).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    async fn checks(&self, repo: &RepoId, sha: &str) -> Result<Vec<crate::Check>, ForgeError> {
        check_sha(sha)?;
        let url = self.url(&format!(
            "repos/{}/{}/commits/{sha}/check-runs?per_page=100",
            repo.owner, repo.name
        ));
        let check_runs: Vec<wire::CheckRun> = self.get_all_in(url, "check_runs").await?;
        let url = self.url(&format!(
            "repos/{}/{}/commits/{sha}/status?per_page=100",
            repo.owner, repo.name
        ));
        let combined: wire::CombinedStatus = self.get_json(url).await?;
        // Newest first on GitHub: the first of each name from each source
        // (an app's check runs, the commit statuses) is the one that counts.
        let mut checks: Vec<crate::Check> = Vec::new();
        for check in check_runs
            .into_iter()
            .map(crate::Check::from)
            .chain(combined.statuses.into_iter().map(crate::Check::from))
        {
            if !checks
                .iter()
                .any(|c| c.name == check.name && c.source == check.source)
            {
                checks.push(check);
            }
        }
        Ok(checks)
    }

    async fn file_at(
        &self,
        repo: &RepoId,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>, ForgeError> {
        if check_sha(git_ref).is_err() {
            check_ref_name(git_ref)?;
        }
        let mut url = self.url(&format!("repos/{}/{}/contents/", repo.owner, repo.name));
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .pop_if_empty()
            .extend(path_segments(path)?);
        url.set_query(Some(&format!("ref={git_ref}")));
        let endpoint = url.path().to_owned();
        let Some(file) = not_found_as_none(self.get_json::<wire::ContentFile>(url).await)? else {
            return Ok(None);
        };
        if file.kind != "file" {
            return Err(ForgeError::InvalidInput(format!(
                "{path} is a {}, not a file",
                file.kind
            )));
        }
        match (file.encoding.as_deref(), file.content.as_deref()) {
            (Some("base64"), Some(text)) => decode_base64(&endpoint, text).map(Some),
            // Over 1 MB the contents API leaves the bytes out: read the blob.
            _ => self.blob(repo, &file.sha).await.map(Some),
        }
    }

    async fn artifacts(
        &self,
        repo: &RepoId,
        sha: &str,
    ) -> Result<Vec<crate::Artifact>, ForgeError> {
        check_sha(sha)?;
        let url = self.url(&format!(
            "repos/{}/{}/actions/runs?head_sha={sha}&per_page=100",
            repo.owner, repo.name
        ));
        let runs: Vec<wire::WorkflowRun> = self.get_all_in(url, "workflow_runs").await?;
        let mut out = Vec::new();
        for run in runs {
            let url = self.url(&format!(
                "repos/{}/{}/actions/runs/{}/artifacts?per_page=100",
                repo.owner, repo.name, run.id
            ));
            let list: Vec<wire::Artifact> = self.get_all_in(url, "artifacts").await?;
            out.extend(list.into_iter().map(|a| a.into_artifact(&run)));
        }
        Ok(out)
    }

    async fn download_artifact(
        &self,
        repo: &RepoId,
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
        let url = self.url(&format!(
            "repos/{}/{}/actions/artifacts/{}/zip",
            repo.owner, repo.name, artifact.id
        ));
        let endpoint = url.path().to_owned();
        let response = {
            let _slot = self.slots.acquire().await.expect("semaphore never closed");
            let mut request = self.http.get(url.clone()).header(ACCEPT, JSON);
            if let Some(token) = &self.token {
                request = request.header(AUTHORIZATION, bearer(token)?);
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
            let loopback = |u: &Url| {
                matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
                    || u.host_str() == Some("localhost")
            };
            let trusted = location.scheme() == "https"
                || location.origin() == self.api_base.origin()
                || (loopback(&location) && loopback(&self.api_base));
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
            return Err(ForgeError::NotFound(format!(
                "artifact {} has expired",
                artifact.name
            )));
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

    async fn read_ref_file(
        &self,
        repo: &RepoId,
        name: &str,
        path: &str,
    ) -> Result<Option<(String, Vec<u8>)>, ForgeError> {
        let Some(tip) = self.ref_commit(repo, name).await? else {
            return Ok(None);
        };
        let (commit, blob) = self.commit_file(repo, &tip, path).await?;
        let Some(blob) = blob else {
            return Ok(None);
        };
        Ok(Some((commit.sha, self.blob(repo, &blob).await?)))
    }

    async fn refs_under(
        &self,
        repo: &RepoId,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, ForgeError> {
        check_ref_name(prefix.trim_end_matches('/'))?;
        let mut url = self.url(&format!(
            "repos/{}/{}/git/matching-refs/{}",
            repo.owner,
            repo.name,
            ref_segment(prefix)
        ));
        url.set_query(Some("per_page=100"));
        let refs: Vec<wire::Ref> = self.get_all(url).await?;
        let mut found = Vec::new();
        for r in refs {
            let Some(name) = r.name.strip_prefix("refs/") else {
                continue;
            };
            if name.starts_with(prefix) {
                check_sha(&r.object.sha)?;
                found.push((name.to_owned(), r.object.sha));
            }
        }
        Ok(found)
    }

    async fn read_ref_file_history(
        &self,
        repo: &RepoId,
        name: &str,
        path: &str,
        max_commits: usize,
    ) -> Result<Option<crate::RefFileHistory>, ForgeError> {
        let Some(tip) = self.ref_commit(repo, name).await? else {
            return Ok(None);
        };
        // Newest first: commits in the order met walking back from the tip,
        // each once (a merge can reach one by two paths).
        let mut seen = std::collections::BTreeSet::new();
        let mut queue = std::collections::VecDeque::from([tip.clone()]);
        let mut versions = Vec::new();
        let mut blobs: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
        while let Some(sha) = queue.pop_front() {
            if !seen.insert(sha.clone()) {
                continue;
            }
            if seen.len() > max_commits {
                return Err(ForgeError::TooLarge(format!(
                    "refs/{name} has more than {max_commits} commits"
                )));
            }
            let (commit, blob) = self.commit_file(repo, &sha, path).await?;
            queue.extend(commit.parents.iter().map(|p| p.sha.clone()));
            let Some(blob) = blob else {
                continue;
            };
            // Unchanged from one commit to the next: one download.
            let bytes = match blobs.get(&blob) {
                Some(b) => b.clone(),
                None => {
                    let b = self.blob(repo, &blob).await?;
                    blobs.insert(blob, b.clone());
                    b
                }
            };
            versions.push((sha, bytes));
        }
        Ok(Some(crate::RefFileHistory { tip, versions }))
    }

    async fn write_ref_file(
        &self,
        repo: &RepoId,
        name: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<String, ForgeError> {
        check_ref_name(name)?;
        path_segments(path)?;
        let base = format!("repos/{}/{}/git", repo.owner, repo.name);
        let current = not_found_as_none(
            self.get_json::<wire::Ref>(self.url(&format!("{base}/ref/{}", ref_segment(name))))
                .await,
        )?
        .map(|r| r.object.sha);
        // Blobs, trees and commits are content-addressed: sending one twice
        // makes the same object, so these POSTs are safe to repeat.
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content);
        let blob: wire::ObjectRef = self
            .write_json(
                reqwest::Method::POST,
                self.url(&format!("{base}/blobs")),
                &serde_json::json!({ "content": encoded, "encoding": "base64" }),
            )
            .await?;
        let tree: wire::ObjectRef = self
            .write_json(
                reqwest::Method::POST,
                self.url(&format!("{base}/trees")),
                &serde_json::json!({ "tree": [{ "path": path, "mode": "100644", "type": "blob", "sha": blob.sha }] }),
            )
            .await?;
        let commit: wire::ObjectRef = self
            .write_json(
                reqwest::Method::POST,
                self.url(&format!("{base}/commits")),
                &serde_json::json!({ "message": message, "tree": tree.sha, "parents": current.iter().collect::<Vec<_>>() }),
            )
            .await?;
        let moved: Result<wire::Ref, ForgeError> = match &current {
            Some(_) => {
                self.write_json(
                    reqwest::Method::PATCH,
                    self.url(&format!("{base}/refs/{}", ref_segment(name))),
                    &serde_json::json!({ "sha": commit.sha, "force": false }),
                )
                .await
            }
            None => {
                self.write_json(
                    reqwest::Method::POST,
                    self.url(&format!("{base}/refs")),
                    &serde_json::json!({ "ref": format!("refs/{name}"), "sha": commit.sha }),
                )
                .await
            }
        };
        match moved {
            Ok(_) => Ok(commit.sha),
            Err(ForgeError::InvalidInput(detail)) => Err(ForgeError::Conflict(format!(
                "refs/{name} moved while writing: {detail}"
            ))),
            Err(e) => Err(e),
        }
    }

    async fn propose_change(
        &self,
        p: &crate::Proposal<'_>,
    ) -> Result<ChangeRequestSummary, ForgeError> {
        check_ref_name(p.base_branch)?;
        check_ref_name(p.new_branch)?;
        for (path, _) in p.files {
            path_segments(path)?;
        }
        let repo = p.repo;
        let base = format!("repos/{}/{}/git", repo.owner, repo.name);
        let tip: wire::Ref = self
            .get_json(self.url(&format!(
                "{base}/ref/{}",
                ref_segment(&format!("heads/{}", p.base_branch))
            )))
            .await?;
        check_sha(&tip.object.sha)?;
        let commit: wire::GitCommit = self
            .get_json(self.url(&format!("{base}/commits/{}", tip.object.sha)))
            .await?;
        let mut entries = Vec::new();
        for (path, content) in p.files {
            let encoded =
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content);
            let blob: wire::ObjectRef = self
                .write_json(
                    reqwest::Method::POST,
                    self.url(&format!("{base}/blobs")),
                    &serde_json::json!({ "content": encoded, "encoding": "base64" }),
                )
                .await?;
            entries.push(serde_json::json!({ "path": path, "mode": "100644", "type": "blob", "sha": blob.sha }));
        }
        let tree: wire::ObjectRef = self
            .write_json(
                reqwest::Method::POST,
                self.url(&format!("{base}/trees")),
                &serde_json::json!({ "base_tree": commit.tree.sha, "tree": entries }),
            )
            .await?;
        let new_commit: wire::ObjectRef = self
            .write_json(
                reqwest::Method::POST,
                self.url(&format!("{base}/commits")),
                &serde_json::json!({ "message": p.title, "tree": tree.sha, "parents": [tip.object.sha] }),
            )
            .await?;
        let _: wire::Ref = self
            .write_json(
                reqwest::Method::POST,
                self.url(&format!("{base}/refs")),
                &serde_json::json!({ "ref": format!("refs/heads/{}", p.new_branch), "sha": new_commit.sha }),
            )
            .await
            .map_err(|e| match e {
                ForgeError::InvalidInput(d) => {
                    ForgeError::Conflict(format!("branch {} already exists: {d}", p.new_branch))
                }
                e => e,
            })?;
        let pull: wire::Pull = self
            .write_json(
                reqwest::Method::POST,
                self.url(&format!("repos/{}/{}/pulls", repo.owner, repo.name)),
                &serde_json::json!({
                    "title": p.title,
                    "head": p.new_branch,
                    "base": p.base_branch,
                    "body": p.body,
                }),
            )
            .await?;
        Ok(pull.into_summary(repo))
    }

    async fn unified_diff(&self, repo: &RepoId, number: u64) -> Result<String, ForgeError> {
        let url = self.url(&format!(
            "repos/{}/{}/pulls/{number}",
            repo.owner, repo.name
        ));
        // GitHub answers 406 (or 422) when a diff exceeds its file or line limits.
        let page = match self.get(url, DIFF).await {
            Err(ForgeError::Status {
                status: 406,
                endpoint,
            }) => {
                return Err(ForgeError::TooLarge(format!(
                    "the unified diff ({endpoint})"
                )))
            }
            Err(ForgeError::InvalidInput(detail)) => return Err(ForgeError::TooLarge(detail)),
            other => other?,
        };
        String::from_utf8(page.body)
            .map_err(|_| contract(&page.endpoint, "the diff is not valid UTF-8"))
    }
}

/// A ref under `refs/`, e.g. `countersign/acme-medical/42`: plain segments only.
fn check_ref_name(name: &str) -> Result<(), ForgeError> {
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
fn ref_segment(name: &str) -> String {
    name.replace('/', "%2F")
}

/// A repository path, split into segments that `Url` percent-encodes.
fn path_segments(path: &str) -> Result<Vec<&str>, ForgeError> {
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
fn decode_base64(endpoint: &str, text: &str) -> Result<Vec<u8>, ForgeError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, compact)
        .map_err(|e| contract(endpoint, &format!("content is not base64: {e}")))
}

fn not_found_as_none<T>(r: Result<T, ForgeError>) -> Result<Option<T>, ForgeError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(ForgeError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A commit SHA goes into a URL path: only hex, so it cannot add path segments.
fn check_sha(sha: &str) -> Result<(), ForgeError> {
    if (7..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(ForgeError::InvalidInput(format!(
            "not a commit SHA: {sha:?}"
        )))
    }
}

fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, ForgeError> {
    serde_json::from_slice(body).map_err(|e| contract(endpoint, &format!("bad JSON: {e}")))
}

fn contract(endpoint: &str, detail: &str) -> ForgeError {
    ForgeError::Contract {
        endpoint: endpoint.to_owned(),
        detail: detail.to_owned(),
    }
}

fn network(endpoint: &str, e: &reqwest::Error) -> ForgeError {
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

impl Drop for GitHubForge {
    fn drop(&mut self) {
        self.persist_cache();
    }
}

/// `Bearer <token>`, marked sensitive so no log or Debug of a request shows
/// it; the formatted copy is wiped when dropped.
fn bearer(token: &Secret<String>) -> Result<HeaderValue, ForgeError> {
    let text = Secret::new(format!("Bearer {}", token.expose()));
    let mut value = HeaderValue::from_str(text.expose())
        .map_err(|_| ForgeError::InvalidInput("the token is not a valid header value".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The longest rate limit a request waits out before it reports the limit.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

fn retryable(e: &ForgeError) -> bool {
    match e {
        ForgeError::Network { .. } => true,
        ForgeError::Status { status, .. } => matches!(status, 500 | 502 | 503 | 504),
        _ => false,
    }
}

fn backoff(attempt: u32) -> Duration {
    // Full jitter without a RNG dependency: the clock's low bits are random enough
    // to de-synchronise clients.
    let base_ms = 200u64 << attempt.min(5);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    Duration::from_millis(base_ms / 2 + nanos % (base_ms / 2 + 1))
}

fn status_error(endpoint: &str, status: StatusCode, headers: &HeaderMap) -> ForgeError {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (header("x-ratelimit-remaining") == Some("0") || header("retry-after").is_some()));
    if rate_limited {
        let until = header("retry-after")
            .and_then(|s| s.parse::<i64>().ok())
            .map(|secs| Utc::now() + chrono::Duration::seconds(secs.clamp(0, 3600)))
            .or_else(|| {
                header("x-ratelimit-reset")
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
fn next_link(
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
        let value = bearer(&Secret::from("ghp_not-a-real-token")).unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("ghp_"), "{value:?}");
        assert!(bearer(&Secret::from("line\nbreak")).is_err());
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
    }
}
