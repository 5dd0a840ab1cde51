use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ForgeError;

/// `owner/name` of a repository on a forge. On GitLab the owner can be a
/// group within groups (`group/subgroup/project`): every segment before the
/// last is the owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RepoId {
    pub owner: String,
    pub name: String,
}

impl RepoId {
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl FromStr for RepoId {
    type Err = ForgeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid_part = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match s.rsplit_once('/') {
            Some((owner, name))
                if valid_part(name)
                    && owner.split('/').count() <= MAX_OWNER_DEPTH
                    && owner.split('/').all(valid_part) =>
            {
                Ok(Self::new(owner, name))
            }
            _ => Err(ForgeError::InvalidInput(format!(
                "repository must look like OWNER/NAME (on GitLab GROUP/…/PROJECT), got {s:?}"
            ))),
        }
    }
}

/// GitLab nests groups at most 20 deep; a top-level group and 20 levels.
const MAX_OWNER_DEPTH: usize = 21;

impl RepoId {
    /// The owner, when it is a single account or organisation, as GitHub,
    /// Gitea and Forgejo name them: a nested GitLab group is refused rather
    /// than spliced into another forge's URL as extra path segments.
    pub fn flat_owner(&self) -> Result<&str, ForgeError> {
        if self.owner.contains('/') {
            return Err(ForgeError::InvalidInput(format!(
                "{self}: this forge names a repository OWNER/NAME; groups within groups are GitLab's"
            )));
        }
        Ok(&self.owner)
    }
}

/// A forge account. The numeric id is what identifies a person: logins can be renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeUser {
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
}

/// What a queue row needs to know about a change request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequestSummary {
    pub repo: RepoId,
    pub number: u64,
    pub title: String,
    pub author: ForgeUser,
    pub labels: Vec<String>,
    pub draft: bool,
    pub base_ref: String,
    pub base_sha: String,
    pub head_sha: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change request in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequest {
    pub summary: ChangeRequestSummary,
    pub body: String,
    pub web_url: String,
    /// The forge's numeric id of the repository, when it says.
    pub repo_id: Option<u64>,
    pub commits: u64,
    pub changed_files: u64,
    pub additions: u64,
    pub deletions: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Added,
    Removed,
    Modified,
    Renamed,
    Copied,
    Changed,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFile {
    pub path: String,
    pub previous_path: Option<String>,
    pub status: FileStatus,
    pub additions: u64,
    pub deletions: u64,
    /// `None` when the forge left the patch out (binary or too large): the
    /// caller must then fetch it another way, never show the file as unchanged.
    pub patch: Option<String>,
}

/// A comment on a change request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: u64,
    pub body: String,
    pub web_url: String,
    pub author: String,
    /// When the forge says the comment was made; `None` if it did not say.
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    Pending,
    Success,
    Failure,
    Error,
}

/// A commit status as the forge reports it (the latest per context).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitStatus {
    pub context: String,
    pub state: StatusState,
    pub description: Option<String>,
    pub target_url: Option<String>,
}

/// A commit of a change request and the forge accounts behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub sha: String,
    pub message: String,
    /// `None` when the commit's e-mail matches no forge account.
    pub author: Option<ForgeUser>,
    pub committer: Option<ForgeUser>,
    /// The e-mail addresses written in the commit: claims, not proof.
    pub author_email: Option<String>,
    pub committer_email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    Success,
    Pending,
    Failure,
    /// Neutral or skipped: neither green nor red.
    Neutral,
}

/// A review left on the forge (not a Countersign signature: forge reviews
/// carry no meaning, reason or re-authentication, and are shown as context).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeReview {
    pub reviewer: ForgeUser,
    /// e.g. `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`.
    pub state: String,
    pub body: String,
    /// The commit the review was left on.
    pub commit: Option<String>,
    /// When the review was submitted; `None` while pending or if the forge did not say.
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A check run or commit status of a commit, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub state: CheckState,
    /// Where a person can read more, when the forge says.
    pub url: Option<String>,
    /// Who reported it: a check run by an app, or a commit status (which
    /// anyone with write access can set).
    pub source: CheckSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckSource {
    /// The forge's own CI, as the forge itself attests it: GitHub's Actions
    /// app, the Actions user of Gitea and Forgejo (an id no account can
    /// have), a job of a GitLab pipeline. `app` is the forge's name for it.
    ForgeCi { app: String },
    /// A check run by another app, with its slug when it has one.
    CheckRun { app: Option<String> },
    /// A commit status (its name is the status context).
    Status,
}

/// A CI artifact (a zip) produced for a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    pub size_bytes: u64,
    pub expired: bool,
    pub run_id: u64,
    /// The workflow file of the run that made it, e.g. `.github/workflows/ci.yml`.
    pub workflow_path: Option<String>,
    /// Whether that run has completed, and when it was created.
    pub run_completed: bool,
    pub run_created_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids_parse_and_reject_path_tricks() {
        let id: RepoId = "acme-medical/infusion-pump".parse().unwrap();
        assert_eq!(id, RepoId::new("acme-medical", "infusion-pump"));
        assert_eq!(id.to_string(), "acme-medical/infusion-pump");
        assert_eq!(id.flat_owner().unwrap(), "acme-medical");
        let too_deep = format!("{}x", "g/".repeat(22));
        for bad in [
            "", "acme", "acme/", "/x", "../x", "a/..", "a b/c", "a/c?x=1", "a//c", "a/../c",
            "./a/b", "a/b/", "a/b c/d", &too_deep,
        ] {
            assert!(bad.parse::<RepoId>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_gitlab_project_in_nested_groups_keeps_its_groups_as_owner() {
        let id: RepoId = "acme/devices/pumps/firmware".parse().unwrap();
        assert_eq!(id, RepoId::new("acme/devices/pumps", "firmware"));
        assert_eq!(id.to_string(), "acme/devices/pumps/firmware");
        assert!(format!("{}x", "g/".repeat(21)).parse::<RepoId>().is_ok());
        // Other forges have one owner; a nested one is refused, not spliced.
        assert!(matches!(
            id.flat_owner(),
            Err(ForgeError::InvalidInput(m)) if m.contains("GitLab")
        ));
    }
}
