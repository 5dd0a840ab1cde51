//! The sandbox forge: what Countersign talks to when no forge account is set up,
//! and what the end-to-end tests run against. It answers the same paths, status
//! codes, headers (Link pagination, ETag) and JSON shapes as GitHub's REST API,
//! for the part of it that it implements.

// serde_json::json! of a GitHub pull request nests deeper than the default limit.
#![recursion_limit = "256"]

mod faults;
mod git;
mod gitea;
mod gitlab;
mod render;
mod routes;
mod seed;
mod store;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultRule};
pub use gitea::Shape;
pub use seed::{edit_policy, refresh_policy, sync_base_objects, zip_of, CI_WORKFLOW, POLICY_PATH};
pub use store::{
    object_id, Artifact, Comment, Commit, CommitStatus, FileChange, GitObject, GitStore,
    PullRequest, Repo, RosterKey, Served, Store, WorkflowRun, SANDBOX_TOKEN,
};

/// What the sandbox starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// The medical-device demo repository with its open pull requests.
    #[default]
    Demo,
    /// The same repository and users, but no pull requests.
    NoPullRequests,
    /// The demo repository with this many extra generated pull requests of
    /// `files` changed files each, for sync benchmarks.
    Bulk { pulls: u32, files: u32 },
}

/// A sandbox serving on a loopback port until dropped or [`RunningSandbox::stop`]ped.
pub struct RunningSandbox {
    addr: SocketAddr,
    store: Arc<RwLock<Store>>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    /// Bind 127.0.0.1:`port` (0 picks a free port) and serve in the background.
    pub async fn start(port: u16, seed: Seed) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let store = Arc::new(RwLock::new(Store::seeded(seed, addr)));
        let app = routes::router(store.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "sandbox forge stopped");
            }
        });
        tracing::info!(%addr, ?seed, "sandbox forge listening");
        Ok(Self { addr, store, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The REST root, as a GitHub client's `api_base`.
    pub fn api_base(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The REST root of the same forge in GitLab's shape (`/gitlab/api/v4/`).
    pub fn gitlab_api_base(&self) -> String {
        format!("http://{}{}/", self.addr, gitlab::PREFIX)
    }

    /// The REST root of the same forge in Gitea's or Forgejo's shape.
    pub fn api_base_as(&self, shape: Shape) -> String {
        format!("http://{}{}/", self.addr, shape.prefix())
    }

    pub fn store(&self) -> Arc<RwLock<Store>> {
        self.store.clone()
    }

    pub fn stop(self) {
        self.task.abort();
    }

    /// Serve until the task ends (the CLI's `countersign sandbox`).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}
