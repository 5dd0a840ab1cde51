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
            commits: rest.commits.unwrap_or(0),
            changed_files: rest.changed_files.unwrap_or(0),
            additions: rest.additions.unwrap_or(0),
            deletions: rest.deletions.unwrap_or(0),
        }
    }

    fn split(self, repo: &RepoId) -> (ChangeRequestSummary, PullRest) {
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
}

impl From<IssueComment> for crate::Comment {
    fn from(c: IssueComment) -> Self {
        crate::Comment {
            id: c.id,
            body: c.body.unwrap_or_default(),
            web_url: c.html_url,
            author: c.user.map(|u| u.login).unwrap_or_default(),
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
