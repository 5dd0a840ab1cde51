use chrono::{DateTime, FixedOffset};
use countersign_signing::keys::PublicKey;
use countersign_signing::Meaning;
use globset::GlobSet;

/// A validated policy.
#[derive(Debug)]
pub struct Policy {
    pub roles: Vec<Role>,
    pub rules: Vec<Rule>,
    pub evidence: Evidence,
    pub session: SessionSettings,
    pub author_cannot_sign: bool,
    pub one_role_per_person: bool,
}

#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub members: Vec<Member>,
}

/// A person, by forge identity; the numeric user id is what counts.
#[derive(Debug)]
pub struct Member {
    pub forge: String,
    pub user_id: u64,
    pub login: String,
    pub printed_name: String,
    pub keys: Vec<Key>,
}

#[derive(Debug)]
pub struct Key {
    pub public_key: PublicKey,
    pub valid_from: Option<DateTime<FixedOffset>>,
    pub valid_until: Option<DateTime<FixedOffset>>,
    pub revoked_at: Option<DateTime<FixedOffset>>,
}

#[derive(Debug)]
pub struct Requirement {
    pub role: String,
    pub signatures: u32,
    pub meanings: Vec<Meaning>,
}

#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub(crate) paths: Option<GlobSet>,
    pub labels: Vec<String>,
    pub risk: Vec<String>,
    pub require: Vec<Requirement>,
    /// Roles in the order they must sign; empty: any order.
    pub order: Vec<String>,
    pub needs_risk_assessment: bool,
}

#[derive(Debug, Default)]
pub struct Evidence {
    pub checks: Vec<String>,
    pub junit_required: bool,
    pub min_coverage: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionSettings {
    pub idle_timeout_minutes: u32,
    pub max_failures: u32,
    pub lockout_minutes: u32,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 15,
            max_failures: 3,
            lockout_minutes: 15,
        }
    }
}

impl Rule {
    /// A rule applies when every criterion it states matches: any changed path
    /// matches its globs, it shares a label, and the risk class is listed.
    pub fn applies(&self, changed_paths: &[&str], labels: &[&str], risk: &str) -> bool {
        let paths_ok = self
            .paths
            .as_ref()
            .is_none_or(|g| changed_paths.iter().any(|p| g.is_match(p)));
        let labels_ok =
            self.labels.is_empty() || labels.iter().any(|l| self.labels.iter().any(|r| r == l));
        let risk_ok = self.risk.is_empty() || self.risk.iter().any(|r| r == risk);
        paths_ok && labels_ok && risk_ok
    }
}

impl Policy {
    pub fn rules_for(&self, changed_paths: &[&str], labels: &[&str], risk: &str) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|r| r.applies(changed_paths, labels, risk))
            .collect()
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }
}
