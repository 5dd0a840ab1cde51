use chrono::{DateTime, FixedOffset};
use countersign_signing::keys::PublicKey;
use countersign_signing::statement::ForgeIdentity;
use countersign_signing::verify::TrustedKey;
use countersign_signing::Meaning;
use globset::GlobSet;

use crate::risk::RiskClass;

/// A validated policy.
#[derive(Debug)]
pub struct Policy {
    /// The class of a change that no risk class rule matches.
    pub risk_default: RiskClass,
    pub risk_classes: Vec<RiskClassRule>,
    pub roles: Vec<Role>,
    pub rules: Vec<Rule>,
    pub evidence: Evidence,
    pub session: SessionSettings,
    pub author_cannot_sign: bool,
    pub one_role_per_person: bool,
    /// What a contributor nobody can name does to a change; `None`: block a
    /// high-risk change, allow the others.
    pub unknown_contributors: Option<UnknownContributors>,
    pub gate: GateSettings,
    /// Role memberships the base branch's tip no longer has (role, forge,
    /// user id): see [`Policy::restrict_to_tip`].
    pub removed_at_tip: Vec<(String, String, u64)>,
    /// The branch whose tip restricted this policy, when one did.
    pub tip_of: Option<String>,
    /// `[session] reset_by`: the role two of whose members must each sign a
    /// reset authorization before a member may enrol a new key for a
    /// forgotten password (11.300(c)); `None`: no resets.
    pub reset_by: Option<String>,
}

/// `[gate]`: what the gate holds records and changes to.
#[derive(Debug, Clone)]
pub struct GateSettings {
    /// How far a record's `signed_at` may be from the forge's clock.
    pub max_clock_skew: chrono::Duration,
    /// Base branches (globs) the gate accepts changes to; `None`: not set.
    pub protected_branches: Option<(Vec<String>, GlobSet)>,
    /// How long after its snapshot was read a record signed offline may
    /// reach the forge; `None`: records signed offline do not count.
    pub max_offline_age: Option<chrono::Duration>,
}

impl Default for GateSettings {
    fn default() -> Self {
        Self {
            max_clock_skew: chrono::Duration::minutes(5),
            protected_branches: None,
            max_offline_age: None,
        }
    }
}

/// What to do with a commit author, committer or co-author that the forge
/// links to no account and whose e-mail no roster member lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownContributors {
    /// The change is blocked: separation of duties cannot be judged.
    Block,
    /// The change may be approved; the contributor is still shown.
    Allow,
}

/// Raises a change to `class` when any changed path matches or it carries any label.
#[derive(Debug)]
pub struct RiskClassRule {
    pub class: RiskClass,
    pub(crate) paths: Option<GlobSet>,
    pub labels: Vec<String>,
}

#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub members: Vec<Member>,
    /// Members with a registered security key must sign this role with it.
    pub require_security_key: bool,
}

/// A person, by forge identity; the numeric user id is what counts.
#[derive(Debug)]
pub struct Member {
    pub forge: String,
    pub user_id: u64,
    pub login: String,
    pub printed_name: String,
    /// The member's commit e-mail addresses: an unlinked commit written
    /// under one of them counts as theirs.
    pub emails: Vec<String>,
    pub keys: Vec<Key>,
}

