//! The approval policy, read from `.countersign/policy.toml` on the protected
//! base branch. This crate parses and validates it into a [`Policy`] whose
//! rules can be matched against a change; evaluation against records comes
//! with the gate (not built yet).
//!
//! A policy that does not parse or validate is a [`PolicyError`] with the line
//! and column of the problem: the change is then blocked by policy, never
//! approved.

mod model;
mod parse;

pub use model::{Evidence, Key, Member, Policy, Requirement, Role, Rule, SessionSettings};
pub use parse::{parse, PolicyError};
