use std::time::Duration;

use async_trait::async_trait;
use countersign_secret::Secret;
use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use super::wire;
use crate::rest::{
    check_ref_name, check_sha, contract, decode_base64, not_found_as_none, path_segments,
    ref_segment, refs_with_prefix, AuthScheme, MediaType, Rest, RestConfig,
};
use crate::{
    ChangeRequest, ChangeRequestSummary, ChangedFile, Forge, ForgeClock, ForgeError, ForgeUser,
    RepoId,
};

const API_VERSION: &str = "2022-11-28";

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
    pub disk_cache: Option<crate::DiskCache>,
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

pub struct GitHubForge {
    rest: Rest,
    repos: Vec<RepoId>,
}

impl GitHubForge {
    pub fn new(config: GitHubConfig) -> Result<Self, ForgeError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "X-GitHub-Api-Version",
            HeaderValue::from_static(API_VERSION),
        );
        let rest = Rest::new(RestConfig {
            api_base: config.api_base,
            token: config.token,
            auth: AuthScheme::Bearer,
            headers,
            json: MediaType::GitHubJson,
            timeout: config.timeout,
            max_concurrency: config.max_concurrency,
            disk_cache: config.disk_cache,
        })?;
        Ok(Self {
            rest,
            repos: config.repos,
        })
    }

    /// Write the conditional-request cache to disk, when one is configured.
    pub fn persist_cache(&self) {
        self.rest.persist_cache();
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
        let base = format!("repos/{}/{}/git", repo.flat_owner()?, repo.name);
        let commit: wire::GitCommit = self
            .rest
            .get_json(self.rest.url(&format!("{base}/commits/{sha}")))
            .await?;
        check_sha(&commit.tree.sha)?;
        let tree: wire::Tree = self
            .rest
            .get_json(self.rest.url(&format!("{base}/trees/{}", commit.tree.sha)))
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
        let url = self.rest.url(&format!(
            "repos/{}/{}/git/ref/{}",
            repo.flat_owner()?,
            repo.name,
            ref_segment(name)
        ));
        let Some(r) = not_found_as_none(self.rest.get_json::<wire::Ref>(url).await)? else {
            return Ok(None);
        };
        check_sha(&r.object.sha)?;
        Ok(Some(r.object.sha))
    }

    async fn blob(&self, repo: &RepoId, sha: &str) -> Result<Vec<u8>, ForgeError> {
        check_sha(sha)?;
        let url = self.rest.url(&format!(
            "repos/{}/{}/git/blobs/{sha}",
            repo.flat_owner()?,
            repo.name
        ));
        let endpoint = url.path().to_owned();
        let blob: wire::Blob = self.rest.get_json(url).await?;
        if blob.encoding != "base64" {
            return Err(contract(&endpoint, "blob not in base64"));
        }
        decode_base64(&endpoint, &blob.content)
    }
}

#[async_trait]
impl Forge for GitHubForge {
    fn host(&self) -> &str {
        self.rest.host()
    }

    fn clock(&self) -> Option<ForgeClock> {
        self.rest.clock()
    }

    async fn current_user(&self) -> Result<ForgeUser, ForgeError> {
        let user: wire::User = self.rest.get_json(self.rest.url("user")).await?;
        Ok(user.into())
    }

    async fn repositories(&self) -> Result<Vec<RepoId>, ForgeError> {
        if !self.repos.is_empty() {
            return Ok(self.repos.clone());
        }
        let repos: Vec<wire::Repository> = self
            .rest
            .get_json(self.rest.url("user/repos?sort=pushed&per_page=100"))
            .await?;
        Ok(repos.into_iter().map(RepoId::from).collect())
    }

