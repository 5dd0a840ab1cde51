//! GitHub REST (github.com and GitHub Enterprise Server) behind the [`Forge`] trait.

mod client;
mod wire;

pub use client::{GitHubConfig, GitHubForge};
