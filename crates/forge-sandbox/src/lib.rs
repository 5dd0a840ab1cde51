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

/// Which forge's REST shape a client speaks to the sandbox in: each is
/// served under its own root of the same origin, over the same state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgeShape {
    GitHub,
    Gitea,
    Forgejo,
    GitLab,
}

impl ForgeShape {
    /// The REST root's path, `/` for GitHub's.
    fn root(self) -> String {
        match self {
            ForgeShape::GitHub => "/".to_owned(),
            ForgeShape::Gitea => format!("{}/", Shape::Gitea.prefix()),
            ForgeShape::Forgejo => format!("{}/", Shape::Forgejo.prefix()),
            ForgeShape::GitLab => format!("{}/", gitlab::PREFIX),
        }
    }

    /// The shape a sandbox REST root answers in, told by its path (a root
    /// the sandbox does not serve is GitHub's, as it always was).
    pub fn of_path(path: &str) -> Self {
        let wanted = format!("{}/", path.trim_end_matches('/'));
        [ForgeShape::Gitea, ForgeShape::Forgejo, ForgeShape::GitLab]
            .into_iter()
            .find(|s| s.root() == wanted)
            .unwrap_or(ForgeShape::GitHub)
    }
}

impl std::str::FromStr for ForgeShape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "github" => Ok(ForgeShape::GitHub),
            "gitea" => Ok(ForgeShape::Gitea),
            "forgejo" => Ok(ForgeShape::Forgejo),
            "gitlab" => Ok(ForgeShape::GitLab),
            other => Err(format!(
                "a sandbox shape is github, gitea, forgejo or gitlab, not {other:?}"
            )),
        }
    }
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
        self.api_base_for(ForgeShape::GitHub)
    }

    /// The REST root of the same forge in `shape`.
    pub fn api_base_for(&self, shape: ForgeShape) -> String {
        format!("http://{}{}", self.addr, shape.root())
    }

    /// The REST root of the same forge in GitLab's shape (`/gitlab/api/v4/`).
    pub fn gitlab_api_base(&self) -> String {
        self.api_base_for(ForgeShape::GitLab)
    }

    /// The REST root of the same forge in Gitea's or Forgejo's shape.
    pub fn api_base_as(&self, shape: Shape) -> String {
        self.api_base_for(match shape {
            Shape::Gitea => ForgeShape::Gitea,
            Shape::Forgejo => ForgeShape::Forgejo,
        })
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

#[cfg(test)]
mod tests {
    use super::ForgeShape;

    #[test]
    fn each_shape_is_told_by_the_root_it_is_served_under() {
        for shape in [
            ForgeShape::GitHub,
            ForgeShape::Gitea,
            ForgeShape::Forgejo,
            ForgeShape::GitLab,
        ] {
            assert_eq!(ForgeShape::of_path(&shape.root()), shape);
            assert_eq!(
                ForgeShape::of_path(shape.root().trim_end_matches('/')),
                shape
            );
        }
        assert_eq!(
            ForgeShape::of_path("/elsewhere/api/v1/"),
            ForgeShape::GitHub
        );
        assert_eq!("gitlab".parse::<ForgeShape>(), Ok(ForgeShape::GitLab));
        assert!("bitbucket".parse::<ForgeShape>().is_err());
    }
}
