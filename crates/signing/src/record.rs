//! From a draft to a signed envelope. Preview and signing share one path: the
//! bytes shown as "what you are signing" are the bytes that get signed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, SecondsFormat};
use sha2::{Digest, Sha256};

use crate::dsse::{self, Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::PublicKey;
use crate::reauth::FreshAuth;
use crate::statement::{
    App, Approval, AuthMethod, ChangeRequestRef, Fido2Assertion, ForgeClock, ForgeIdentity,
    Meaning, Signer, Statement, Subject, APPROVAL_PREDICATE_TYPE, DIFF_SUBJECT, EVIDENCE_PREFIX,
    STATEMENT_TYPE,
};
use crate::SigningError;

pub const MAX_REASON_CHARS: usize = 1000;
const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    /// Path-like name, e.g. `junit/dosing.xml`.
    pub name: String,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Everything a signature binds, as gathered by the caller. Not signable until
/// [`ApprovalRequest::validate`] accepts it.
#[derive(Debug, Clone)]
pub struct ApprovalDraft {
    pub printed_name: String,
    pub forge: ForgeIdentity,
    pub role: String,
    pub signer_key: PublicKey,
    pub meaning: Meaning,
    /// For a withdrawal: the statement digest of the record it takes back.
    pub withdraws: Option<String>,
    /// The meanings the policy allows for this role; `None` = the whole controlled list.
    pub allowed_meanings: Option<Vec<Meaning>>,
    pub reason: String,
    pub signed_at: DateTime<FixedOffset>,
    pub forge_clock: Option<ForgeClock>,
    pub change_request: ChangeRequestRef,
    pub diff_sha256: String,
    pub evidence: Vec<EvidenceFile>,
    pub policy_digest: Option<String>,
    pub risk_assessment_digest: Option<String>,
    /// The risk class and the labels the rules read, when signed.
    pub risk_class: Option<String>,
    pub labels: Option<Vec<String>>,
    pub authentication: AuthMethod,
    pub audit_head: Option<String>,
    pub app_version: String,
    /// Signed without the forge, from a kept snapshot read at this forge time.
    pub offline: Option<crate::statement::OfflineSigning>,
}

/// A complete, checked approval request.
#[derive(Debug, Clone)]
pub struct ApprovalRequest {
    statement: Statement,
    signer_key: PublicKey,
}

/// Exactly what will be signed.
#[derive(Debug, Clone)]
pub struct Preview {
    pub statement: Statement,
    /// The serialized statement: the envelope's payload.
    pub payload: Vec<u8>,
    /// SHA-256 of `PAE(payloadType, payload)`: what the re-authentication is bound to.
    pub digest: [u8; 32],
}

impl Preview {
    pub fn digest_hex(&self) -> String {
        hex::encode(self.digest)
    }
}

fn invalid(message: impl Into<String>) -> SigningError {
    SigningError::Invalid(message.into())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_text(
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> Result<String, SigningError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid(format!("{field} is required")));
    }
    if trimmed.chars().count() > max {
        return Err(invalid(format!("{field} is longer than {max} characters")));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return Err(invalid(format!("{field} contains control characters")));
    }
    // What a person reads must be what is signed: no bidi overrides or
    // isolates, no zero-width or other invisible format characters (Cf).
    if let Some(c) = trimmed.chars().find(|c| is_format(*c)) {
        return Err(invalid(format!(
            "{field} contains the invisible or direction-changing character U+{:04X}",
            c as u32
        )));
    }
    Ok(trimmed.to_owned())
}

/// An invisible or direction-changing character (Unicode general category
/// Cf: bidi overrides and isolates, zero-width characters, soft hyphen…):
/// what a reader sees is not what the text holds.
pub fn is_format(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.general_category() == GeneralCategory::Format
}

fn check_digest_ref(field: &str, value: &Option<String>) -> Result<(), SigningError> {
    match value {
        Some(v) if !v.strip_prefix("sha256:").is_some_and(|h| is_hex(h, 64)) => {
            Err(invalid(format!("{field} must be sha256:<64 hex digits>")))
        }
        _ => Ok(()),
    }
}

