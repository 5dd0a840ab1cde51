use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use countersign_secret::Secret;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
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

/// Everything but unreserved characters: a project path, a file path or a
/// branch name travels as one encoded path segment (`group%2Fproject`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// GitLab's default CI configuration file.
const DEFAULT_CI_CONFIG: &str = ".gitlab-ci.yml";

/// What the policy's bare check names stand for here: jobs of GitLab CI.
pub const GITLAB_CI: &str = "gitlab-ci";

/// How to reach GitLab.com or a self-managed GitLab.
#[derive(Debug, Clone)]
pub struct GitLabConfig {
    /// REST root, e.g. `https://gitlab.com/api/v4/`.
    pub api_base: Url,
    /// A personal, project or OAuth access token.
    pub token: Option<Secret<String>>,
    /// Projects to watch (`group/project`). Empty: the user's projects.
    pub repos: Vec<RepoId>,
    pub timeout: Duration,
    pub max_concurrency: usize,
    pub disk_cache: Option<crate::DiskCache>,
}

impl GitLabConfig {
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

pub struct GitLabForge {
    rest: Rest,
    repos: Vec<RepoId>,
    /// Which merge request each note belongs to: GitLab edits a note under
    /// its merge request, and the trait names only the note.
    note_owner: Mutex<HashMap<(RepoId, u64), u64>>,
    /// Each merge request's web page, which notes link to: it never changes,
    /// so it is read once, not with every note.
    web_urls: Mutex<HashMap<(RepoId, u64), String>>,
}

fn enc(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

impl GitLabForge {
    pub fn new(config: GitLabConfig) -> Result<Self, ForgeError> {
        let rest = Rest::new(RestConfig {
            api_base: config.api_base,
            token: config.token,
            // A personal, project or OAuth token: GitLab takes each as
            // `Authorization: Bearer`.
            auth: AuthScheme::Bearer,
            headers: HeaderMap::new(),
            json: MediaType::Json,
            timeout: config.timeout,
            max_concurrency: config.max_concurrency,
            disk_cache: config.disk_cache,
        })?;
        Ok(Self {
            rest,
            repos: config.repos,
            note_owner: Mutex::new(HashMap::new()),
            web_urls: Mutex::new(HashMap::new()),
        })
    }

    pub fn persist_cache(&self) {
        self.rest.persist_cache();
    }

    /// `projects/group%2Fproject/<rest>`.
    fn project_url(&self, repo: &RepoId, rest: &str) -> Url {
        let project = enc(&format!("{}/{}", repo.owner, repo.name));
        if rest.is_empty() {
            self.rest.url(&format!("projects/{project}"))
        } else {
            self.rest.url(&format!("projects/{project}/{rest}"))
        }
    }

    fn mr_url(&self, repo: &RepoId, iid: u64, rest: &str) -> Url {
        self.project_url(repo, &format!("merge_requests/{iid}{rest}"))
    }

    async fn project(&self, repo: &RepoId) -> Result<wire::Project, ForgeError> {
        self.rest.get_json(self.project_url(repo, "")).await
    }

    async fn merge_request(
        &self,
        repo: &RepoId,
        iid: u64,
    ) -> Result<wire::MergeRequest, ForgeError> {
        let mr: wire::MergeRequest = self.rest.get_json(self.mr_url(repo, iid, "")).await?;
        self.web_urls
            .lock()
            .unwrap()
            .insert((repo.clone(), iid), mr.web_url.clone());
        Ok(mr)
    }

    /// A note of merge request `iid` as a comment; remembers which merge
    /// request it belongs to, for editing it later.
    async fn comment(
        &self,
        repo: &RepoId,
        iid: u64,
        n: wire::Note,
    ) -> Result<crate::Comment, ForgeError> {
        self.note_owner
            .lock()
            .unwrap()
            .insert((repo.clone(), n.id), iid);
        let known = self
            .web_urls
            .lock()
            .unwrap()
            .get(&(repo.clone(), iid))
            .cloned();
        let web = match known {
            Some(web) => web,
            None => self.merge_request(repo, iid).await?.web_url,
        };
        Ok(crate::Comment {
            id: n.id,
            web_url: format!("{web}#note_{}", n.id),
            body: n.body,
            author: n.author.username,
            created_at: n.created_at,
        })
    }

    async fn diffs(&self, repo: &RepoId, iid: u64) -> Result<Vec<wire::Diff>, ForgeError> {
        self.rest
            .get_all(self.mr_url(repo, iid, "/diffs?per_page=100"))
            .await
    }

    /// A file's bytes and its blob at a commit or branch; `None` when absent.
    async fn file(
        &self,
        repo: &RepoId,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<(wire::File, Vec<u8>)>, ForgeError> {
        if check_sha(git_ref).is_err() {
            check_ref_name(git_ref)?;
        }
        path_segments(path)?;
        let mut url = self.project_url(repo, &format!("repository/files/{}", enc(path)));
        url.query_pairs_mut().append_pair("ref", git_ref);
        let endpoint = url.path().to_owned();
        let Some(file) = not_found_as_none(self.rest.get_json::<wire::File>(url).await)? else {
            return Ok(None);
        };
        if file.encoding != "base64" {
            return Err(contract(&endpoint, "file content not in base64"));
        }
        let bytes = decode_base64(&endpoint, &file.content)?;
        Ok(Some((file, bytes)))
    }

    async fn branch_tip(&self, repo: &RepoId, name: &str) -> Result<Option<String>, ForgeError> {
        check_ref_name(name)?;
        let url = self.project_url(repo, &format!("repository/branches/{}", enc(name)));
        let Some(b) = not_found_as_none(self.rest.get_json::<wire::Branch>(url).await)? else {
            return Ok(None);
        };
        if b.name != name {
            return Err(contract(&b.name, "the forge answered for another branch"));
        }
        check_sha(&b.commit.id)?;
        Ok(Some(b.commit.id))
    }

    /// One commit on `branch` (made from `start` when given) applying
    /// `actions`; never forced. A file that moved since it was read, or a
    /// branch that already exists, is a conflict.
    async fn commit(
        &self,
        repo: &RepoId,
        branch: &str,
        start: Option<&str>,
        message: &str,
        actions: Vec<serde_json::Value>,
    ) -> Result<String, ForgeError> {
        let mut body = serde_json::json!({
            "branch": branch,
            "commit_message": message,
            "actions": actions,
            "force": false,
        });
        if let Some(start) = start {
            body["start_branch"] = serde_json::Value::String(start.to_owned());
        }
        let done: wire::CommitCreated = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.project_url(repo, "repository/commits"),
                &body,
            )
            .await
            .map_err(|e| match e {
                ForgeError::Status {
                    status: 400,
                    endpoint,
                }
                | ForgeError::Status {
                    status: 409,
                    endpoint,
                } => ForgeError::Conflict(format!("{branch}: {endpoint} refused the commit")),
                ForgeError::InvalidInput(d) => ForgeError::Conflict(format!("{branch}: {d}")),
                e => e,
            })?;
        check_sha(&done.id)?;
        Ok(done.id)
    }

    /// The action that writes `content` at `path`, given what is there now.
    fn write_action(path: &str, content: &[u8], current: Option<&wire::File>) -> serde_json::Value {
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content);
        match current {
            None => serde_json::json!({
                "action": "create", "file_path": path, "content": encoded, "encoding": "base64",
            }),
            Some(file) => serde_json::json!({
                "action": "update", "file_path": path, "content": encoded, "encoding": "base64",
                // GitLab refuses the update if the file changed since this commit.
                "last_commit_id": file.last_commit_id,
            }),
        }
    }
}

#[async_trait]
impl Forge for GitLabForge {
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
        let projects: Vec<wire::Project> =
            self.rest
                .get_json(self.rest.url(
                    "projects?membership=true&order_by=last_activity_at&sort=desc&per_page=100",
                ))
                .await?;
        // Projects in subgroups (`a/b/c`) are not `owner/name`: left out.
        Ok(projects
            .into_iter()
            .filter_map(|p| p.path_with_namespace.parse().ok())
            .collect())
    }

