//! GitLab REST v4 (GitLab.com and self-managed) behind the [`Forge`](crate::Forge) trait.

mod client;
mod wire;

pub use client::{GitLabConfig, GitLabForge, GITLAB_CI};
