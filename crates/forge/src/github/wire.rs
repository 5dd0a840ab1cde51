//! GitHub's JSON shapes, kept private so that nothing outside this module
//! depends on them. Unknown fields are ignored; missing required ones fail
//! decoding with serde's "missing field" message, which the client wraps with
//! the endpoint.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{ChangeRequest, ChangeRequestSummary, ChangedFile, FileStatus, ForgeUser, RepoId};

#[derive(Deserialize)]
pub(super) struct User {
    id: u64,
    login: String,
    #[serde(default)]
    name: Option<String>,
}

impl From<User> for ForgeUser {
    fn from(u: User) -> Self {
        ForgeUser {
            id: u.id,
            login: u.login,
            name: u.name,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Label {
    name: String,
}

#[derive(Deserialize)]
pub(super) struct GitRef {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    #[serde(default)]
    repo: Option<RepoRef>,
}

#[derive(Deserialize)]
pub(super) struct RepoRef {
    id: u64,
}

#[derive(Deserialize)]
pub(super) struct Pull {
    number: u64,
    title: String,
    user: User,
    labels: Vec<Label>,
    #[serde(default)]
    draft: Option<bool>,
    base: GitRef,
    head: GitRef,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    body: Option<String>,
    html_url: String,
    // Only the single-pull endpoint carries these.
    #[serde(default)]
    commits: Option<u64>,
    #[serde(default)]
    changed_files: Option<u64>,
    #[serde(default)]
    additions: Option<u64>,
    #[serde(default)]
    deletions: Option<u64>,
}

impl Pull {
    pub(super) fn into_summary(self, repo: &RepoId) -> ChangeRequestSummary {
        self.split(repo).0
    }

    pub(super) fn into_change_request(self, repo: &RepoId) -> ChangeRequest {
        let (summary, rest) = self.split(repo);
        ChangeRequest {
            summary,
            body: rest.body.unwrap_or_default(),
            web_url: rest.html_url,
            repo_id: rest.repo_id,
            commits: rest.commits.unwrap_or(0),
            changed_files: rest.changed_files.unwrap_or(0),
            additions: rest.additions.unwrap_or(0),
            deletions: rest.deletions.unwrap_or(0),
        }
    }

    fn split(self, repo: &RepoId) -> (ChangeRequestSummary, PullRest) {
        let repo_id = self.base.repo.as_ref().map(|r| r.id);
        let summary = ChangeRequestSummary {
            repo: repo.clone(),
            number: self.number,
            title: self.title,
            author: self.user.into(),
            labels: self.labels.into_iter().map(|l| l.name).collect(),
            draft: self.draft.unwrap_or(false),
            base_ref: self.base.name,
            base_sha: self.base.sha,
            head_sha: self.head.sha,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        let rest = PullRest {
            repo_id,
            body: self.body,
            html_url: self.html_url,
            commits: self.commits,
            changed_files: self.changed_files,
            additions: self.additions,
            deletions: self.deletions,
        };
        (summary, rest)
    }
}

struct PullRest {
    repo_id: Option<u64>,
    body: Option<String>,
    html_url: String,
    commits: Option<u64>,
    changed_files: Option<u64>,
    additions: Option<u64>,
    deletions: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct File {
    filename: String,
    #[serde(default)]
    previous_filename: Option<String>,
    status: FileStatus,
    additions: u64,
    deletions: u64,
    #[serde(default)]
    patch: Option<String>,
}

impl From<File> for ChangedFile {
    fn from(f: File) -> Self {
        ChangedFile {
            path: f.filename,
            previous_path: f.previous_filename,
            status: f.status,
            additions: f.additions,
            deletions: f.deletions,
            patch: f.patch,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Owner {
    login: String,
}

#[derive(Deserialize)]
pub(super) struct Repository {
    name: String,
    owner: Owner,
}

impl From<Repository> for RepoId {
    fn from(r: Repository) -> Self {
        RepoId::new(r.owner.login, r.name)
    }
}

#[derive(Deserialize)]
pub(super) struct IssueComment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    html_url: String,
    user: Option<User>,
    #[serde(default)]
    created_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<IssueComment> for crate::Comment {
    fn from(c: IssueComment) -> Self {
        crate::Comment {
            id: c.id,
            body: c.body.unwrap_or_default(),
            web_url: c.html_url,
            author: c.user.map(|u| u.login).unwrap_or_default(),
            created_at: c.created_at,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Status {
    context: String,
    state: crate::StatusState,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct CombinedStatus {
    pub(super) statuses: Vec<Status>,
}

impl From<Status> for crate::CommitStatus {
    fn from(s: Status) -> Self {
        crate::CommitStatus {
            context: s.context,
            state: s.state,
            description: s.description,
            target_url: s.target_url,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct PullCommitDetail {
    message: String,
    #[serde(default)]
    author: Option<GitPerson>,
    #[serde(default)]
    committer: Option<GitPerson>,
}

/// The identity written in the commit (anyone can write any), as opposed to
/// the account the forge links.
#[derive(Deserialize)]
pub(super) struct GitPerson {
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct PullCommit {
    sha: String,
    commit: PullCommitDetail,
    // `null` when the e-mail matches no GitHub account.
    #[serde(default)]
    author: Option<User>,
    #[serde(default)]
    committer: Option<User>,
}

impl From<PullCommit> for crate::CommitInfo {
    fn from(c: PullCommit) -> Self {
        crate::CommitInfo {
            sha: c.sha,
            author_email: c.commit.author.and_then(|p| p.email),
            committer_email: c.commit.committer.and_then(|p| p.email),
            message: c.commit.message,
            author: c.author.map(Into::into),
            committer: c.committer.map(Into::into),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CheckRun {
    name: String,
    status: String,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    app: Option<App>,
}

#[derive(Deserialize)]
pub(super) struct App {
    #[serde(default)]
    slug: Option<String>,
}

/// The slug of GitHub's Actions app.
const ACTIONS_APP: &str = "github-actions";

impl From<CheckRun> for crate::Check {
    fn from(r: CheckRun) -> Self {
        use crate::CheckState;
        let state = match (r.status.as_str(), r.conclusion.as_deref()) {
            ("completed", Some("success")) => CheckState::Success,
            ("completed", Some("neutral" | "skipped")) => CheckState::Neutral,
            ("completed", _) => CheckState::Failure,
            _ => CheckState::Pending,
        };
        crate::Check {
            name: r.name,
            state,
            url: r.html_url,
            source: match r.app.and_then(|a| a.slug) {
                // GitHub's slug for its own Actions app, which no other app can take.
                Some(app) if app == ACTIONS_APP => crate::CheckSource::ForgeCi { app },
                app => crate::CheckSource::CheckRun { app },
            },
        }
    }
}

impl From<Status> for crate::Check {
    fn from(s: Status) -> Self {
        use crate::{CheckState, StatusState};
        crate::Check {
            name: s.context,
            state: match s.state {
                StatusState::Success => CheckState::Success,
                StatusState::Pending => CheckState::Pending,
                StatusState::Failure | StatusState::Error => CheckState::Failure,
            },
            url: s.target_url,
            source: crate::CheckSource::Status,
        }
    }
}

/// `GET /contents/{path}` for a file; directories and symlinks have other shapes.
#[derive(Deserialize)]
pub(super) struct ContentFile {
    #[serde(rename = "type")]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) encoding: Option<String>,
    #[serde(default)]
    pub(super) content: Option<String>,
    pub(super) sha: String,
}

#[derive(Deserialize)]
pub(super) struct WorkflowRun {
    pub(super) id: u64,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
pub(super) struct Artifact {
    id: u64,
    name: String,
    size_in_bytes: u64,
    expired: bool,
}

impl Artifact {
    pub(super) fn into_artifact(self, run: &WorkflowRun) -> crate::Artifact {
        crate::Artifact {
            id: self.id,
            name: self.name,
            size_bytes: self.size_in_bytes,
            expired: self.expired,
            run_id: run.id,
            workflow_path: run.path.clone(),
            run_completed: run.status.as_deref() == Some("completed"),
            run_created_at: run.created_at,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ObjectRef {
    pub(super) sha: String,
}

#[derive(Deserialize)]
pub(super) struct Ref {
    /// `refs/…`
    #[serde(rename = "ref", default)]
    pub(super) name: String,
    pub(super) object: ObjectRef,
}

#[derive(Deserialize)]
pub(super) struct GitCommit {
    pub(super) sha: String,
    pub(super) tree: ObjectRef,
    #[serde(default)]
    pub(super) parents: Vec<ObjectRef>,
}

#[derive(Deserialize)]
pub(super) struct TreeEntry {
    pub(super) path: String,
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) sha: String,
}

#[derive(Deserialize)]
pub(super) struct Tree {
    pub(super) tree: Vec<TreeEntry>,
}

#[derive(Deserialize)]
pub(super) struct Blob {
    pub(super) content: String,
    pub(super) encoding: String,
}

#[derive(Deserialize)]
pub(super) struct RepositoryBranch {
    pub(super) default_branch: String,
}

#[derive(Deserialize)]
pub(super) struct Review {
    // `null` for a deleted account.
    #[serde(default)]
    user: Option<User>,
    state: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default)]
    submitted_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Review {
    pub(super) fn into_review(self) -> Option<crate::ForgeReview> {
        Some(crate::ForgeReview {
            reviewer: self.user?.into(),
            state: self.state,
            body: self.body.unwrap_or_default(),
            commit: self.commit_id,
            submitted_at: self.submitted_at,
        })
    }
}