    async fn default_branch(&self, repo: &RepoId) -> Result<String, ForgeError> {
        let url = self.project_url(repo, "");
        let endpoint = url.path().to_owned();
        self.project(repo)
            .await?
            .default_branch
            .ok_or_else(|| contract(&endpoint, "the project has no default branch"))
    }

    async fn open_change_requests(
        &self,
        repo: &RepoId,
    ) -> Result<Vec<ChangeRequestSummary>, ForgeError> {
        let url = self.project_url(
            repo,
            "merge_requests?state=opened&order_by=created_at&sort=desc&per_page=100",
        );
        let list: Vec<wire::MergeRequest> = self.rest.get_all(url).await?;
        // The list leaves the base commit out: each merge request says, read
        // side by side (the HTTP layer bounds how many at once).
        let full = futures::future::join_all(list.iter().map(|mr| async move {
            match mr.summary(repo) {
                Some(s) => Ok(s),
                None => {
                    let url = self.mr_url(repo, mr.iid, "");
                    self.merge_request(repo, mr.iid)
                        .await?
                        .summary(repo)
                        .ok_or_else(|| {
                            contract(
                                url.path(),
                                "a merge request without its base and head commits",
                            )
                        })
                }
            }
        }))
        .await;
        full.into_iter().collect()
    }