    async fn open_change_requests(
        &self,
        repo: &RepoId,
    ) -> Result<Vec<ChangeRequestSummary>, ForgeError> {
        let url = self.rest.url(&format!(
            "repos/{}/{}/pulls?state=open&sort=created&direction=desc&per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let pulls: Vec<wire::Pull> = self.rest.get_all(url).await?;
        Ok(pulls.into_iter().map(|p| p.into_summary(repo)).collect())
    }

    async fn change_request(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<ChangeRequest, ForgeError> {
        let url = self.rest.url(&format!(
            "repos/{}/{}/pulls/{number}",
            repo.flat_owner()?,
            repo.name
        ));
        let pull: wire::Pull = self.rest.get_json(url).await?;
        Ok(pull.into_change_request(repo))
    }

    async fn changed_files(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<ChangedFile>, ForgeError> {
        let url = self.rest.url(&format!(
            "repos/{}/{}/pulls/{number}/files?per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let files: Vec<wire::File> = self.rest.get_all(url).await?;
        Ok(files.into_iter().map(ChangedFile::from).collect())
    }

    async fn commit_statuses(
        &self,
        repo: &RepoId,
        sha: &str,
    ) -> Result<Vec<crate::CommitStatus>, ForgeError> {
        check_sha(sha)?;
        let url = self.rest.url(&format!(
            "repos/{}/{}/commits/{sha}/status?per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let combined: wire::CombinedStatus = self.rest.get_json(url).await?;
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
        let url = self.rest.url(&format!(
            "repos/{}/{}/statuses/{sha}",
            repo.flat_owner()?,
            repo.name
        ));
        let body = serde_json::json!({
            "state": status.state,
            "description": description,
            "context": status.context,
            "target_url": status.target_url,
        });
        let _: serde_json::Value = self
            .rest
            .write_json(reqwest::Method::POST, url, &body)
            .await?;
        Ok(())
    }

    async fn comments(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::Comment>, ForgeError> {
        let url = self.rest.url(&format!(
            "repos/{}/{}/issues/{number}/comments?per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let list: Vec<wire::IssueComment> = self.rest.get_all(url).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    async fn create_comment(
        &self,
        repo: &RepoId,
        number: u64,
        body: &str,
    ) -> Result<crate::Comment, ForgeError> {
        let url = self.rest.url(&format!(
            "repos/{}/{}/issues/{number}/comments",
            repo.flat_owner()?,
            repo.name
        ));
        let c: wire::IssueComment = self
            .rest
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
        let url = self.rest.url(&format!(
            "repos/{}/{}/issues/comments/{comment_id}",
            repo.flat_owner()?,
            repo.name
        ));
        let c: wire::IssueComment = self
            .rest
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
        let url = self.rest.url(&format!(
            "repos/{}/{}/pulls/{number}/reviews?per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let list: Vec<wire::Review> = self.rest.get_all(url).await?;
        Ok(list
            .into_iter()
            .filter_map(wire::Review::into_review)
            .collect())
    }

    async fn default_branch(&self, repo: &RepoId) -> Result<String, ForgeError> {
        let url = self
            .rest
            .url(&format!("repos/{}/{}", repo.flat_owner()?, repo.name));
        let r: wire::RepositoryBranch = self.rest.get_json(url).await?;
        Ok(r.default_branch)
    }

    async fn commits(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::CommitInfo>, ForgeError> {
        let url = self.rest.url(&format!(
            "repos/{}/{}/pulls/{number}/commits?per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let list: Vec<wire::PullCommit> = self.rest.get_all(url).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    async fn checks(&self, repo: &RepoId, sha: &str) -> Result<Vec<crate::Check>, ForgeError> {
        check_sha(sha)?;
        let url = self.rest.url(&format!(
            "repos/{}/{}/commits/{sha}/check-runs?per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let check_runs: Vec<wire::CheckRun> = self.rest.get_all_in(url, "check_runs").await?;
        let url = self.rest.url(&format!(
            "repos/{}/{}/commits/{sha}/status?per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let combined: wire::CombinedStatus = self.rest.get_json(url).await?;
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
        let mut url = self.rest.url(&format!(
            "repos/{}/{}/contents/",
            repo.flat_owner()?,
            repo.name
        ));
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .pop_if_empty()
            .extend(path_segments(path)?);
        url.set_query(Some(&format!("ref={git_ref}")));
        let endpoint = url.path().to_owned();
        let Some(file) = not_found_as_none(self.rest.get_json::<wire::ContentFile>(url).await)?
        else {
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
        let url = self.rest.url(&format!(
            "repos/{}/{}/actions/runs?head_sha={sha}&per_page=100",
            repo.flat_owner()?,
            repo.name
        ));
        let runs: Vec<wire::WorkflowRun> = self.rest.get_all_in(url, "workflow_runs").await?;
        let mut out = Vec::new();
        for run in runs {
            let url = self.rest.url(&format!(
                "repos/{}/{}/actions/runs/{}/artifacts?per_page=100",
                repo.flat_owner()?,
                repo.name,
                run.id
            ));
            let list: Vec<wire::Artifact> = self.rest.get_all_in(url, "artifacts").await?;
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
        let url = self.rest.url(&format!(
            "repos/{}/{}/actions/artifacts/{}/zip",
            repo.flat_owner()?,
            repo.name,
            artifact.id
        ));
        self.rest
            .download_artifact(url, artifact, dest, max_bytes)
            .await
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
        let mut url = self.rest.url(&format!(
            "repos/{}/{}/git/matching-refs/{}",
            repo.flat_owner()?,
            repo.name,
            ref_segment(prefix)
        ));
        url.set_query(Some("per_page=100"));
        let refs: Vec<wire::Ref> = self.rest.get_all(url).await?;
        refs_with_prefix(
            refs.into_iter().map(|r| (r.name, r.object.sha)),
            "refs/",
            prefix,
        )
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
        let base = format!("repos/{}/{}/git", repo.flat_owner()?, repo.name);
        let current = not_found_as_none(
            self.rest
                .get_json::<wire::Ref>(self.rest.url(&format!("{base}/ref/{}", ref_segment(name))))
                .await,
        )?
        .map(|r| r.object.sha);
        // Blobs, trees and commits are content-addressed: sending one twice
        // makes the same object, so these POSTs are safe to repeat.
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content);
        let blob: wire::ObjectRef = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.rest.url(&format!("{base}/blobs")),
                &serde_json::json!({ "content": encoded, "encoding": "base64" }),
            )
            .await?;
        let tree: wire::ObjectRef = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.rest.url(&format!("{base}/trees")),
                &serde_json::json!({ "tree": [{ "path": path, "mode": "100644", "type": "blob", "sha": blob.sha }] }),
            )
            .await?;
        let commit: wire::ObjectRef = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.rest.url(&format!("{base}/commits")),
                &serde_json::json!({ "message": message, "tree": tree.sha, "parents": current.iter().collect::<Vec<_>>() }),
            )
            .await?;
        let moved: Result<wire::Ref, ForgeError> = match &current {
            Some(_) => {
                self.rest
                    .write_json(
                        reqwest::Method::PATCH,
                        self.rest.url(&format!("{base}/refs/{}", ref_segment(name))),
                        &serde_json::json!({ "sha": commit.sha, "force": false }),
                    )
                    .await
            }
            None => {
                self.rest
                    .write_json(
                        reqwest::Method::POST,
                        self.rest.url(&format!("{base}/refs")),
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
        let base = format!("repos/{}/{}/git", repo.flat_owner()?, repo.name);
        let tip: wire::Ref = self
            .rest
            .get_json(self.rest.url(&format!(
                "{base}/ref/{}",
                ref_segment(&format!("heads/{}", p.base_branch))
            )))
            .await?;
        check_sha(&tip.object.sha)?;
        let commit: wire::GitCommit = self
            .rest
            .get_json(self.rest.url(&format!("{base}/commits/{}", tip.object.sha)))
            .await?;
        let mut entries = Vec::new();
        for (path, content) in p.files {
            let encoded =
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content);
            let blob: wire::ObjectRef = self
                .rest
                .write_json(
                    reqwest::Method::POST,
                    self.rest.url(&format!("{base}/blobs")),
                    &serde_json::json!({ "content": encoded, "encoding": "base64" }),
                )
                .await?;
            entries.push(serde_json::json!({ "path": path, "mode": "100644", "type": "blob", "sha": blob.sha }));
        }
        let tree: wire::ObjectRef = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.rest.url(&format!("{base}/trees")),
                &serde_json::json!({ "base_tree": commit.tree.sha, "tree": entries }),
            )
            .await?;
        let new_commit: wire::ObjectRef = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.rest.url(&format!("{base}/commits")),
                &serde_json::json!({ "message": p.title, "tree": tree.sha, "parents": [tip.object.sha] }),
            )
            .await?;
        let _: wire::Ref = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.rest.url(&format!("{base}/refs")),
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
            .rest
            .write_json(
                reqwest::Method::POST,
                self.rest
                    .url(&format!("repos/{}/{}/pulls", repo.flat_owner()?, repo.name)),
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
        let url = self.rest.url(&format!(
            "repos/{}/{}/pulls/{number}",
            repo.flat_owner()?,
            repo.name
        ));
        // GitHub answers 406 (or 422) when a diff exceeds its file or line limits.
        let page = match self.rest.get(url, MediaType::GitHubDiff).await {
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
