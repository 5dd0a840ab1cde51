//! The forge as a kept snapshot remembers it, for signing where there is
//! no network: who read it, the records there were, and the forge's clock
//! as last measured. Everything else is unreachable, as the forge is: the
//! signing ceremony runs unchanged on top, and what it cannot know offline
//! it does not pretend to.

use async_trait::async_trait;
use countersign_forge::{
    Artifact, ChangeRequest, ChangeRequestSummary, ChangedFile, Check, Comment, CommitInfo,
    CommitStatus, Forge, ForgeClock, ForgeError, ForgeReview, ForgeUser, Proposal, RefFileHistory,
    RepoId,
};
use countersign_signing::verify::Bundle;

use crate::snapshot::Kept;

pub struct OfflineForge {
    host: String,
    reader: ForgeUser,
    clock: ForgeClock,
    records: Vec<u8>,
}

impl OfflineForge {
    pub fn new(kept: &Kept) -> Self {
        Self {
            host: kept.forge_host.clone(),
            reader: kept.reader.clone(),
            clock: kept.clock(),
            records: serde_json::to_vec(&Bundle::new(kept.records.clone())).unwrap_or_default(),
        }
    }
}

fn away() -> ForgeError {
    ForgeError::Network {
        endpoint: "(offline)".to_owned(),
        detail: "the forge cannot be reached: working from the change kept for offline".to_owned(),
    }
}

#[async_trait]
impl Forge for OfflineForge {
    fn host(&self) -> &str {
        &self.host
    }

    fn clock(&self) -> Option<ForgeClock> {
        Some(self.clock)
    }

    async fn current_user(&self) -> Result<ForgeUser, ForgeError> {
        Ok(self.reader.clone())
    }

    async fn repositories(&self) -> Result<Vec<RepoId>, ForgeError> {
        Err(away())
    }

    async fn default_branch(&self, _: &RepoId) -> Result<String, ForgeError> {
        Err(away())
    }

    async fn open_change_requests(
        &self,
        _: &RepoId,
    ) -> Result<Vec<ChangeRequestSummary>, ForgeError> {
        Err(away())
    }

    async fn change_request(&self, _: &RepoId, _: u64) -> Result<ChangeRequest, ForgeError> {
        Err(away())
    }

    async fn changed_files(&self, _: &RepoId, _: u64) -> Result<Vec<ChangedFile>, ForgeError> {
        Err(away())
    }

    async fn unified_diff(&self, _: &RepoId, _: u64) -> Result<String, ForgeError> {
        Err(away())
    }

    async fn commit_statuses(&self, _: &RepoId, _: &str) -> Result<Vec<CommitStatus>, ForgeError> {
        Err(away())
    }

    async fn create_status(&self, _: &RepoId, _: &str, _: &CommitStatus) -> Result<(), ForgeError> {
        Err(away())
    }

    /// The records come from the kept ref; no comment is known offline.
    async fn comments(&self, _: &RepoId, _: u64) -> Result<Vec<Comment>, ForgeError> {
        Ok(Vec::new())
    }

    async fn create_comment(&self, _: &RepoId, _: u64, _: &str) -> Result<Comment, ForgeError> {
        Err(away())
    }

    async fn update_comment(&self, _: &RepoId, _: u64, _: &str) -> Result<Comment, ForgeError> {
        Err(away())
    }

    async fn reviews(&self, _: &RepoId, _: u64) -> Result<Vec<ForgeReview>, ForgeError> {
        Err(away())
    }

    async fn commits(&self, _: &RepoId, _: u64) -> Result<Vec<CommitInfo>, ForgeError> {
        Err(away())
    }

    async fn checks(&self, _: &RepoId, _: &str) -> Result<Vec<Check>, ForgeError> {
        Err(away())
    }

    async fn file_at(&self, _: &RepoId, _: &str, _: &str) -> Result<Option<Vec<u8>>, ForgeError> {
        Err(away())
    }

    async fn artifacts(&self, _: &RepoId, _: &str) -> Result<Vec<Artifact>, ForgeError> {
        Err(away())
    }

    async fn download_artifact(
        &self,
        _: &RepoId,
        _: &Artifact,
        _: &std::path::Path,
        _: u64,
    ) -> Result<u64, ForgeError> {
        Err(away())
    }

    async fn read_ref_file(
        &self,
        _: &RepoId,
        _: &str,
        _: &str,
    ) -> Result<Option<(String, Vec<u8>)>, ForgeError> {
        Err(away())
    }

    async fn refs_under(&self, _: &RepoId, _: &str) -> Result<Vec<(String, String)>, ForgeError> {
        Err(away())
    }

    /// The records there were when the snapshot was read, as one version.
    async fn read_ref_file_history(
        &self,
        _: &RepoId,
        _: &str,
        _: &str,
        _: usize,
    ) -> Result<Option<RefFileHistory>, ForgeError> {
        Ok(Some(RefFileHistory {
            tip: "kept".to_owned(),
            versions: vec![("kept".to_owned(), self.records.clone())],
        }))
    }

    async fn write_ref_file(
        &self,
        _: &RepoId,
        _: &str,
        _: &str,
        _: &[u8],
        _: &str,
    ) -> Result<String, ForgeError> {
        Err(away())
    }

    async fn propose_change(&self, _: &Proposal<'_>) -> Result<ChangeRequestSummary, ForgeError> {
        Err(away())
    }
}
