use std::collections::BTreeMap;
use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::{seed, Seed};

/// The bearer token the sandbox accepts as its signed-in user.
pub const SANDBOX_TOKEN: &str = "sandbox-token";

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub login: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: String,
    pub previous_path: Option<String>,
    /// `None`: the file is added by the change.
    pub old: Option<String>,
    /// `None`: the file is removed by the change.
    pub new: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Commit {
    pub sha: String,
    pub message: String,
    /// The author's login; one no user has leaves the commit unlinked
    /// (`author: null`, as GitHub answers for an e-mail it cannot match).
    pub author: String,
    pub date: DateTime<Utc>,
    /// The e-mail written in the commit; `None`: the login's no-reply address.
    pub author_email: Option<String>,
    /// Who committed it, when not the author (login, and e-mail as above).
    pub committer: Option<String>,
    pub committer_email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CommitStatus {
    pub id: u64,
    pub context: String,
    pub state: String,
    pub description: String,
    pub target_url: Option<String>,
    pub creator: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    /// The slug of the GitHub App that created it; `None`: no app.
    pub app: Option<String>,
    pub conclusion: String,
    pub started_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct PullRequest {
    pub number: u64,
    pub id: u64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub labels: Vec<String>,
    pub draft: bool,
    pub base_ref: String,
    pub base_sha: String,
    pub head_ref: String,
    pub head_sha: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub files: Vec<FileChange>,
    pub commits: Vec<Commit>,
    pub check_runs: Vec<CheckRun>,
    /// Forge reviews: (reviewer login, state such as `APPROVED`, body).
    pub reviews: Vec<(String, String, String)>,
}

#[derive(Debug, Clone)]
pub struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub description: String,
    pub default_branch: String,
    pub created_at: DateTime<Utc>,
    pub pulls: Vec<PullRequest>,
    /// Commit statuses by SHA, oldest first.
    pub statuses: Vec<(String, CommitStatus)>,
    /// Issue and pull-request comments, oldest first.
    pub comments: Vec<Comment>,
    /// The files of the default branch at the base commit every pull request starts from.
    pub base_files: BTreeMap<String, Vec<u8>>,
    /// The files at the tip of the base branch once it has moved past the
    /// pull requests' base commit (`None`: the tip is the base commit).
    pub tip_files: Option<BTreeMap<String, Vec<u8>>>,
    /// Objects and refs written through the Git Data API.
    pub git: GitStore,
    pub workflow_runs: Vec<WorkflowRun>,
    /// Signers whose enrolled keys the sandbox's policy lists (see `POST /_sandbox/roster`).
    pub roster_keys: Vec<RosterKey>,
}

#[derive(Debug, Clone)]
pub struct RosterKey {
    pub user_id: u64,
    pub public_key: String,
    pub valid_from: String,
    /// Registered security keys: credential id and base64url COSE-key JSON.
    pub security_keys: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub enum GitObject {
    Blob(Vec<u8>),
    /// (path, mode, type, sha)
    Tree(Vec<(String, String, String, String)>),
    Commit {
        tree: String,
        parents: Vec<String>,
        message: String,
        date: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct GitStore {
    pub objects: BTreeMap<String, GitObject>,
    /// Full ref name (`refs/...`) → commit id.
    pub refs: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    pub zip: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct WorkflowRun {
    pub id: u64,
    pub name: String,
    /// The workflow file, e.g. `.github/workflows/ci.yml`.
    pub path: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    pub head_sha: String,
    pub head_branch: String,
    pub conclusion: String,
    pub created_at: DateTime<Utc>,
    pub artifacts: Vec<Artifact>,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub issue: u64,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The sandbox's whole state. Public so tests can arrange and inspect it.
#[derive(Debug, Clone)]
pub struct Store {
    pub base_url: String,
    pub viewer: String,
    pub users: Vec<User>,
    pub repos: Vec<Repo>,
    /// Faults to inject, see [`crate::Fault`].
    pub faults: Vec<crate::FaultRule>,
    /// Added to every request, to measure clients as over a real network.
    pub latency: std::time::Duration,
    /// Added to the sandbox's clock in its `Date` header: a client whose
    /// clock is wrong sees this much skew (negative: the client is fast).
    pub clock_offset: chrono::Duration,
    /// GitHub's limits, shrunk for tests: a pull request with more files than
    /// this gets 406 for its unified diff; a file patch longer than
    /// `patch_limit_bytes` is left out of the files list.
    pub diff_limit_files: Option<usize>,
    /// Device-flow codes handed out: (device code, user code, approved).
    pub device_codes: Vec<(String, String, bool)>,
    pub patch_limit_bytes: Option<usize>,
    /// GitHub lists at most 3,000 files of a pull request (its
    /// `changed_files` keeps the true count); shrink it to test the cap.
    pub files_list_cap: usize,
    /// GitHub lists at most 250 commits of a pull request (its `commits`
    /// keeps the true count); shrink it to test the cap.
    pub commits_list_cap: usize,
    /// GitLab's "CI/CD configuration file" setting of the projects, as the
    /// GitLab shape reports it (`file@group/project` for another project's).
    pub gitlab_ci_config_path: String,
    /// Requests served so far, and how many of them were answered 304.
    pub requests: u64,
    pub not_modified: u64,
    /// Every request answered without a fault: method, path, status and
    /// the body's length in bytes, to count what a flow costs.
    pub served: Vec<Served>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub bytes: u64,
}

impl Store {
    pub fn seeded(seed: Seed, addr: SocketAddr) -> Self {
        let mut store = seed::demo(format!("http://{addr}"));
        match seed {
            Seed::NoPullRequests => {
                for repo in &mut store.repos {
                    repo.pulls.clear();
                }
            }
            Seed::Bulk { pulls, files } => seed::add_bulk(&mut store.repos[0], pulls, files),
            Seed::Demo => {}
        }
        store
    }

    /// The id the next commit status gets: unique across repositories and
    /// shapes, as the forge's own ids are.
    pub(crate) fn next_status_id(&self) -> u64 {
        80_000
            + self
                .repos
                .iter()
                .map(|r| r.statuses.len() as u64)
                .sum::<u64>()
            + 1
    }

    /// The id the next comment (note) gets, likewise.
    pub(crate) fn next_comment_id(&self) -> u64 {
        60_000
            + self
                .repos
                .iter()
                .map(|r| r.comments.len() as u64)
                .sum::<u64>()
            + 1
    }

    pub fn user(&self, login: &str) -> Option<&User> {
        self.users.iter().find(|u| u.login == login)
    }

    pub fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|r| r.owner == owner && r.name == name)
    }
}

impl Repo {
    pub fn pull(&self, number: u64) -> Option<&PullRequest> {
        self.pulls.iter().find(|p| p.number == number)
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// A file at a commit or branch: the base tree, with a pull request's
    /// changes on top when `git_ref` is its head.
    pub fn file_at(&self, path: &str, git_ref: &str) -> Option<Vec<u8>> {
        let base = self.pulls.first().map(|p| p.base_sha.as_str());
        if Some(git_ref) == base {
            return self.base_files.get(path).cloned();
        }
        // A branch name: the default branch, or any branch a pull request targets.
        if git_ref == self.default_branch || self.pulls.iter().any(|p| p.base_ref == git_ref) {
            let tip = self.tip_files.as_ref().unwrap_or(&self.base_files);
            return tip.get(path).cloned();
        }
        let pr = self
            .pulls
            .iter()
            .find(|p| p.head_sha == git_ref || p.head_ref == git_ref)?;
        match pr.files.iter().find(|f| f.path == path) {
            Some(change) => change.new.as_ref().map(|t| t.as_bytes().to_vec()),
            None => self.base_files.get(path).cloned(),
        }
    }
}

/// A git-looking object id, stable for the same input.
pub fn object_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..20])
}
