use std::time::Duration;

use async_trait::async_trait;
use countersign_secret::Secret;
use reqwest::header::HeaderMap;
use url::Url;

use super::wire;
use crate::rest::{
    branch_history, check_ref_name, check_sha, contract, decode_base64, not_found_as_none,
    path_segments, refs_with_prefix, AuthScheme, MediaType, Rest, RestConfig,
};
use crate::{
    ChangeRequest, ChangeRequestSummary, ChangedFile, Forge, ForgeClock, ForgeError, ForgeUser,
    RepoId,
};

/// Gitea and Forgejo share a REST API and part ways on Actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Gitea,
    Forgejo,
}

impl Flavor {
    /// Where the forge looks for workflow files, in its order: the first
    /// folder that exists at the commit is the one whose files run.
    fn workflow_dirs(self) -> [&'static str; 2] {
        match self {
            Flavor::Gitea => [".gitea/workflows", ".github/workflows"],
            Flavor::Forgejo => [".forgejo/workflows", ".github/workflows"],
        }
    }
}

/// How to reach one Gitea or Forgejo instance.
#[derive(Debug, Clone)]
pub struct GiteaConfig {
    /// REST root, e.g. `https://git.example/api/v1/`.
    pub api_base: Url,
    pub flavor: Flavor,
    /// A personal access token; `None` for anonymous reads.
    pub token: Option<Secret<String>>,
    /// Repositories to watch. Empty: the user's own repositories.
    pub repos: Vec<RepoId>,
    pub timeout: Duration,
    pub max_concurrency: usize,
    pub disk_cache: Option<crate::DiskCache>,
}

impl GiteaConfig {
    pub fn new(api_base: Url, flavor: Flavor) -> Self {
        Self {
            api_base,
            flavor,
            token: None,
            repos: Vec::new(),
            timeout: Duration::from_secs(20),
            max_concurrency: 8,
            disk_cache: None,
        }
    }
}

pub struct GiteaForge {
    rest: Rest,
    flavor: Flavor,
    repos: Vec<RepoId>,
}

/// Gitea pages hold at most 50 items unless the instance says otherwise.
const PAGE: u32 = 50;

impl GiteaForge {
    pub fn new(config: GiteaConfig) -> Result<Self, ForgeError> {
        let rest = Rest::new(RestConfig {
            api_base: config.api_base,
            token: config.token,
            auth: AuthScheme::Token,
            headers: HeaderMap::new(),
            json: MediaType::Json,
            timeout: config.timeout,
            max_concurrency: config.max_concurrency,
            disk_cache: config.disk_cache,
        })?;
        Ok(Self {
            rest,
            flavor: config.flavor,
            repos: config.repos,
        })
    }

    pub fn persist_cache(&self) {
        self.rest.persist_cache();
    }

    fn repo_url(&self, repo: &RepoId, rest: &str) -> Result<Url, ForgeError> {
        Ok(self.rest.url(&format!(
            "repos/{}/{}/{rest}",
            repo.flat_owner()?,
            repo.name
        )))
    }

    fn commits_url(&self, repo: &RepoId, number: u64) -> Result<Url, ForgeError> {
        self.repo_url(
            repo,
            &format!("pulls/{number}/commits?limit={PAGE}&verification=false&files=false"),
        )
    }

    /// `repos/o/r/<kind>/<path…>` with each path segment encoded.
    fn path_url(&self, repo: &RepoId, kind: &str, path: &str) -> Result<Url, ForgeError> {
        let mut url = self.repo_url(repo, &format!("{kind}/"))?;
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .pop_if_empty()
            .extend(path_segments(path)?);
        Ok(url)
    }

    /// The branch `name`'s tip, read from the refs list (which matches by
    /// prefix: `pr-1` also finds `pr-10`, so the name is compared whole).
    async fn branch_tip(&self, repo: &RepoId, name: &str) -> Result<Option<String>, ForgeError> {
        check_ref_name(name)?;
        let url = self.path_url(repo, "git/refs", &format!("heads/{name}"))?;
        let Some(refs) = not_found_as_none(self.rest.get_json::<Vec<wire::Reference>>(url).await)?
        else {
            return Ok(None);
        };
        let full = format!("refs/heads/{name}");
        let Some(r) = refs.into_iter().find(|r| r.name == full) else {
            return Ok(None);
        };
        check_sha(&r.object.sha)?;
        Ok(Some(r.object.sha))
    }