    async fn change_request(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<ChangeRequest, ForgeError> {
        let url = self.mr_url(repo, number, "");
        // GitLab gives neither a commit count nor line counts on the merge
        // request: both are read from its lists, at the same time.
        let (mr, commits, diffs) = tokio::try_join!(
            self.merge_request(repo, number),
            self.commits(repo, number),
            self.diffs(repo, number),
        )?;
        let summary = mr.summary(repo).ok_or_else(|| {
            contract(
                url.path(),
                "a merge request without its base and head commits",
            )
        })?;
        let commits = commits.len() as u64;
        let files: Vec<ChangedFile> = diffs.iter().map(ChangedFile::from).collect();
        Ok(ChangeRequest {
            body: mr.description.clone().unwrap_or_default(),
            web_url: mr.web_url.clone(),
            repo_id: mr.project_id,
            commits,
            changed_files: mr.changed_files(),
            additions: files.iter().map(|f| f.additions).sum(),
            deletions: files.iter().map(|f| f.deletions).sum(),
            summary,
        })
    }

    async fn changed_files(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<ChangedFile>, ForgeError> {
        Ok(self
            .diffs(repo, number)
            .await?
            .iter()
            .map(ChangedFile::from)
            .collect())
    }

    /// GitLab sends each file's hunks; the whole diff is put together from
    /// them, with git's file headers. A file GitLab cut for size makes the
    /// whole diff unavailable here, as on GitHub past its limits.
    async fn unified_diff(&self, repo: &RepoId, number: u64) -> Result<String, ForgeError> {
        let mut out = String::new();
        for d in self.diffs(repo, number).await? {
            out.push_str(&file_section(&d)?);
        }
        Ok(out)
    }

    async fn commit_statuses(
        &self,
        repo: &RepoId,
        sha: &str,
    ) -> Result<Vec<crate::CommitStatus>, ForgeError> {
        check_sha(sha)?;
        // Newest first; the first of each name is the one that counts.
        let url = self.project_url(
            repo,
            &format!("repository/commits/{sha}/statuses?per_page=100"),
        );
        let list: Vec<wire::Status> = self.rest.get_all(url).await?;
        let mut out: Vec<crate::CommitStatus> = Vec::new();
        for s in list {
            if !out.iter().any(|o| o.context == s.name) {
                out.push(s.into());
            }
        }
        Ok(out)
    }

    async fn create_status(
        &self,
        repo: &RepoId,
        sha: &str,
        status: &crate::CommitStatus,
    ) -> Result<(), ForgeError> {
        use crate::StatusState;
        check_sha(sha)?;
        let description = status.description.clone().unwrap_or_default();
        if description.chars().count() > 140 {
            return Err(ForgeError::InvalidInput(
                "a commit status description has at most 140 characters".into(),
            ));
        }
        let state = match status.state {
            StatusState::Pending => "pending",
            StatusState::Success => "success",
            StatusState::Failure => "failed",
            StatusState::Error => "canceled",
        };
        let mut body = serde_json::json!({
            "state": state,
            "name": status.context,
            "description": description,
        });
        if let Some(url) = &status.target_url {
            body["target_url"] = serde_json::Value::String(url.clone());
        }
        let _: serde_json::Value = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.project_url(repo, &format!("statuses/{sha}")),
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
        let url = self.mr_url(
            repo,
            number,
            "/notes?sort=asc&order_by=created_at&per_page=100",
        );
        let notes: Vec<wire::Note> = self.rest.get_all(url).await?;
        let mut out = Vec::new();
        for n in notes.into_iter().filter(|n| !n.system) {
            out.push(self.comment(repo, number, n).await?);
        }
        Ok(out)
    }

    async fn create_comment(
        &self,
        repo: &RepoId,
        number: u64,
        body: &str,
    ) -> Result<crate::Comment, ForgeError> {
        let n: wire::Note = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.mr_url(repo, number, "/notes"),
                &serde_json::json!({ "body": body }),
            )
            .await?;
        self.comment(repo, number, n).await
    }

    async fn update_comment(
        &self,
        repo: &RepoId,
        comment_id: u64,
        body: &str,
    ) -> Result<crate::Comment, ForgeError> {
        let number = self
            .note_owner
            .lock()
            .unwrap()
            .get(&(repo.clone(), comment_id))
            .copied()
            .ok_or_else(|| {
                ForgeError::InvalidInput(format!(
                    "note {comment_id} was not read from a merge request first"
                ))
            })?;
        let n: wire::Note = self
            .rest
            .write_json(
                reqwest::Method::PUT,
                self.mr_url(repo, number, &format!("/notes/{comment_id}")),
                &serde_json::json!({ "body": body }),
            )
            .await?;
        self.comment(repo, number, n).await
    }

    /// GitLab's approvals (context only, like GitHub's reviews): who
    /// approved, on no particular commit.
    async fn reviews(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::ForgeReview>, ForgeError> {
        let a: wire::Approvals = self
            .rest
            .get_json(self.mr_url(repo, number, "/approvals"))
            .await?;
        Ok(a.approved_by
            .into_iter()
            .map(|a| crate::ForgeReview {
                reviewer: a.user.into(),
                state: "APPROVED".to_owned(),
                body: String::new(),
                commit: None,
                submitted_at: None,
            })
            .collect())
    }

    async fn commits(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<crate::CommitInfo>, ForgeError> {
        // Newest first on GitLab; oldest first here.
        let list: Vec<wire::Commit> = self
            .rest
            .get_all(self.mr_url(repo, number, "/commits?per_page=100"))
            .await?;
        Ok(list.into_iter().rev().map(Into::into).collect())
    }

    /// Jobs of CI pipelines for the commit, as check runs of `gitlab-ci` (the
    /// jobs list holds CI jobs only); statuses posted through the API as
    /// statuses, which anyone with the Developer role can set.
    async fn checks(&self, repo: &RepoId, sha: &str) -> Result<Vec<crate::Check>, ForgeError> {
        check_sha(sha)?;
        let pipelines: Vec<wire::Pipeline> = self
            .rest
            .get_all(self.project_url(repo, &format!("pipelines?sha={sha}&per_page=100")))
            .await?;
        let mut checks: Vec<crate::Check> = Vec::new();
        // Newest pipeline first: the first job of each name counts.
        for p in pipelines
            .iter()
            .filter(|p| p.source.as_deref() != Some("external"))
        {
            let jobs: Vec<wire::Job> = self
                .rest
                .get_all(self.project_url(repo, &format!("pipelines/{}/jobs?per_page=100", p.id)))
                .await?;
            for j in jobs {
                if checks.iter().any(|c| c.name == j.name) {
                    continue;
                }
                checks.push(crate::Check {
                    state: wire::job_state(&j.status),
                    name: j.name,
                    url: j.web_url,
                    source: crate::CheckSource::ForgeCi {
                        app: GITLAB_CI.to_owned(),
                    },
                });
            }
        }
        let jobs: Vec<String> = checks.iter().map(|c| c.name.clone()).collect();
        for s in self.commit_statuses(repo, sha).await? {
            if jobs.contains(&s.context) {
                continue;
            }
            checks.push(crate::Check {
                state: match s.state {
                    crate::StatusState::Success => crate::CheckState::Success,
                    crate::StatusState::Pending => crate::CheckState::Pending,
                    _ => crate::CheckState::Failure,
                },
                name: s.context,
                url: s.target_url,
                source: crate::CheckSource::Status,
            });
        }
        Ok(checks)
    }

    /// A file at a commit or branch. `file@group/project[:ref]` — how GitLab
    /// names a CI configuration kept in another project — is read from that
    /// project (at `ref`, else its default branch), whatever commit of this
    /// one is asked for: no change here can edit it, so it reads the same at
    /// a change's base and head, and the evidence its jobs made can count.
    async fn file_at(
        &self,
        repo: &RepoId,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>, ForgeError> {
        if let Some((file, project, at)) = external_config(path) {
            let at = match at {
                Some(at) => at.to_owned(),
                None => self.default_branch(&project).await?,
            };
            return Ok(self.file(&project, file, &at).await?.map(|(_, b)| b));
        }
        Ok(self.file(repo, path, git_ref).await?.map(|(_, b)| b))
    }

    /// Job artifacts of the commit's CI pipelines. Each is attributed to
    /// the project's CI configuration file (`ci_config_path`), which the
    /// policy names like a workflow file.
    async fn artifacts(
        &self,
        repo: &RepoId,
        sha: &str,
    ) -> Result<Vec<crate::Artifact>, ForgeError> {
        check_sha(sha)?;
        let config = self
            .project(repo)
            .await?
            .ci_config_path
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| DEFAULT_CI_CONFIG.to_owned());
        let pipelines: Vec<wire::Pipeline> = self
            .rest
            .get_all(self.project_url(repo, &format!("pipelines?sha={sha}&per_page=100")))
            .await?;
        let now = chrono::Utc::now();
        let mut out = Vec::new();
        for p in pipelines
            .iter()
            .filter(|p| p.source.as_deref() != Some("external"))
        {
            let jobs: Vec<wire::Job> = self
                .rest
                .get_all(self.project_url(repo, &format!("pipelines/{}/jobs?per_page=100", p.id)))
                .await?;
            let completed = matches!(
                p.status.as_str(),
                "success" | "failed" | "canceled" | "skipped"
            );
            for j in jobs {
                let Some(file) = &j.artifacts_file else {
                    continue;
                };
                out.push(crate::Artifact {
                    id: j.id,
                    name: j.name.clone(),
                    size_bytes: file.size,
                    expired: j.artifacts_expire_at.is_some_and(|t| t < now),
                    run_id: p.id,
                    workflow_path: Some(config.clone()),
                    run_completed: completed,
                    run_created_at: p.created_at,
                });
            }
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
        let url = self.project_url(repo, &format!("jobs/{}/artifacts", artifact.id));
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
            .file(repo, path, &tip)
            .await?
            .map(|(_, bytes)| (tip, bytes)))
    }

    async fn refs_under(
        &self,
        repo: &RepoId,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, ForgeError> {
        check_ref_name(prefix.trim_end_matches('/'))?;
        // `^` anchors GitLab's branch search at the start of the name.
        let mut url = self.project_url(repo, "repository/branches");
        url.query_pairs_mut()
            .append_pair("search", &format!("^{prefix}"))
            .append_pair("per_page", "100");
        let branches: Vec<wire::Branch> = self.rest.get_all(url).await?;
        refs_with_prefix(
            branches.into_iter().map(|b| (b.name, b.commit.id)),
            "",
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
        // Every commit on the records branch and not on the default branch
        // (`default..tip`), with no path filter.
        let default_branch = self.default_branch(repo).await?;
        check_ref_name(&default_branch)?;
        let mut url = self.project_url(repo, "repository/commits");
        url.query_pairs_mut()
            .append_pair("ref_name", &format!("{default_branch}..{tip}"))
            .append_pair("per_page", "100");
        let endpoint = url.path().to_owned();
        let commits: Vec<wire::Commit> = self.rest.get_all(url).await?;
        let listed = commits.into_iter().map(|c| c.id).collect();
        let mut versions = Vec::new();
        for sha in branch_history(name, &tip, listed, max_commits, &endpoint)? {
            if let Some((_, bytes)) = self.file(repo, path, &sha).await? {
                versions.push((sha, bytes));
            }
        }
        Ok(Some(crate::RefFileHistory { tip, versions }))
    }

    /// GitLab writes no arbitrary ref through its API: the records live on a
    /// branch `<name>`, written through the commits API. The first write
    /// makes it from the default branch; each later one names the commit of
    /// the file it replaces (`last_commit_id`), and GitLab refuses it if the
    /// file moved. Never forced; a protected `countersign/*` branch keeps
    /// others off it.
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
        match self.branch_tip(repo, name).await? {
            None => {
                let base = self.default_branch(repo).await?;
                let current = self.file(repo, path, &base).await?;
                let action = Self::write_action(path, content, current.as_ref().map(|(f, _)| f));
                self.commit(repo, name, Some(&base), message, vec![action])
                    .await
            }
            Some(tip) => {
                let current = self.file(repo, path, &tip).await?;
                let action = Self::write_action(path, content, current.as_ref().map(|(f, _)| f));
                self.commit(repo, name, None, message, vec![action]).await
            }
        }
    }

    async fn propose_change(
        &self,
        p: &crate::Proposal<'_>,
    ) -> Result<ChangeRequestSummary, ForgeError> {
        check_ref_name(p.base_branch)?;
        check_ref_name(p.new_branch)?;
        if self.branch_tip(p.repo, p.new_branch).await?.is_some() {
            return Err(ForgeError::Conflict(format!(
                "branch {} already exists",
                p.new_branch
            )));
        }
        let mut actions = Vec::new();
        for (path, content) in p.files {
            path_segments(path)?;
            let current = self.file(p.repo, path, p.base_branch).await?;
            actions.push(Self::write_action(
                path,
                content,
                current.as_ref().map(|(f, _)| f),
            ));
        }
        self.commit(p.repo, p.new_branch, Some(p.base_branch), p.title, actions)
            .await?;
        let mr: wire::MergeRequest = self
            .rest
            .write_json(
                reqwest::Method::POST,
                self.project_url(p.repo, "merge_requests"),
                &serde_json::json!({
                    "source_branch": p.new_branch,
                    "target_branch": p.base_branch,
                    "title": p.title,
                    "description": p.body,
                }),
            )
            .await?;
        let url = self.project_url(p.repo, "merge_requests");
        match mr.summary(p.repo) {
            Some(s) => Ok(s),
            None => self
                .merge_request(p.repo, mr.iid)
                .await?
                .summary(p.repo)
                .ok_or_else(|| contract(url.path(), "a new merge request without its commits")),
        }
    }
}

/// `file@group/project[:ref]`: a CI configuration in another project, as
/// GitLab's "CI/CD configuration file" setting names one.
fn external_config(path: &str) -> Option<(&str, RepoId, Option<&str>)> {
    let (file, rest) = path.split_once('@')?;
    let (project, at) = match rest.split_once(':') {
        Some((project, at)) => (project, Some(at)),
        None => (rest, None),
    };
    Some((file, project.parse().ok()?, at))
}

/// One file's part of the whole diff: git's headers and GitLab's hunks. A
/// file GitLab cut for size, or sent without hunks although its content
/// changed (as its API does for some collapsed diffs), is refused: the
/// change would read as not changing it.
fn file_section(d: &wire::Diff) -> Result<String, ForgeError> {
    if d.cut() {
        return Err(ForgeError::TooLarge(format!(
            "GitLab left out the diff of {}",
            d.new_path
        )));
    }
    let pure_rename = d.renamed_file && !d.new_file && !d.deleted_file;
    if d.diff.is_empty() && !pure_rename {
        return Err(ForgeError::TooLarge(format!(
            "GitLab sent no diff for {}",
            d.new_path
        )));
    }
    for path in [&d.old_path, &d.new_path] {
        path_segments(path)?;
    }
    let mut out = format!("diff --git a/{} b/{}\n", d.old_path, d.new_path);
    if d.new_file {
        out.push_str("new file mode 100644\n--- /dev/null\n");
    } else if d.deleted_file {
        out.push_str(&format!("deleted file mode 100644\n--- a/{}\n", d.old_path));
    } else {
        if d.renamed_file {
            out.push_str(&format!(
                "rename from {}\nrename to {}\n",
                d.old_path, d.new_path
            ));
        }
        out.push_str(&format!("--- a/{}\n", d.old_path));
    }
    if d.deleted_file {
        out.push_str("+++ /dev/null\n");
    } else {
        out.push_str(&format!("+++ b/{}\n", d.new_path));
    }
    out.push_str(&d.diff);
    if !d.diff.is_empty() && !d.diff.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(json: serde_json::Value) -> wire::Diff {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_ci_configuration_in_another_project_is_named_as_gitlab_names_it() {
        let (file, project, at) = external_config("gate.yml@qa/ci-config").unwrap();
        assert_eq!(
            (file, project, at),
            ("gate.yml", RepoId::new("qa", "ci-config"), None)
        );
        let (_, _, at) = external_config("ci/gate.yml@qa/ci-config:v2").unwrap();
        assert_eq!(at, Some("v2"));
        assert!(external_config(".gitlab-ci.yml").is_none());
        assert!(external_config("gate.yml@not a project").is_none());
    }

    #[test]
    fn a_file_sent_without_its_hunks_is_refused_not_shown_as_unchanged() {
        let empty_new = diff(serde_json::json!({
            "old_path": "big.bin", "new_path": "big.bin", "new_file": true, "diff": ""
        }));
        assert!(matches!(
            file_section(&empty_new),
            Err(ForgeError::TooLarge(_))
        ));
        let collapsed = diff(serde_json::json!({
            "old_path": "a.rs", "new_path": "a.rs", "diff": "@@ -1 +1 @@\n-a\n+b\n", "collapsed": true
        }));
        assert!(matches!(
            file_section(&collapsed),
            Err(ForgeError::TooLarge(_))
        ));
        let rename = diff(serde_json::json!({
            "old_path": "a.rs", "new_path": "b.rs", "renamed_file": true, "diff": ""
        }));
        assert_eq!(
            file_section(&rename).unwrap(),
            "diff --git a/a.rs b/b.rs\nrename from a.rs\nrename to b.rs\n--- a/a.rs\n+++ b/b.rs\n"
        );
        let hostile = diff(serde_json::json!({
            "old_path": "../../etc/passwd", "new_path": "x", "diff": "@@ -1 +1 @@\n-a\n+b\n"
        }));
        assert!(file_section(&hostile).is_err());
    }
}
