//! The approval policy, read from `.countersign/policy.toml` on the protected
//! base branch: roles, rules, risk classes, evidence requirements and session
//! settings ([`parse`]); the risk assessment a change carries ([`risk`]); and
//! the evaluation of a change's records against both ([`evaluate()`]).
//!
//! A policy that does not parse or validate is a [`PolicyError`] with the line
//! and column of the problem: the change is then blocked by policy, never
//! approved.

pub mod contributors;
pub mod evaluate;
mod model;
mod parse;
pub mod risk;
pub mod roster;

pub use contributors::{Contributor, Part};
pub use evaluate::{evaluate, Change, Evaluation, Verdict};
pub use model::{
    CheckFrom, Evidence, GateSettings, Key, Member, Policy, RequiredCheck, Requirement,
    RiskClassRule, Role, Rule, SessionSettings, UnknownContributors, DEFAULT_CHECK_APP,
    DEFAULT_EVIDENCE_MIB,
};
pub use parse::{parse, PolicyError};