    /// A file's bytes and blob id at a commit or branch; `None` when absent.
    async fn contents(
        &self,
        repo: &RepoId,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<(String, Vec<u8>)>, ForgeError> {
        if check_sha(git_ref).is_err() {
            check_ref_name(git_ref)?;
        }
        let mut url = self.path_url(repo, "contents", path)?;
        url.query_pairs_mut().append_pair("ref", git_ref);
        let endpoint = url.path().to_owned();
        let Some(found) = not_found_as_none(self.rest.get_json::<wire::Contents>(url).await)?
        else {
            return Ok(None);
        };
        let file = match found {
            wire::Contents::File(f) if f.kind == "file" => f,
            wire::Contents::File(f) => {
                return Err(ForgeError::InvalidInput(format!(
                    "{path} is a {}, not a file",
                    f.kind
                )))
            }
            wire::Contents::Directory(_) => {
                return Err(ForgeError::InvalidInput(format!(
                    "{path} is a directory, not a file"
                )))
            }
        };
        check_sha(&file.sha)?;
        let bytes = match (file.encoding.as_deref(), file.content.as_deref()) {
            (Some("base64"), Some(text)) => decode_base64(&endpoint, text)?,
            // Large files come without their bytes: read the blob.
            _ => self.blob(repo, &file.sha).await?,
        };
        Ok(Some((file.sha, bytes)))
    }

    async fn blob(&self, repo: &RepoId, sha: &str) -> Result<Vec<u8>, ForgeError> {
        check_sha(sha)?;
        let url = self.repo_url(repo, &format!("git/blobs/{sha}"))?;
        let endpoint = url.path().to_owned();
        let blob: wire::Blob = self.rest.get_json(url).await?;
        if blob.encoding != "base64" {
            return Err(contract(&endpoint, "blob not in base64"));
        }
        decode_base64(&endpoint, &blob.content)
    }

    /// Whether `dir` exists at `sha`.
    async fn has_dir(&self, repo: &RepoId, dir: &str, sha: &str) -> Result<bool, ForgeError> {
        let mut url = self.path_url(repo, "contents", dir)?;
        url.query_pairs_mut().append_pair("ref", sha);
        Ok(matches!(
            not_found_as_none(self.rest.get_json::<wire::Contents>(url).await)?,
            Some(wire::Contents::Directory(_))
        ))
    }

    /// The workflow file a run used: its file name in the first workflow
    /// folder that exists at the run's commit, as the forge chose it. The
    /// runs list gives only the file name, and a change that adds a
    /// `.gitea/workflows` (or `.forgejo/workflows`) folder makes the forge run
    /// that folder's file of the same name instead.
    async fn workflow_path(
        &self,
        repo: &RepoId,
        sha: &str,
        file_name: &str,
    ) -> Result<Option<String>, ForgeError> {
        let name = file_name.split('@').next().unwrap_or("");
        if name.is_empty() || name.contains('/') {
            return Ok(None);
        }
        for dir in self.flavor.workflow_dirs() {
            if self.has_dir(repo, dir, sha).await? {
                return Ok(Some(format!("{dir}/{name}")));
            }
        }
        Ok(None)
    }

    async fn write_file(
        &self,
        method: reqwest::Method,
        url: Url,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<String, ForgeError> {
        let done: wire::FileResponse =
            self.rest
                .write_json(method, url, body)
                .await
                .map_err(|e| match e {
                    // 409/422: the file or branch moved or already exists.
                    ForgeError::InvalidInput(d) => ForgeError::Conflict(format!("{what}: {d}")),
                    ForgeError::Status { status: 409, .. } => {
                        ForgeError::Conflict(format!("{what}: the forge reports a conflict"))
                    }
                    e => e,
                })?;
        check_sha(&done.commit.sha)?;
        Ok(done.commit.sha)
    }
}

#[async_trait]
impl Forge for GiteaForge {
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
            .get_json(self.rest.url(&format!("user/repos?limit={PAGE}")))
            .await?;
        Ok(repos.into_iter().map(RepoId::from).collect())
    }

    async fn default_branch(&self, repo: &RepoId) -> Result<String, ForgeError> {
        let url = self
            .rest
            .url(&format!("repos/{}/{}", repo.flat_owner()?, repo.name));
        let r: wire::Repository = self.rest.get_json(url).await?;
        Ok(r.default_branch)
    }

    async fn open_change_requests(
        &self,
        repo: &RepoId,
    ) -> Result<Vec<ChangeRequestSummary>, ForgeError> {
        // The described sorts have no "newest first": order here.
        let url = self.repo_url(repo, &format!("pulls?state=open&limit={PAGE}"))?;
        let pulls: Vec<wire::Pull> = self.rest.get_all(url).await?;
        let mut list: Vec<ChangeRequestSummary> =
            pulls.into_iter().map(|p| p.into_summary(repo)).collect();
        list.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then(b.number.cmp(&a.number))
        });
        Ok(list)
    }

    async fn change_request(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<ChangeRequest, ForgeError> {
        let pull: wire::Pull = self
            .rest
            .get_json(self.repo_url(repo, &format!("pulls/{number}"))?)
            .await?;
        // The pull request has no commit count; the commits list's total
        // (`X-Total-Count`) is the forge's own figure for it. The same first
        // page as `commits` asks for, so that one is then answered by a 304.
        let url = self.commits_url(repo, number)?;
        let page = self.rest.get(url, MediaType::Json).await?;
        let commits = page.total.ok_or_else(|| {
            contract(
                &page.endpoint,
                "no X-Total-Count for the commits of a pull request",
            )
        })?;
        Ok(pull.into_change_request(repo, commits))
    }

    async fn changed_files(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<ChangedFile>, ForgeError> {
        let url = self.repo_url(repo, &format!("pulls/{number}/files?limit={PAGE}"))?;
        let files: Vec<wire::File> = self.rest.get_all(url).await?;
        Ok(files.into_iter().map(ChangedFile::from).collect())
    }

    async fn unified_diff(&self, repo: &RepoId, number: u64) -> Result<String, ForgeError> {
        let url = self.repo_url(repo, &format!("pulls/{number}.diff"))?;
        let page = self.rest.get(url, MediaType::Text).await?;
        String::from_utf8(page.body)
            .map_err(|_| contract(&page.endpoint, "the diff is not valid UTF-8"))
    }

    async fn commit_statuses(
        &self,
        repo: &RepoId,
        sha: &str,
    ) -> Result<Vec<crate::CommitStatus>, ForgeError> {
        check_sha(sha)?;
        let url = self.repo_url(repo, &format!("commits/{sha}/status?limit={PAGE}"))?;
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
        // The same ceiling as on GitHub, so one record reads the same on both.
        if description.chars().count() > 140 {
            return Err(ForgeError::InvalidInput(
                "a commit status description has at most 140 characters".into(),
            ));
        }
        let body = serde_json::json!({
            "state": status.state,
            "description": description,
            "context": status.context,
            "target_url": status.target_url.clone().unwrap_or_default(),
        });
        let _: serde_json::Value = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.repo_url(repo, &format!("statuses/{sha}"))?,
                &body,
            )
            .await?;
        Ok(())
    }

    async fn comments(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::Comment>, ForgeError> {
        let url = self.repo_url(repo, &format!("issues/{number}/comments?limit={PAGE}"))?;
        let list: Vec<wire::Comment> = self.rest.get_all(url).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    async fn create_comment(
        &self,
        repo: &RepoId,
        number: u64,
        body: &str,
    ) -> Result<crate::Comment, ForgeError> {
        let c: wire::Comment = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.repo_url(repo, &format!("issues/{number}/comments"))?,
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
        let c: wire::Comment = self
            .rest
            .write_json(
                reqwest::Method::PATCH,
                self.repo_url(repo, &format!("issues/comments/{comment_id}"))?,
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
        let url = self.repo_url(repo, &format!("pulls/{number}/reviews?limit={PAGE}"))?;
        let list: Vec<wire::Review> = self.rest.get_all(url).await?;
        Ok(list
            .into_iter()
            .filter_map(wire::Review::into_review)
            .collect())
    }

    async fn commits(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::CommitInfo>, ForgeError> {
        let list: Vec<wire::Commit> = self.rest.get_all(self.commits_url(repo, number)?).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    async fn checks(&self, repo: &RepoId, sha: &str) -> Result<Vec<crate::Check>, ForgeError> {
        // No check runs here: Actions and outside CI both report commit
        // statuses, which anyone with write access can set.
        check_sha(sha)?;
        let url = self.repo_url(repo, &format!("commits/{sha}/status?limit={PAGE}"))?;
        let combined: wire::CombinedStatus = self.rest.get_json(url).await?;
        Ok(combined.statuses.into_iter().map(Into::into).collect())
    }

    async fn file_at(
        &self,
        repo: &RepoId,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>, ForgeError> {
        Ok(self.contents(repo, path, git_ref).await?.map(|(_, b)| b))
    }

    async fn artifacts(
        &self,
        repo: &RepoId,
        sha: &str,
    ) -> Result<Vec<crate::Artifact>, ForgeError> {
        check_sha(sha)?;
        let url = self.repo_url(repo, &format!("actions/runs?head_sha={sha}&limit={PAGE}"))?;
        // (run id, workflow file name, completed, created)
        let runs: Vec<(u64, String, bool, Option<chrono::DateTime<chrono::Utc>>)> =
            match self.flavor {
                Flavor::Gitea => self
                    .rest
                    .get_all_in::<wire::GiteaRun>(url, "workflow_runs")
                    .await?
                    .into_iter()
                    .map(|r| (r.id, r.path, r.status == "completed", r.started_at))
                    .collect(),
                Flavor::Forgejo => self
                    .rest
                    .get_all_in::<wire::ForgejoRun>(url, "workflow_runs")
                    .await?
                    .into_iter()
                    .map(|r| {
                        let done = matches!(
                            r.status.as_str(),
                            "success" | "failure" | "cancelled" | "skipped"
                        );
                        (r.id, r.workflow_id, done, r.created)
                    })
                    .collect(),
            };
        let mut out = Vec::new();
        let mut workflow_dir_at_sha: Option<Option<String>> = None;
        for (run_id, file_name, run_completed, created) in runs {
            let url = self.repo_url(
                repo,
                &format!("actions/runs/{run_id}/artifacts?limit={PAGE}"),
            )?;
            let list: Vec<wire::Artifact> = match self.flavor {
                Flavor::Gitea => self.rest.get_all_in(url, "artifacts").await?,
                Flavor::Forgejo => self.rest.get_all(url).await?,
            };
            if list.is_empty() {
                continue;
            }
            // The folder is the same for every run at this commit: ask once.
            let workflow_path = match &workflow_dir_at_sha {
                Some(found) => found
                    .as_ref()
                    .map(|dir| format!("{dir}/{}", file_name.split('@').next().unwrap_or(""))),
                None => {
                    let found = self.workflow_path(repo, sha, &file_name).await?;
                    workflow_dir_at_sha = Some(
                        found
                            .as_ref()
                            .and_then(|p| p.rsplit_once('/').map(|(d, _)| d.to_owned())),
                    );
                    found
                }
            };
            out.extend(list.into_iter().map(|a| crate::Artifact {
                id: a.id,
                name: a.name,
                size_bytes: a.size_in_bytes,
                expired: a.expired,
                run_id,
                workflow_path: workflow_path.clone(),
                run_completed,
                run_created_at: created,
            }));
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
        // Gitea answers 302 to signed storage, Forgejo 200 with the zip.
        let url = self.repo_url(repo, &format!("actions/artifacts/{}/zip", artifact.id))?;
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
        let Some(tip) = self.branch_tip(repo, name).await? else {
            return Ok(None);
        };
        Ok(self
            .contents(repo, path, &tip)
            .await?
            .map(|(_, bytes)| (tip, bytes)))
    }

    async fn refs_under(
        &self,
        repo: &RepoId,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, ForgeError> {
        check_ref_name(prefix.trim_end_matches('/'))?;
        // Records live on branches here (see `write_ref_file`).
        // The forge matches by prefix; a trailing `/` would be an empty segment.
        let url = self.path_url(
            repo,
            "git/refs",
            &format!("heads/{}", prefix.trim_end_matches('/')),
        )?;
        let Some(refs) = not_found_as_none(self.rest.get_json::<Vec<wire::Reference>>(url).await)?
        else {
            return Ok(Vec::new());
        };
        refs_with_prefix(
            refs.into_iter().map(|r| (r.name, r.object.sha)),
            "refs/heads/",
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
        let Some(tip) = self.branch_tip(repo, name).await? else {
            return Ok(None);
        };
        // Every commit reachable from the tip and not from the default
        // branch (the records branch starts from it), newest first; no
        // `path` filter, whose history simplification could skip a commit
        // that once held a record.
        let default_branch = self.default_branch(repo).await?;
        check_ref_name(&default_branch)?;
        let mut url = self.repo_url(repo, "commits")?;
        url.query_pairs_mut()
            .append_pair("sha", &tip)
            .append_pair("not", &default_branch)
            .append_pair("stat", "false")
            .append_pair("verification", "false")
            .append_pair("files", "false")
            .append_pair("limit", &PAGE.to_string());
        let endpoint = url.path().to_owned();
        let commits: Vec<wire::Commit> = self.rest.get_all(url).await?;
        let listed = commits.into_iter().map(|c| c.sha).collect();
        let mut versions = Vec::new();
        for sha in branch_history(name, &tip, listed, max_commits, &endpoint)? {
            if let Some((_, bytes)) = self.contents(repo, path, &sha).await? {
                versions.push((sha, bytes));
            }
        }
        Ok(Some(crate::RefFileHistory { tip, versions }))
    }

    /// Neither Gitea nor Forgejo can write a ref through the API, so the
    /// records live on a branch `<name>` written through the contents API:
    /// created from the default branch, then each write names the blob it
    /// replaces, and the forge refuses it if the file moved meanwhile. No
    /// write forces; branch protection keeps others off the branch.
    async fn write_ref_file(
        &self,
        repo: &RepoId,
        name: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<String, ForgeError> {
        check_ref_name(name)?;
        let url = self.path_url(repo, "contents", path)?;
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content);
        let what = format!("refs/heads/{name}");
        match self.branch_tip(repo, name).await? {
            None => {
                let base = self.default_branch(repo).await?;
                let body = serde_json::json!({
                    "content": encoded,
                    "message": message,
                    "branch": base,
                    "new_branch": name,
                });
                self.write_file(reqwest::Method::POST, url, &body, &what)
                    .await
            }
            Some(tip) => {
                let current = self.contents(repo, path, &tip).await?;
                let mut body = serde_json::json!({
                    "content": encoded,
                    "message": message,
                    "branch": name,
                });
                let method = match current {
                    Some((blob, _)) => {
                        body["sha"] = serde_json::Value::String(blob);
                        reqwest::Method::PUT
                    }
                    None => reqwest::Method::POST,
                };
                self.write_file(method, url, &body, &what).await
            }
        }
    }

    async fn propose_change(
        &self,
        p: &crate::Proposal<'_>,
    ) -> Result<ChangeRequestSummary, ForgeError> {
        check_ref_name(p.base_branch)?;
        check_ref_name(p.new_branch)?;
        let repo = p.repo;
        // The first file makes the branch from the base; the rest go on it.
        for (i, (path, content)) in p.files.iter().enumerate() {
            let from = if i == 0 { p.base_branch } else { p.new_branch };
            let current = self.contents(repo, path, from).await?;
            let encoded =
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content);
            let mut body = serde_json::json!({
                "content": encoded,
                "message": p.title,
                "branch": from,
            });
            if i == 0 {
                body["new_branch"] = serde_json::Value::String(p.new_branch.to_owned());
            }
            let method = match current {
                Some((blob, _)) => {
                    body["sha"] = serde_json::Value::String(blob);
                    reqwest::Method::PUT
                }
                None => reqwest::Method::POST,
            };
            let url = self.path_url(repo, "contents", path)?;
            self.write_file(method, url, &body, &format!("branch {}", p.new_branch))
                .await?;
        }
        let pull: wire::Pull = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.repo_url(repo, "pulls")?,
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
}
