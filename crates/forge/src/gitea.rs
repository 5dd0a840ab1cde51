//! Gitea and Forgejo REST (`/api/v1`) behind the [`Forge`](crate::Forge) trait.

mod client;
mod wire;

pub use client::{Flavor, GiteaConfig, GiteaForge};
