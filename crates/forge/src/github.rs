//! GitHub REST (github.com and GitHub Enterprise Server) behind the [`Forge`] trait.

mod client;
pub mod device_flow;
mod disk_cache;
mod wire;

pub use client::{GitHubConfig, GitHubForge};
pub use disk_cache::DiskCache;
