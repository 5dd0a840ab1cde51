//! The forge as Countersign sees it: forge-neutral types, the [`Forge`] trait,
//! and implementations that speak each forge's own API (GitHub first).

pub mod device_flow;
mod disk_cache;
mod error;
pub mod gitea;
pub mod github;
pub mod gitlab;
mod model;
mod rest;

use async_trait::async_trait;

pub use disk_cache::DiskCache;
pub use error::ForgeError;
/// The forge's clock against ours, measured at one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForgeClock {
    pub server_time: chrono::DateTime<chrono::Utc>,
    pub local_time: chrono::DateTime<chrono::Utc>,
}

impl ForgeClock {
    /// Local minus forge, in whole seconds (the `Date` header has one-second resolution).
    pub fn skew_seconds(&self) -> i64 {
        (self.local_time - self.server_time).num_seconds()
    }

    /// The forge's time when our clock reads `local`: its reading, moved on
    /// by as much as ours has since.
    pub fn at(&self, local: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        self.server_time + (local - self.local_time)
    }

    /// The forge's time now, by this reading.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.at(chrono::Utc::now())
    }
}

pub use model::{
    Artifact, ChangeRequest, ChangeRequestSummary, ChangedFile, Check, CheckSource, CheckState,
    Comment, CommitInfo, CommitStatus, FileStatus, ForgeReview, ForgeUser, RepoId, StatusState,
};

/// What the use cases need from a forge. Implementations translate their
/// forge's JSON into these types; no forge-specific shape crosses this trait.
#[async_trait]
pub trait Forge: Send + Sync {
    /// A short human name for the forge instance, e.g. `github.com`.
    fn host(&self) -> &str;

    /// The forge's clock as last seen (its `Date` header) and the local
    /// clock at that moment; `None` before the first answer.
    fn clock(&self) -> Option<ForgeClock> {
        None
    }

    /// The user the configured credential belongs to.
    async fn current_user(&self) -> Result<ForgeUser, ForgeError>;

    /// Repositories the credential can see that have open change requests to review.
    async fn repositories(&self) -> Result<Vec<RepoId>, ForgeError>;

    /// The branch change requests normally target (`main`, `master`, …).
    async fn default_branch(&self, repo: &RepoId) -> Result<String, ForgeError>;

    /// Open change requests of one repository, newest first.
    async fn open_change_requests(
        &self,
        repo: &RepoId,
    ) -> Result<Vec<ChangeRequestSummary>, ForgeError>;

    /// One change request in full.
    async fn change_request(&self, repo: &RepoId, number: u64)
        -> Result<ChangeRequest, ForgeError>;

    /// The files a change request touches, with per-file patches when the forge sends them.
    async fn changed_files(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<Vec<ChangedFile>, ForgeError>;

    /// The whole unified diff of a change request.
    async fn unified_diff(&self, repo: &RepoId, number: u64) -> Result<String, ForgeError>;

    /// The latest status per context of a commit.
    async fn commit_statuses(
        &self,
        repo: &RepoId,
        sha: &str,
    ) -> Result<Vec<CommitStatus>, ForgeError>;

    /// Set a commit status. Not idempotent on the forge (each call adds one):
    /// callers compare with [`Forge::commit_statuses`] first.
    async fn create_status(
        &self,
        repo: &RepoId,
        sha: &str,
        status: &CommitStatus,
    ) -> Result<(), ForgeError>;

    /// Comments on a change request, oldest first.
    async fn comments(&self, repo: &RepoId, number: u64) -> Result<Vec<Comment>, ForgeError>;

    async fn create_comment(
        &self,
        repo: &RepoId,
        number: u64,
        body: &str,
    ) -> Result<Comment, ForgeError>;

    async fn update_comment(
        &self,
        repo: &RepoId,
        comment_id: u64,
        body: &str,
    ) -> Result<Comment, ForgeError>;

    /// Reviews left on the change request, oldest first.
    async fn reviews(&self, repo: &RepoId, number: u64) -> Result<Vec<ForgeReview>, ForgeError>;

    /// The commits of a change request, oldest first.
    async fn commits(&self, repo: &RepoId, number: u64) -> Result<Vec<CommitInfo>, ForgeError>;

    /// Check runs and commit statuses of a commit, the latest per name.
    async fn checks(&self, repo: &RepoId, sha: &str) -> Result<Vec<Check>, ForgeError>;

    /// A file's bytes at a commit or branch; `None` when it does not exist there.
    async fn file_at(
        &self,
        repo: &RepoId,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>, ForgeError>;

    /// CI artifacts of the runs for a commit.
    async fn artifacts(&self, repo: &RepoId, sha: &str) -> Result<Vec<Artifact>, ForgeError>;

    /// Stream an artifact's zip to `dest`, refusing more than `max_bytes`.
    async fn download_artifact(
        &self,
        repo: &RepoId,
        artifact: &Artifact,
        dest: &std::path::Path,
        max_bytes: u64,
    ) -> Result<u64, ForgeError>;

    /// The file `path` in the tree that `refs/<name>` points to, with that
    /// commit's id; `None` when the ref or the file does not exist.
    async fn read_ref_file(
        &self,
        repo: &RepoId,
        name: &str,
        path: &str,
    ) -> Result<Option<(String, Vec<u8>)>, ForgeError>;

    /// The refs under `refs/<prefix>`, e.g. every `countersign/pr-<n>` of a
    /// repository: each name (without `refs/`) with the commit it points to.
    async fn refs_under(
        &self,
        repo: &RepoId,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, ForgeError>;

    /// Every version of the file `path` in the history of `refs/<name>`
    /// (all commits reachable from it, newest first, the tip's first), so a
    /// commit that drops content cannot hide that it was there; `None` when
    /// the ref does not exist. A history longer than `max_commits` is
    /// refused ([`ForgeError::TooLarge`]) rather than read in part.
    async fn read_ref_file_history(
        &self,
        repo: &RepoId,
        name: &str,
        path: &str,
        max_commits: usize,
    ) -> Result<Option<RefFileHistory>, ForgeError>;

    /// Commit a tree holding only `path` = `content` on top of `refs/<name>`
    /// (creating the ref if needed) and move the ref to it, never forcing.
    /// Returns the new commit's id.
    async fn write_ref_file(
        &self,
        repo: &RepoId,
        name: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<String, ForgeError>;

    /// Commit `content` at `path` on a new branch `new_branch` made from the
    /// tip of `base_branch`, and open a change request from it.
    async fn propose_change(
        &self,
        proposal: &Proposal<'_>,
    ) -> Result<ChangeRequestSummary, ForgeError>;
}

/// The versions of one file along a ref's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefFileHistory {
    /// The commit the ref points to.
    pub tip: String,
    /// (commit, the file's bytes there), newest first; commits without the
    /// file are left out, so the first entry is the tip's only when the tip
    /// has the file.
    pub versions: Vec<(String, Vec<u8>)>,
}

/// A one-file change to propose for review.
#[derive(Debug, Clone)]
pub struct Proposal<'a> {
    pub repo: &'a RepoId,
    pub base_branch: &'a str,
    pub new_branch: &'a str,
    /// Each file's path and its whole new content, in one commit.
    pub files: &'a [(&'a str, &'a [u8])],
    pub title: &'a str,
    pub body: &'a str,
}
