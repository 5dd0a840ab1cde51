//! GitHub REST (github.com and GitHub Enterprise Server) behind the [`Forge`] trait.

mod client;
mod wire;

pub use crate::device_flow;

pub use crate::DiskCache;
pub use client::{GitHubConfig, GitHubForge};
