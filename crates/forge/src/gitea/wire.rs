//! Gitea's and Forgejo's JSON shapes (their Swagger 2.0 descriptions), kept
//! private to this module. Unknown fields are ignored; a missing required one
//! fails decoding, and the client names the endpoint.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{
    ChangeRequest, ChangeRequestSummary, ChangedFile, CheckSource, CheckState, FileStatus,
    ForgeUser, RepoId, StatusState,
};

#[derive(Deserialize)]
pub(super) struct User {
    id: u64,
    login: String,
    #[serde(default)]
    full_name: Option<String>,
}

impl From<User> for ForgeUser {
    fn from(u: User) -> Self {
        ForgeUser {
            id: u.id,
            login: u.login,
            name: u.full_name.filter(|n| !n.is_empty()),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Label {
    name: String,
}

#[derive(Deserialize)]
pub(super) struct BranchInfo {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    #[serde(default)]
    repo_id: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct Pull {
    number: u64,
    title: String,
    user: User,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    draft: Option<bool>,
    base: BranchInfo,
    head: BranchInfo,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    body: Option<String>,
    html_url: String,
    #[serde(default)]
    changed_files: Option<u64>,
    #[serde(default)]
    additions: Option<u64>,
    #[serde(default)]
    deletions: Option<u64>,
}

impl Pull {
    pub(super) fn into_summary(self, repo: &RepoId) -> ChangeRequestSummary {
        self.into_change_request(repo, 0).summary
    }

    /// `commits`: the count the forge gave for the commits list (Gitea's
    /// pull request has no commit count of its own).
    pub(super) fn into_change_request(self, repo: &RepoId, commits: u64) -> ChangeRequest {
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
        ChangeRequest {
            summary,
            body: self.body.unwrap_or_default(),
            web_url: self.html_url,
            repo_id: self.base.repo_id,
            commits,
            changed_files: self.changed_files.unwrap_or(0),
            additions: self.additions.unwrap_or(0),
            deletions: self.deletions.unwrap_or(0),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct File {
    filename: String,
    #[serde(default)]
    previous_filename: Option<String>,
    status: String,
    #[serde(default)]
    additions: u64,
    #[serde(default)]
    deletions: u64,
}

impl From<File> for ChangedFile {
    fn from(f: File) -> Self {
        ChangedFile {
            status: match f.status.as_str() {
                "added" => FileStatus::Added,
                "deleted" | "removed" => FileStatus::Removed,
                "renamed" => FileStatus::Renamed,
                "copied" => FileStatus::Copied,
                "unchanged" => FileStatus::Unchanged,
                "modified" => FileStatus::Modified,
                _ => FileStatus::Changed,
            },
            previous_path: f.previous_filename.filter(|p| !p.is_empty()),
            path: f.filename,
            additions: f.additions,
            deletions: f.deletions,
            // Gitea's files list never carries patches: the whole diff does.
            patch: None,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Owner {
    login: String,
}

#[derive(Deserialize)]
pub(super) struct Repository {
    owner: Owner,
    name: String,
    pub(super) default_branch: String,
}

impl From<Repository> for RepoId {
    fn from(r: Repository) -> Self {
        RepoId::new(r.owner.login, r.name)
    }
}

#[derive(Deserialize)]
pub(super) struct Comment {
    id: u64,
    body: String,
    html_url: String,
    user: User,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
}

impl From<Comment> for crate::Comment {
    fn from(c: Comment) -> Self {
        crate::Comment {
            id: c.id,
            body: c.body,
            web_url: c.html_url,
            author: c.user.login,
            created_at: c.created_at,
        }
    }
}

/// Who set a status: Actions reports as a system user with a negative id,
/// which no account can have.
#[derive(Deserialize)]
pub(super) struct StatusCreator {
    id: i64,
    login: String,
}

/// The id Gitea and Forgejo give their Actions user.
const ACTIONS_USER_ID: i64 = -2;

#[derive(Deserialize)]
pub(super) struct Status {
    #[serde(default)]
    creator: Option<StatusCreator>,
    context: String,
    /// `pending`, `success`, `error`, `failure`, `warning` (and `skipped` on Forgejo).
    status: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct CombinedStatus {
    #[serde(default)]
    pub(super) statuses: Vec<Status>,
}

impl From<Status> for crate::CommitStatus {
    fn from(s: Status) -> Self {
        crate::CommitStatus {
            state: match s.status.as_str() {
                "success" => StatusState::Success,
                "pending" => StatusState::Pending,
                "failure" => StatusState::Failure,
                // `warning`, `skipped` or anything new: not a success.
                _ => StatusState::Error,
            },
            context: s.context,
            description: s.description.filter(|d| !d.is_empty()),
            target_url: s.target_url.filter(|u| !u.is_empty()),
        }
    }
}

impl From<Status> for crate::Check {
    fn from(s: Status) -> Self {
        // The forge's own Actions reported this: it stands where GitHub
        // has a check run by its Actions app. Anyone else's status is a status.
        let source = match &s.creator {
            Some(c) if c.id == ACTIONS_USER_ID => CheckSource::ForgeCi {
                app: c.login.clone(),
            },
            _ => CheckSource::Status,
        };
        crate::Check {
            state: match s.status.as_str() {
                "success" => CheckState::Success,
                "pending" => CheckState::Pending,
                "skipped" => CheckState::Neutral,
                _ => CheckState::Failure,
            },
            name: s.context,
            url: s.target_url.filter(|u| !u.is_empty()),
            source,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Review {
    #[serde(default)]
    user: Option<User>,
    state: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default)]
    submitted_at: Option<DateTime<Utc>>,
}

impl Review {
    /// Gitea's states in GitHub's words (`APPROVED`, `CHANGES_REQUESTED`,
    /// `COMMENTED`); a review without a user (a team's) is left out.
    pub(super) fn into_review(self) -> Option<crate::ForgeReview> {
        let state = match self.state.as_str() {
            "REQUEST_CHANGES" => "CHANGES_REQUESTED".to_owned(),
            "COMMENT" => "COMMENTED".to_owned(),
            other => other.to_owned(),
        };
        Some(crate::ForgeReview {
            reviewer: self.user?.into(),
            state,
            body: self.body,
            commit: self.commit_id.filter(|c| !c.is_empty()),
            submitted_at: self.submitted_at,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct Person {
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct CommitDetail {
    message: String,
    #[serde(default)]
    author: Option<Person>,
    #[serde(default)]
    committer: Option<Person>,
}

#[derive(Deserialize)]
pub(super) struct Commit {
    pub(super) sha: String,
    commit: CommitDetail,
    #[serde(default)]
    author: Option<User>,
    #[serde(default)]
    committer: Option<User>,
}

impl From<Commit> for crate::CommitInfo {
    fn from(c: Commit) -> Self {
        crate::CommitInfo {
            sha: c.sha,
            message: c.commit.message,
            author: c.author.map(Into::into),
            committer: c.committer.map(Into::into),
            author_email: c.commit.author.and_then(|p| p.email),
            committer_email: c.commit.committer.and_then(|p| p.email),
        }
    }
}

/// `contents/{path}`: a file, or (for a directory) a list.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Contents {
    File(ContentFile),
    // Only that it is a list matters; an object that is not a file fails.
    Directory(#[allow(dead_code)] Vec<serde::de::IgnoredAny>),
}

#[derive(Deserialize)]
pub(super) struct ContentFile {
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) sha: String,
    #[serde(default)]
    pub(super) encoding: Option<String>,
    #[serde(default)]
    pub(super) content: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Blob {
    pub(super) content: String,
    pub(super) encoding: String,
}

#[derive(Deserialize)]
pub(super) struct RefObject {
    pub(super) sha: String,
}

#[derive(Deserialize)]
pub(super) struct Reference {
    #[serde(rename = "ref")]
    pub(super) name: String,
    pub(super) object: RefObject,
}

#[derive(Deserialize)]
pub(super) struct FileCommit {
    pub(super) sha: String,
}

#[derive(Deserialize)]
pub(super) struct FileResponse {
    pub(super) commit: FileCommit,
}

/// A workflow run as Gitea lists it (`{total_count, workflow_runs}`).
#[derive(Deserialize)]
pub(super) struct GiteaRun {
    pub(super) id: u64,
    /// `<workflow file name>@<ref>`.
    #[serde(default)]
    pub(super) path: String,
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) started_at: Option<DateTime<Utc>>,
}

/// A workflow run as Forgejo lists it (`{total_count, workflow_runs}`).
#[derive(Deserialize)]
pub(super) struct ForgejoRun {
    pub(super) id: u64,
    /// The workflow file's name.
    #[serde(default)]
    pub(super) workflow_id: String,
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) created: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
pub(super) struct Artifact {
    pub(super) id: u64,
    pub(super) name: String,
    #[serde(default)]
    pub(super) size_in_bytes: u64,
    #[serde(default)]
    pub(super) expired: bool,
}
