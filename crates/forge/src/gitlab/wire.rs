//! GitLab REST v4 JSON shapes (as its API documentation and OpenAPI v2
//! description give them), private to this module. Unknown fields are
//! ignored; a missing required one fails decoding, and the client names the
//! endpoint.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{ChangeRequestSummary, ChangedFile, FileStatus, ForgeUser, RepoId};

#[derive(Deserialize)]
pub(super) struct User {
    pub(super) id: u64,
    pub(super) username: String,
    #[serde(default)]
    pub(super) name: Option<String>,
}

impl From<User> for ForgeUser {
    fn from(u: User) -> Self {
        ForgeUser {
            id: u.id,
            login: u.username,
            name: u.name.filter(|n| !n.is_empty()),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Project {
    pub(super) path_with_namespace: String,
    #[serde(default)]
    pub(super) default_branch: Option<String>,
    /// Empty or absent: `.gitlab-ci.yml`; `path@group/project` when the
    /// configuration lives in another project.
    #[serde(default)]
    pub(super) ci_config_path: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct DiffRefs {
    pub(super) base_sha: Option<String>,
    pub(super) head_sha: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct MergeRequest {
    pub(super) iid: u64,
    pub(super) title: String,
    pub(super) author: User,
    #[serde(default)]
    pub(super) labels: Vec<String>,
    #[serde(default)]
    pub(super) draft: bool,
    pub(super) target_branch: String,
    /// The head commit.
    pub(super) sha: Option<String>,
    #[serde(default)]
    pub(super) diff_refs: Option<DiffRefs>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    #[serde(default)]
    pub(super) description: Option<String>,
    pub(super) web_url: String,
    #[serde(default)]
    pub(super) project_id: Option<u64>,
    /// A count as text, `"1000+"` past GitLab's limit.
    #[serde(default)]
    pub(super) changes_count: Option<String>,
}

impl MergeRequest {
    /// `None` when the answer names no base or head commit (the list
    /// endpoint may leave `diff_refs` out: the single one then says).
    pub(super) fn summary(&self, repo: &RepoId) -> Option<ChangeRequestSummary> {
        let refs = self.diff_refs.as_ref()?;
        let head = refs.head_sha.clone().or_else(|| self.sha.clone())?;
        Some(ChangeRequestSummary {
            repo: repo.clone(),
            number: self.iid,
            title: self.title.clone(),
            author: ForgeUser {
                id: self.author.id,
                login: self.author.username.clone(),
                name: self.author.name.clone().filter(|n| !n.is_empty()),
            },
            labels: self.labels.clone(),
            draft: self.draft,
            base_ref: self.target_branch.clone(),
            base_sha: refs.base_sha.clone()?,
            head_sha: head,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }

    /// The count of changed files; past GitLab's limit (`"1000+"`), one more
    /// than it lists, so that the change reads as not delivered whole.
    pub(super) fn changed_files(&self) -> u64 {
        let text = self.changes_count.as_deref().unwrap_or("0");
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let n = digits.parse().unwrap_or(0);
        if text.ends_with('+') {
            n + 1
        } else {
            n
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Diff {
    pub(super) old_path: String,
    pub(super) new_path: String,
    #[serde(default)]
    pub(super) new_file: bool,
    #[serde(default)]
    pub(super) renamed_file: bool,
    #[serde(default)]
    pub(super) deleted_file: bool,
    #[serde(default)]
    pub(super) diff: String,
    /// Left out by GitLab for size: the file's diff is not in `diff`.
    #[serde(default)]
    pub(super) too_large: Option<bool>,
    #[serde(default)]
    pub(super) collapsed: Option<bool>,
}

impl Diff {
    pub(super) fn cut(&self) -> bool {
        self.too_large == Some(true) || self.collapsed == Some(true)
    }
}

impl From<&Diff> for ChangedFile {
    fn from(d: &Diff) -> Self {
        let (mut additions, mut deletions) = (0, 0);
        for line in d.diff.lines() {
            if line.starts_with('+') {
                additions += 1;
            } else if line.starts_with('-') {
                deletions += 1;
            }
        }
        ChangedFile {
            path: d.new_path.clone(),
            previous_path: (d.renamed_file && d.old_path != d.new_path).then(|| d.old_path.clone()),
            status: if d.new_file {
                FileStatus::Added
            } else if d.deleted_file {
                FileStatus::Removed
            } else if d.renamed_file {
                FileStatus::Renamed
            } else {
                FileStatus::Modified
            },
            additions,
            deletions,
            patch: (!d.cut() && !d.diff.is_empty()).then(|| d.diff.clone()),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Commit {
    pub(super) id: String,
    #[serde(default)]
    pub(super) message: String,
    #[serde(default)]
    pub(super) author_email: Option<String>,
    #[serde(default)]
    pub(super) committer_email: Option<String>,
}

impl From<Commit> for crate::CommitInfo {
    fn from(c: Commit) -> Self {
        // GitLab links no account to a commit here: the e-mails are claims,
        // matched against the roster like any unlinked commit.
        crate::CommitInfo {
            sha: c.id,
            message: c.message,
            author: None,
            committer: None,
            author_email: c.author_email.filter(|e| !e.is_empty()),
            committer_email: c.committer_email.filter(|e| !e.is_empty()),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Note {
    pub(super) id: u64,
    pub(super) body: String,
    pub(super) author: User,
    #[serde(default)]
    pub(super) created_at: Option<DateTime<Utc>>,
    /// GitLab's own notes (a push, a label change): never ours.
    #[serde(default)]
    pub(super) system: bool,
}

#[derive(Deserialize)]
pub(super) struct Status {
    pub(super) name: String,
    /// `pending`, `running`, `success`, `failed`, `canceled`, `skipped`, …
    pub(super) status: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) target_url: Option<String>,
}

impl From<Status> for crate::CommitStatus {
    fn from(s: Status) -> Self {
        crate::CommitStatus {
            state: state_of(&s.status),
            context: s.name,
            description: s.description.filter(|d| !d.is_empty()),
            target_url: s.target_url.filter(|u| !u.is_empty()),
        }
    }
}

/// GitLab's status words; `canceled` stands for our `error` (GitLab has
/// none), so a status reads back as it was written.
pub(super) fn state_of(status: &str) -> crate::StatusState {
    use crate::StatusState;
    match status {
        "success" => StatusState::Success,
        "failed" => StatusState::Failure,
        "pending" | "running" | "created" | "waiting_for_resource" | "preparing" | "scheduled" => {
            StatusState::Pending
        }
        _ => StatusState::Error,
    }
}

/// A CI job's status as a check: `skipped` is neither green nor red;
/// anything else that is not a success or still running is a failure.
pub(super) fn job_state(status: &str) -> crate::CheckState {
    use crate::{CheckState, StatusState};
    match (status, state_of(status)) {
        ("skipped", _) => CheckState::Neutral,
        (_, StatusState::Success) => CheckState::Success,
        (_, StatusState::Pending) => CheckState::Pending,
        (_, StatusState::Failure | StatusState::Error) => CheckState::Failure,
    }
}

#[derive(Deserialize)]
pub(super) struct Approver {
    pub(super) user: User,
}

#[derive(Deserialize)]
pub(super) struct Approvals {
    #[serde(default)]
    pub(super) approved_by: Vec<Approver>,
}

#[derive(Deserialize)]
pub(super) struct File {
    #[serde(default)]
    pub(super) last_commit_id: Option<String>,
    pub(super) encoding: String,
    pub(super) content: String,
}

#[derive(Deserialize)]
pub(super) struct BranchCommit {
    pub(super) id: String,
}

#[derive(Deserialize)]
pub(super) struct Branch {
    pub(super) name: String,
    pub(super) commit: BranchCommit,
}

#[derive(Deserialize)]
pub(super) struct Pipeline {
    pub(super) id: u64,
    #[serde(default)]
    pub(super) status: String,
    /// `push`, `merge_request_event`, … or `external` for statuses posted
    /// through the API, which are not CI.
    #[serde(default)]
    pub(super) source: Option<String>,
    #[serde(default)]
    pub(super) created_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
pub(super) struct ArtifactsFile {
    #[serde(default)]
    pub(super) size: u64,
}

#[derive(Deserialize)]
pub(super) struct Job {
    pub(super) id: u64,
    pub(super) name: String,
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) web_url: Option<String>,
    #[serde(default)]
    pub(super) artifacts_file: Option<ArtifactsFile>,
    #[serde(default)]
    pub(super) artifacts_expire_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
pub(super) struct CommitCreated {
    pub(super) id: String,
}