#[derive(Debug)]
pub struct Key {
    pub public_key: PublicKey,
    pub valid_from: Option<DateTime<FixedOffset>>,
    pub valid_until: Option<DateTime<FixedOffset>>,
    pub revoked_at: Option<DateTime<FixedOffset>>,
    /// FIDO2 security keys registered with this signing key.
    pub security_keys: Vec<countersign_signing::fido2::SecurityKey>,
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

#[derive(Debug)]
pub struct Evidence {
    pub checks: Vec<RequiredCheck>,
    pub junit_required: bool,
    pub min_coverage: Option<f64>,
    /// The workflow files whose runs' artifacts count as evidence; `None`:
    /// the policy names none, so no artifact counts.
    pub workflows: Option<Vec<String>>,
    /// The most CI artifacts of one change may weigh in all, in MiB.
    pub max_total_mib: u64,
}

/// `[evidence] max_total_mib` when the policy does not say.
pub const DEFAULT_EVIDENCE_MIB: u64 = 512;

impl Default for Evidence {
    fn default() -> Self {
        Self {
            checks: Vec::new(),
            junit_required: false,
            min_coverage: None,
            workflows: None,
            max_total_mib: DEFAULT_EVIDENCE_MIB,
        }
    }
}

/// A check that must be green, and who may report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredCheck {
    pub name: String,
    pub from: CheckFrom,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckFrom {
    /// The forge's own CI (a bare name, or `app = "github-actions"`), so one
    /// policy reads the same on GitHub, Gitea, Forgejo and GitLab.
    ForgeCi,
    /// A check run created by another app (its slug).
    App(String),
    /// A commit status with this context: only when the policy says so,
    /// since anyone with write access can set one.
    Status,
}

/// The app a policy names for the forge's own CI: GitHub's Actions, whose
/// place Gitea's and Forgejo's Actions and GitLab's pipelines take there.
pub const DEFAULT_CHECK_APP: &str = "github-actions";

impl std::fmt::Display for RequiredCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.from {
            CheckFrom::ForgeCi => write!(f, "check {}", self.name),
            CheckFrom::App(app) => write!(f, "check {} from {app}", self.name),
            CheckFrom::Status => write!(f, "status {}", self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionSettings {
    pub idle_timeout_minutes: u32,
    pub max_failures: u32,
    pub lockout_minutes: u32,
    /// Members with a registered security key must sign every role with it.
    pub require_security_key: bool,
    /// A signing password older than this many days must be changed before
    /// the next signature (11.300(b)); `None`: no ageing.
    pub password_max_age_days: Option<u32>,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 15,
            max_failures: 3,
            lockout_minutes: 15,
            require_security_key: false,
            password_max_age_days: None,
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
    /// The most severe class whose rule matches the change, else the default.
    pub fn risk_class(&self, changed_paths: &[&str], labels: &[&str]) -> RiskClass {
        self.risk_classes
            .iter()
            .filter(|c| {
                c.paths
                    .as_ref()
                    .is_some_and(|g| changed_paths.iter().any(|p| g.is_match(p)))
                    || labels.iter().any(|l| c.labels.iter().any(|r| r == l))
            })
            .map(|c| c.class)
            .max()
            .unwrap_or(self.risk_default)
    }

    /// Apply what the base branch's current tip took away since the base
    /// commit: keys revoked (or expiring) earlier there, and role
    /// memberships it no longer lists. Additions at the tip grant nothing:
    /// an open change is judged by the base, less what was withdrawn since.
    pub fn restrict_to_tip(&mut self, tip: &Policy, branch: &str) {
        let earlier =
            |a: Option<DateTime<FixedOffset>>, b: Option<DateTime<FixedOffset>>| match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        let tip_keys: Vec<(&Member, &Key)> = tip
            .roles
            .iter()
            .flat_map(|r| r.members.iter())
            .flat_map(|m| m.keys.iter().map(move |k| (m, k)))
            .collect();
        for role in &mut self.roles {
            let at_tip = tip.role(&role.name);
            for m in &role.members {
                let still = at_tip.is_some_and(|r| {
                    r.members
                        .iter()
                        .any(|t| t.user_id == m.user_id && t.forge == m.forge)
                });
                if !still {
                    self.removed_at_tip
                        .push((role.name.clone(), m.forge.clone(), m.user_id));
                }
            }
            for m in &mut role.members {
                for k in &mut m.keys {
                    for (owner, t) in &tip_keys {
                        if owner.user_id == m.user_id && t.public_key == k.public_key {
                            k.revoked_at = earlier(k.revoked_at, t.revoked_at);
                            k.valid_until = earlier(k.valid_until, t.valid_until);
                        }
                    }
                }
            }
        }
        self.tip_of = Some(branch.to_owned());
    }

    /// Whether `user_id` on `host` was a member of `role` at the base and
    /// the tip of the base branch no longer lists them there.
    pub fn was_removed_at_tip(&self, role: &str, host: &str, user_id: u64) -> bool {
        self.removed_at_tip
            .iter()
            .any(|(r, f, id)| r == role && f == host && *id == user_id)
    }

    /// Whether the gate accepts changes into `branch`: one that
    /// `[gate] protected_branches` names, else only the default branch.
    pub fn protects(&self, branch: &str, default_branch: &str) -> bool {
        match &self.gate.protected_branches {
            Some((_, globs)) => globs.is_match(branch),
            None => branch == default_branch,
        }
    }

    /// Whether a member who has a registered security key must sign `role` with it.
    pub fn requires_security_key(&self, role: &str) -> bool {
        self.session.require_security_key || self.role(role).is_some_and(|r| r.require_security_key)
    }

    /// Whether a contributor nobody can name blocks a change of `class`.
    pub fn blocks_unknown_contributors(&self, class: RiskClass) -> bool {
        match self.unknown_contributors {
            Some(UnknownContributors::Block) => true,
            Some(UnknownContributors::Allow) => false,
            None => class == RiskClass::High,
        }
    }

    /// The labels of `labels` that the policy reads (a risk class or a rule
    /// names them), sorted: what a signature binds.
    pub fn labels_read(&self, labels: &[&str]) -> Vec<String> {
        let mut read: Vec<String> = labels
            .iter()
            .filter(|l| {
                self.risk_classes
                    .iter()
                    .any(|c| c.labels.iter().any(|r| r == *l))
                    || self.rules.iter().any(|r| r.labels.iter().any(|x| x == *l))
            })
            .map(|l| (*l).to_owned())
            .collect();
        read.sort();
        read.dedup();
        read
    }

    /// Every enrolled key of every member, as the signature verifier wants them.
    pub fn trusted_keys(&self) -> Vec<TrustedKey> {
        let mut keys = Vec::new();
        for role in &self.roles {
            for m in &role.members {
                for k in &m.keys {
                    keys.push(TrustedKey {
                        printed_name: m.printed_name.clone(),
                        forge: ForgeIdentity {
                            host: m.forge.clone(),
                            user_id: m.user_id,
                            login: m.login.clone(),
                        },
                        public_key: k.public_key,
                        valid_from: k.valid_from.map(|t| t.to_rfc3339()),
                        valid_until: k.valid_until.map(|t| t.to_rfc3339()),
                        revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
                        security_keys: k.security_keys.clone(),
                    });
                }
            }
        }
        keys
    }

    /// Whether `user_id` on `host` is a member of `role` (at the base, and
    /// still at the tip when a tip restricted this policy).
    pub fn is_member(&self, role: &str, host: &str, user_id: u64) -> bool {
        !self.was_removed_at_tip(role, host, user_id)
            && self.role(role).is_some_and(|r| {
                r.members
                    .iter()
                    .any(|m| m.user_id == user_id && m.forge == host)
            })
    }

    /// The name people read for a role: its description when it has one.
    pub fn role_title<'a>(&'a self, role: &'a str) -> &'a str {
        self.role(role)
            .map(|r| r.description.as_str())
            .filter(|d| !d.is_empty())
            .unwrap_or(role)
    }

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