impl ApprovalRequest {
    pub fn validate(draft: ApprovalDraft) -> Result<Self, SigningError> {
        let printed_name = check_text("printed name", &draft.printed_name, MAX_NAME_CHARS, false)?;
        let reason = check_text("reason", &draft.reason, MAX_REASON_CHARS, true)?;
        let role = check_text("role", &draft.role, MAX_NAME_CHARS, false)?;
        check_text("forge host", &draft.forge.host, MAX_NAME_CHARS, false)?;
        check_text("forge login", &draft.forge.login, MAX_NAME_CHARS, false)?;
        if draft.forge.user_id == 0 {
            return Err(invalid("the forge user id is required"));
        }
        if let Some(allowed) = &draft.allowed_meanings {
            if !allowed.contains(&draft.meaning) {
                return Err(invalid(format!(
                    "the meaning {} is not allowed for the role {role}",
                    draft.meaning
                )));
            }
        }
        let cr = &draft.change_request;
        for (field, sha) in [("head SHA", &cr.head_sha), ("base SHA", &cr.base_sha)] {
            if !(is_hex(sha, 40) || is_hex(sha, 64)) {
                return Err(invalid(format!(
                    "{field} must be a full lowercase git object id"
                )));
            }
        }
        check_text("repository", &cr.repo, MAX_NAME_CHARS, false)?;
        if !is_hex(&draft.diff_sha256, 64) {
            return Err(invalid("the diff digest must be 64 lowercase hex digits"));
        }
        let mut names = BTreeSet::new();
        for e in &draft.evidence {
            check_text("evidence name", &e.name, 255, false)?;
            if !is_hex(&e.sha256, 64) {
                return Err(invalid(format!(
                    "evidence {}: digest must be 64 lowercase hex digits",
                    e.name
                )));
            }
            if !names.insert(e.name.as_str()) {
                return Err(invalid(format!("evidence {} is listed twice", e.name)));
            }
        }
        check_digest_ref("policy digest", &draft.policy_digest)?;
        check_digest_ref("withdrawn record", &draft.withdraws)?;
        if let Some(o) = &draft.offline {
            DateTime::parse_from_rfc3339(&o.snapshot_forge_time)
                .map_err(|e| invalid(format!("the offline snapshot's forge time: {e}")))?;
        }
        if (draft.meaning == Meaning::Withdrawal) != draft.withdraws.is_some() {
            return Err(invalid(
                "a withdrawal names the record it withdraws, and only a withdrawal does",
            ));
        }
        check_digest_ref("risk assessment digest", &draft.risk_assessment_digest)?;

        let mut subject = vec![
            Subject {
                name: format!("git+{}/{}@{}", cr.forge, cr.repo, cr.head_sha),
                digest: BTreeMap::from([("gitCommit".to_owned(), cr.head_sha.clone())]),
            },
            Subject {
                name: DIFF_SUBJECT.to_owned(),
                digest: BTreeMap::from([("sha256".to_owned(), draft.diff_sha256.clone())]),
            },
        ];
        let mut evidence = draft.evidence.clone();
        evidence.sort_by(|a, b| a.name.cmp(&b.name));
        subject.extend(evidence.into_iter().map(|e| Subject {
            name: format!("{EVIDENCE_PREFIX}{}", e.name),
            digest: BTreeMap::from([("sha256".to_owned(), e.sha256)]),
        }));

        let statement = Statement {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject,
            predicate_type: APPROVAL_PREDICATE_TYPE.to_owned(),
            predicate: Approval {
                signer: Signer {
                    printed_name,
                    forge: draft.forge,
                    role,
                    key_id: draft.signer_key.key_id(),
                },
                meaning: draft.meaning,
                withdraws: draft.withdraws,
                reason,
                // Milliseconds: the policy orders signatures by this time, and two people
                // can sign within the same second.
                signed_at: draft
                    .signed_at
                    .to_rfc3339_opts(SecondsFormat::Millis, false),
                forge_clock: draft.forge_clock,
                change_request: draft.change_request,
                policy_digest: draft.policy_digest,
                risk_assessment_digest: draft.risk_assessment_digest,
                risk_class: draft.risk_class,
                labels: draft.labels,
                authentication: draft.authentication,
                audit_head: draft.audit_head,
                app: App {
                    name: "countersign".to_owned(),
                    version: draft.app_version,
                },
                offline: draft.offline,
            },
        };
        Ok(Self {
            statement,
            signer_key: draft.signer_key,
        })
    }

    pub fn signer_user_id(&self) -> u64 {
        self.statement.predicate.signer.forge.user_id
    }

    pub fn signer_key(&self) -> &PublicKey {
        &self.signer_key
    }

    /// The challenge a security-key assertion for this record must carry: the
    /// digest of the record with the assertion fields blank. `None` unless the
    /// request asks for a security key.
    pub fn fido2_challenge(&self) -> Option<[u8; 32]> {
        // The verifier's computation, so that signing and checking cannot drift.
        crate::verify::fido2_challenge(&self.statement)
    }

    /// Put the security key's assertion into the record. It must have been
    /// made for this record's challenge by the credential the request names.
    pub fn with_assertion(mut self, assertion: Fido2Assertion) -> Result<Self, SigningError> {
        match &self.statement.predicate.authentication {
            AuthMethod::Fido2 {
                assertion: expected,
            } if expected.credential_id == assertion.credential_id => {
                self.statement.predicate.authentication = AuthMethod::Fido2 { assertion };
                Ok(self)
            }
            _ => Err(SigningError::Fido2(
                "this record was not prepared for that security key".into(),
            )),
        }
    }

    /// The statement and the digest that signing will cover.
    pub fn preview(&self) -> Preview {
        let payload = serde_json::to_vec(&self.statement).expect("a statement always serializes");
        let digest = Sha256::digest(dsse::pae(IN_TOTO_PAYLOAD_TYPE, &payload)).into();
        Preview {
            statement: self.statement.clone(),
            payload,
            digest,
        }
    }
}

/// Sign `request`. `proof` must come from re-authenticating this signer for
/// this very preview; the private key travels inside it and is dropped here.
pub fn sign(request: &ApprovalRequest, proof: FreshAuth) -> Result<Envelope, SigningError> {
    if let AuthMethod::Fido2 { assertion } = &request.statement.predicate.authentication {
        if assertion.signature.is_empty() {
            return Err(SigningError::Fido2(
                "the security key has not confirmed this record yet".into(),
            ));
        }
    }
    let preview = request.preview();
    if !proof.covers(
        request.signer_user_id(),
        request.signer_key(),
        &preview.digest,
    ) {
        return Err(SigningError::ProofMismatch);
    }
    let mut envelope = Envelope::new(IN_TOTO_PAYLOAD_TYPE, &preview.payload);
    let pae = dsse::pae(IN_TOTO_PAYLOAD_TYPE, &preview.payload);
    let signature = proof.key().sign(&pae);
    envelope.signatures.push(dsse::Signature {
        keyid: request.signer_key().key_id(),
        sig: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, signature),
    });
    Ok(envelope)
}
