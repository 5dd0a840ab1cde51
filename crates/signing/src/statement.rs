//! The in-toto Statement v1 that an approval envelope carries, and our
//! predicate for a human approval (in-toto has no vetted one; ours follows the
//! human-review proposals and adds what Part 11 asks for).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// An identifier, not a URL anyone fetches.
pub const APPROVAL_PREDICATE_TYPE: &str = "https://countersign.dev/human-approval/v1";

/// The subject names used for the diff and each evidence file.
pub const DIFF_SUBJECT: &str = "diff";
pub const EVIDENCE_PREFIX: &str = "evidence/";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub name: String,
    /// `gitCommit` for the commit, `sha256` for files.
    pub digest: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Approval,
}

impl Statement {
    /// The approval statement an envelope carries, if it carries one.
    pub fn of(envelope: &crate::dsse::Envelope) -> Option<Self> {
        serde_json::from_slice(&envelope.payload_bytes().ok()?).ok()
    }
}

/// The controlled list of signature meanings (11.50(a)(3)). A policy may narrow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Meaning {
    Authorship,
    Review,
    Approval,
    Responsibility,
    Rejection,
    /// Takes back the signer's own earlier record, named by `withdraws`.
    Withdrawal,
}

impl Meaning {
    pub const ALL: [Meaning; 6] = [
        Self::Authorship,
        Self::Review,
        Self::Approval,
        Self::Responsibility,
        Self::Rejection,
        Self::Withdrawal,
    ];

    /// The words a person reads in every manifestation.
    pub fn statement(self) -> &'static str {
        match self {
            Self::Authorship => "I am the author of this change",
            Self::Review => "I have reviewed this change",
            Self::Approval => "I approve this change",
            Self::Responsibility => "I take responsibility for this change",
            Self::Rejection => "I reject this change",
            Self::Withdrawal => "I withdraw my earlier signature of this change",
        }
    }
}

impl fmt::Display for Meaning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Authorship => "authorship",
            Self::Review => "review",
            Self::Approval => "approval",
            Self::Responsibility => "responsibility",
            Self::Rejection => "rejection",
            Self::Withdrawal => "withdrawal",
        };
        f.write_str(s)
    }
}

impl std::str::FromStr for Meaning {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.to_string() == s)
            .ok_or_else(|| format!("unknown meaning {s:?}: one of authorship, review, approval, responsibility, rejection, withdrawal"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgeIdentity {
    /// e.g. `github.com`.
    pub host: String,
    /// The forge's numeric user id: what identifies the person (11.100).
    pub user_id: u64,
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    pub printed_name: String,
    pub forge: ForgeIdentity,
    pub role: String,
    /// DSSE key id of the key that signs this statement.
    pub key_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequestRef {
    pub forge: String,
    /// The forge's numeric id of the repository: a repository deleted and
    /// created again under the same name is another one. Records made before
    /// it was signed lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_id: Option<u64>,
    pub repo: String,
    pub number: u64,
    /// The branch the change targets. Records made before it was signed
    /// lack it; they are bound to the base by `base_sha` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ref: Option<String>,
    pub base_sha: String,
    pub head_sha: String,
}

impl ChangeRequestRef {
    /// `owner/name#n`, with the forge when `other` is on another forge.
    pub fn name_beside(&self, other: &ChangeRequestRef) -> String {
        if self.forge.eq_ignore_ascii_case(&other.forge) {
            format!("{}#{}", self.repo, self.number)
        } else {
            format!("{}/{}#{}", self.forge, self.repo, self.number)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgeClock {
    /// The forge's `Date` at the last sync, RFC 3339.
    pub server_time: String,
    /// Local clock minus forge clock, in seconds, measured at that sync.
    pub skew_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthMethod {
    /// The signing password unsealed the key.
    Password,
    /// A FIDO2 security key with user verification, plus the password-sealed key.
    Fido2 { assertion: Fido2Assertion },
}

/// A WebAuthn assertion, kept whole so an auditor can check it offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fido2Assertion {
    pub credential_id: String,
    pub authenticator_data: String,
    pub client_data_json: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub signer: Signer,
    pub meaning: Meaning,
    /// For a withdrawal, and only then: `sha256:<hex>` of the statement
    /// (the envelope's payload bytes) of the signer's earlier record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraws: Option<String>,
    pub reason: String,
    /// RFC 3339 in the signer's local offset, e.g. `2026-11-26T13:05:09+01:00`.
    pub signed_at: String,
    pub forge_clock: Option<ForgeClock>,
    pub change_request: ChangeRequestRef,
    /// `sha256:<hex>` of the policy file at the base SHA, when one applied.
    pub policy_digest: Option<String>,
    /// `sha256:<hex>` of the risk assessment shown to the signer.
    pub risk_assessment_digest: Option<String>,
    /// The risk class the policy gave the change when it was signed: the
    /// gate never applies lower requirements to the change afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_class: Option<String>,
    /// The change's labels that the policy reads (risk classes, rules), as
    /// they were when signed; another set later makes the signature stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    pub authentication: AuthMethod,
    /// Head of the signer's local audit trail when signing: a witness on the forge.
    pub audit_head: Option<String>,
    pub app: App,
    /// Set when signed without the forge, from the change as kept for
    /// offline reading: the gate then bounds `signed_at` by that snapshot's
    /// forge time and by when the record reached the forge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<OfflineSigning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineSigning {
    /// The forge's time (RFC 3339) when the snapshot signed from was read.
    pub snapshot_forge_time: String,
}
