//! GitHub REST (github.com and GitHub Enterprise Server) behind the [`Forge`] trait.

mod client;
pub mod device_flow;
mod wire;

pub use crate::DiskCache;
pub use client::{GitHubConfig, GitHubForge};
