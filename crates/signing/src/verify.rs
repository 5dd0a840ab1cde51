//! Verification anyone can run offline: strict ed25519 over the DSSE PAE,
//! trusted keys only, and every subject checked against what the verifier holds.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::PublicKey;
use crate::manifestation::manifestation;
use crate::record::EvidenceFile;
use crate::statement::{
    ForgeIdentity, Statement, APPROVAL_PREDICATE_TYPE, DIFF_SUBJECT, EVIDENCE_PREFIX,
    STATEMENT_TYPE,
};

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.countersign.bundle+json;version=1";

/// Several envelopes for one change request, as exported, stored in refs or
/// posted in the forge comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub envelopes: Vec<Envelope>,
}

impl Bundle {
    pub fn new(envelopes: Vec<Envelope>) -> Self {
        Self {
            media_type: BUNDLE_MEDIA_TYPE.to_owned(),
            envelopes,
        }
    }

    /// A bundle, or a single bare envelope.
    pub fn parse(text: &[u8]) -> Result<Self, String> {
        if let Ok(bundle) = serde_json::from_slice::<Bundle>(text) {
            if bundle.media_type != BUNDLE_MEDIA_TYPE {
                return Err(format!("unknown bundle media type {:?}", bundle.media_type));
            }
            return Ok(bundle);
        }
        serde_json::from_slice::<Envelope>(text)
            .map(|e| Self::new(vec![e]))
            .map_err(|e| format!("neither a Countersign bundle nor a DSSE envelope: {e}"))
    }
}

/// A signer's enrolled key as the roster holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustedKey {
    pub printed_name: String,
    pub forge: ForgeIdentity,
    pub public_key: PublicKey,
    /// RFC 3339; signatures before it are refused.
    #[serde(default)]
    pub valid_from: Option<String>,
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Signatures at or after revocation are invalid (11.300(c)).
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// The signer's registered FIDO2 security keys.
    #[serde(default)]
    pub security_keys: Vec<crate::fido2::SecurityKey>,
}

/// What the verifier holds and wants the records to match.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// The change request being judged: a record signed for any other one
    /// (forge, repository, number) is invalid; one signed against another
    /// base (branch or commit) is stale.
    pub change_request: Option<crate::statement::ChangeRequestRef>,
    pub commit: Option<String>,
    pub diff_sha256: Option<String>,
    /// When given, the evidence subjects must be exactly these.
    pub evidence: Option<Vec<EvidenceFile>>,
}

/// One precise reason a signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    NoSignature,
    PayloadNotBase64,
    WrongPayloadType(String),
    StatementMalformed(String),
    WrongStatementType(String),
    WrongPredicateType(String),
    UnknownKey(String),
    BadSignature(String),
    KeyIdMismatch {
        signed_with: String,
        statement_names: String,
    },
    SignerIsNotKeyOwner {
        key_owner: u64,
        statement_signer: u64,
    },
    KeyNotValid {
        key_id: String,
        signed_at: String,
        why: String,
    },
    SignedAtInvalid(String),
    /// The record's printed name is not the roster's name for the key's owner.
    PrintedNameDiffers {
        record: String,
        roster: String,
    },
    ReasonMissing,
    SubjectMissing(String),
    /// Signed for another change request: it cannot count for this one.
    WrongChangeRequest {
        signed_for: String,
        this_is: String,
    },
    /// Signed when the change targeted another base (retargeted since).
    BaseMismatch {
        signed: String,
        now: String,
    },
    CommitMismatch {
        expected: String,
        found: String,
    },
    HeadShaDisagrees {
        subject: String,
        change_request: String,
    },
    DiffMismatch {
        expected: String,
        found: String,
    },
    EvidenceMismatch {
        name: String,
        expected: String,
        found: String,
    },
    EvidenceMissing(String),
    EvidenceUnexpected(String),
    /// The record says a security key confirmed it, but the assertion does not hold.
    SecurityKey(String),
    /// The assertion was made by a security key the roster does not list for the signer.
    SecurityKeyUnknown(String),
    /// The key's signature counter went backwards: a cloned key or a replay.
    SecurityKeyCounter {
        earlier: u32,
        now: u32,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoSignature => write!(f, "the envelope carries no signature"),
            Self::PayloadNotBase64 => write!(f, "the payload is not canonical base64"),
            Self::WrongPayloadType(t) => write!(f, "payload type is {t:?}, expected {IN_TOTO_PAYLOAD_TYPE:?}"),
            Self::StatementMalformed(e) => write!(f, "the statement is malformed: {e}"),
            Self::WrongStatementType(t) => write!(f, "statement type is {t:?}, expected {STATEMENT_TYPE:?}"),
            Self::WrongPredicateType(t) => write!(f, "predicate type is {t:?}, expected {APPROVAL_PREDICATE_TYPE:?}"),
            Self::UnknownKey(k) => write!(f, "signed with key {k}, which is not among the trusted keys"),
            Self::BadSignature(k) => write!(f, "the signature by key {k} does not verify: the record was altered"),
            Self::KeyIdMismatch { signed_with, statement_names } => {
                write!(f, "signed with key {signed_with} but the statement names key {statement_names}")
            }
            Self::SignerIsNotKeyOwner { key_owner, statement_signer } => write!(
                f,
                "the key belongs to forge user {key_owner} but the statement names user {statement_signer}"
            ),
            Self::KeyNotValid { key_id, signed_at, why } => write!(f, "key {key_id} was not valid at {signed_at}: {why}"),
            Self::SignedAtInvalid(t) => write!(f, "the signing time {t:?} is not RFC 3339"),
            Self::PrintedNameDiffers { record, roster } => write!(f, "the record names its signer {record:?}; the roster names the key's owner {roster:?}"),
            Self::ReasonMissing => write!(f, "the signature has no reason"),
            Self::SubjectMissing(n) => write!(f, "the statement has no {n} subject"),
            Self::WrongChangeRequest { signed_for, this_is } => write!(f, "signed for {signed_for}, this is {this_is}"),
            Self::BaseMismatch { signed, now } => write!(f, "signed against the base {signed}, the change now targets {now}"),
            Self::CommitMismatch { expected, found } => write!(f, "signed commit {found}, expected {expected}"),
            Self::HeadShaDisagrees { subject, change_request } => {
                write!(f, "commit subject {subject} differs from the change request's head {change_request}")
            }
            Self::DiffMismatch { expected, found } => write!(f, "signed diff sha256 {found}, the diff supplied has {expected}"),
            Self::EvidenceMismatch { name, expected, found } => {
                write!(f, "evidence {name}: signed sha256 {found}, the file supplied has {expected}")
            }
            Self::EvidenceMissing(n) => write!(f, "evidence {n} was supplied but is not covered by the signature"),
            Self::EvidenceUnexpected(n) => write!(f, "the signature covers evidence {n}, which was not supplied"),
            Self::SecurityKey(why) => write!(f, "the security-key confirmation does not hold: {why}"),
            Self::SecurityKeyUnknown(id) => write!(f, "confirmed with security key {id}, which the roster does not list for this signer"),
            Self::SecurityKeyCounter { earlier, now } => write!(f, "the security key's counter went back from {earlier} to {now}: a cloned key or a replayed assertion"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SignatureReport {
    pub key_id: String,
    pub statement: Option<Statement>,
    pub manifestation: Option<String>,
    pub findings: Vec<Finding>,
    /// The security key's signature counter, when one confirmed the record.
    pub fido2_counter: Option<u32>,
}

/// The challenge a record's assertion must carry: the digest of the record
/// with the assertion fields blank (see [`crate::fido2`]).
pub fn fido2_challenge(statement: &Statement) -> Option<[u8; 32]> {
    let crate::statement::AuthMethod::Fido2 { assertion } = &statement.predicate.authentication
    else {
        return None;
    };
    let mut blank = statement.clone();
    blank.predicate.authentication = crate::statement::AuthMethod::Fido2 {
        assertion: crate::fido2::blank(assertion),
    };
    let payload = serde_json::to_vec(&blank).ok()?;
    Some(
        <sha2::Sha256 as sha2::Digest>::digest(crate::dsse::pae(IN_TOTO_PAYLOAD_TYPE, &payload))
            .into(),
    )
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub signatures: Vec<SignatureReport>,
}

impl Report {
    /// True only when there is at least one signature and nothing was found wrong.
    pub fn holds(&self) -> bool {
        !self.signatures.is_empty() && self.signatures.iter().all(|s| s.findings.is_empty())
    }
}

fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// When the record was signed by the forge's clock: the signer's `signed_at`
/// less the skew the app measured against the forge. Key validity and signing
/// order are judged on this time, so a signer's wrong clock moves nothing.
pub fn forge_anchored_time(p: &crate::statement::Approval) -> Option<DateTime<FixedOffset>> {
    let at = parse_time(&p.signed_at)?;
    let skew = p.forge_clock.as_ref().map_or(0, |c| c.skew_seconds);
    at.checked_sub_signed(chrono::Duration::try_seconds(skew)?)
}

fn key_validity(key: &TrustedKey, signed_at: &DateTime<FixedOffset>) -> Option<String> {
    let check = |bound: &Option<String>, name: &str| -> Option<Option<DateTime<FixedOffset>>> {
        match bound {
            None => Some(None),
            Some(s) => match parse_time(s) {
                Some(t) => Some(Some(t)),
                None => {
                    let _ = name;
                    None
                }
            },
        }
    };
    let (Some(from), Some(until), Some(revoked)) = (
        check(&key.valid_from, "valid_from"),
        check(&key.valid_until, "valid_until"),
        check(&key.revoked_at, "revoked_at"),
    ) else {
        return Some("the roster entry has an unparseable date".into());
    };
    if from.is_some_and(|t| signed_at < &t) {
        return Some(format!(
            "the key is valid only from {}",
            key.valid_from.as_deref().unwrap_or_default()
        ));
    }
    if until.is_some_and(|t| signed_at >= &t) {
        return Some(format!(
            "the key expired at {}",
            key.valid_until.as_deref().unwrap_or_default()
        ));
    }
    if revoked.is_some_and(|t| signed_at >= &t) {
        return Some(format!(
            "the key was revoked at {}",
            key.revoked_at.as_deref().unwrap_or_default()
        ));
    }
    None
}

/// Verify one envelope.
/// Whether `key` made one of the envelope's signatures: checked with strict
/// ed25519, not taken from the key id, which anyone can write.
pub fn is_signed_by(envelope: &Envelope, key: &PublicKey) -> bool {
    let Ok(pae) = envelope.pae() else {
        return false;
    };
    envelope.signatures.iter().any(|s| {
        s.keyid == key.key_id()
            && base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &s.sig)
                .is_ok_and(|sig: Vec<u8>| key.verify_strict(&pae, &sig))
    })
}

pub fn verify_envelope(
    envelope: &Envelope,
    keys: &[TrustedKey],
    expect: &Expectations,
) -> Vec<SignatureReport> {
    let mut shared = Vec::new();
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        shared.push(Finding::WrongPayloadType(envelope.payload_type.clone()));
    }
    let payload = envelope.payload_bytes();
    let statement = match &payload {
        Err(_) => {
            shared.push(Finding::PayloadNotBase64);
            None
        }
        Ok(bytes) => match serde_json::from_slice::<Statement>(bytes) {
            Ok(s) => Some(s),
            Err(e) => {
                shared.push(Finding::StatementMalformed(e.to_string()));
                None
            }
        },
    };
    if let Some(s) = &statement {
        shared.extend(check_statement(s, expect));
    }
    if envelope.signatures.is_empty() {
        let mut findings = shared;
        findings.push(Finding::NoSignature);
        return vec![SignatureReport {
            key_id: String::new(),
            manifestation: None,
            statement,
            findings,
            fido2_counter: None,
        }];
    }
    let pae = payload
        .as_ref()
        .ok()
        .map(|p| crate::dsse::pae(&envelope.payload_type, p));
    envelope
        .signatures
        .iter()
        .map(|sig| {
            let mut findings = shared.clone();
            let mut counter = None;
            let key = keys.iter().find(|k| k.public_key.key_id() == sig.keyid);
            match key {
                None => findings.push(Finding::UnknownKey(sig.keyid.clone())),
                Some(key) => {
                    let raw = base64::Engine::decode(
                        &base64::engine::general_purpose::STANDARD,
                        &sig.sig,
                    );
                    let good = match (&pae, raw) {
                        (Some(pae), Ok(raw)) => key.public_key.verify_strict(pae, &raw),
                        _ => false,
                    };
                    if !good {
                        findings.push(Finding::BadSignature(sig.keyid.clone()));
                    }
                    if let Some(s) = &statement {
                        let p = &s.predicate;
                        if p.signer.key_id != sig.keyid {
                            findings.push(Finding::KeyIdMismatch {
                                signed_with: sig.keyid.clone(),
                                statement_names: p.signer.key_id.clone(),
                            });
                        }
                        if key.forge.user_id != p.signer.forge.user_id
                            || key.forge.host != p.signer.forge.host
                        {
                            findings.push(Finding::SignerIsNotKeyOwner {
                                key_owner: key.forge.user_id,
                                statement_signer: p.signer.forge.user_id,
                            });
                        }
                        if key.printed_name != p.signer.printed_name {
                            findings.push(Finding::PrintedNameDiffers {
                                record: p.signer.printed_name.clone(),
                                roster: key.printed_name.clone(),
                            });
                        }
                        if let Some(at) = forge_anchored_time(p) {
                            if let Some(why) = key_validity(key, &at) {
                                findings.push(Finding::KeyNotValid {
                                    key_id: sig.keyid.clone(),
                                    signed_at: p.signed_at.clone(),
                                    why,
                                });
                            }
                        }
                        if let crate::statement::AuthMethod::Fido2 { assertion } = &p.authentication
                        {
                            let challenge = statement.as_ref().and_then(fido2_challenge);
                            match key
                                .security_keys
                                .iter()
                                .find(|k| k.credential_id == assertion.credential_id)
                            {
                                None => findings.push(Finding::SecurityKeyUnknown(
                                    assertion.credential_id.clone(),
                                )),
                                Some(sk) => match challenge
                                    .ok_or_else(|| "no challenge".to_owned())
                                    .and_then(|c| crate::fido2::check(assertion, sk, &c))
                                {
                                    Ok(n) => counter = Some(n),
                                    Err(why) => findings.push(Finding::SecurityKey(why)),
                                },
                            }
                        }
                    }
                }
            }
            SignatureReport {
                key_id: sig.keyid.clone(),
                manifestation: statement.as_ref().map(|s| manifestation(&s.predicate)),
                statement: statement.clone(),
                findings,
                fido2_counter: counter,
            }
        })
        .collect()
}

/// The record names the change request being judged, on its current base.
fn check_change_request(
    signed: &crate::statement::ChangeRequestRef,
    expected: &crate::statement::ChangeRequestRef,
) -> Option<Finding> {
    let same_change = signed.forge.eq_ignore_ascii_case(&expected.forge)
        && signed.repo.eq_ignore_ascii_case(&expected.repo)
        && signed.number == expected.number;
    if !same_change {
        return Some(Finding::WrongChangeRequest {
            signed_for: signed.name_beside(expected),
            this_is: expected.name_beside(signed),
        });
    }
    // Same name, another repository (deleted and created again): when both
    // sides know the id, it must agree.
    if let (Some(a), Some(b)) = (signed.repo_id, expected.repo_id) {
        if a != b {
            return Some(Finding::WrongChangeRequest {
                signed_for: format!("{} (repository id {a})", signed.name_beside(expected)),
                this_is: format!("{} (repository id {b})", expected.name_beside(signed)),
            });
        }
    }
    let base = |c: &crate::statement::ChangeRequestRef, with_ref: bool| match &c.base_ref {
        Some(r) if with_ref => format!("{r} at {}", c.base_sha),
        _ => c.base_sha.clone(),
    };
    // A record without a base branch (made before it was signed) is bound by
    // the base commit alone.
    let ref_differs =
        matches!((&signed.base_ref, &expected.base_ref), (Some(a), Some(b)) if a != b);
    if ref_differs || !signed.base_sha.eq_ignore_ascii_case(&expected.base_sha) {
        let with_ref = signed.base_ref.is_some() && expected.base_ref.is_some();
        return Some(Finding::BaseMismatch {
            signed: base(signed, with_ref),
            now: base(expected, with_ref),
        });
    }
    None
}

fn check_statement(s: &Statement, expect: &Expectations) -> Vec<Finding> {
    let mut findings = Vec::new();
    if s.statement_type != STATEMENT_TYPE {
        findings.push(Finding::WrongStatementType(s.statement_type.clone()));
    }
    if s.predicate_type != APPROVAL_PREDICATE_TYPE {
        findings.push(Finding::WrongPredicateType(s.predicate_type.clone()));
    }
    let p = &s.predicate;
    if parse_time(&p.signed_at).is_none() {
        findings.push(Finding::SignedAtInvalid(p.signed_at.clone()));
    }
    if p.reason.trim().is_empty() {
        findings.push(Finding::ReasonMissing);
    }
    if let Some(expected) = &expect.change_request {
        findings.extend(check_change_request(&p.change_request, expected));
    }
    let commit = s.subject.iter().find_map(|sub| sub.digest.get("gitCommit"));
    match commit {
        None => findings.push(Finding::SubjectMissing("commit".into())),
        Some(c) => {
            if c != &p.change_request.head_sha {
                findings.push(Finding::HeadShaDisagrees {
                    subject: c.clone(),
                    change_request: p.change_request.head_sha.clone(),
                });
            }
            if let Some(expected) = &expect.commit {
                if !expected.eq_ignore_ascii_case(c) {
                    findings.push(Finding::CommitMismatch {
                        expected: expected.clone(),
                        found: c.clone(),
                    });
                }
            }
        }
    }
    let diff = s
        .subject
        .iter()
        .find(|sub| sub.name == DIFF_SUBJECT)
        .and_then(|sub| sub.digest.get("sha256"));
    match (diff, &expect.diff_sha256) {
        (None, _) => findings.push(Finding::SubjectMissing("diff".into())),
        (Some(found), Some(expected)) if found != expected => {
            findings.push(Finding::DiffMismatch {
                expected: expected.clone(),
                found: found.clone(),
            })
        }
        _ => {}
    }
    if let Some(expected) = &expect.evidence {
        let signed: BTreeMap<&str, &String> = s
            .subject
            .iter()
            .filter_map(|sub| {
                Some((
                    sub.name.strip_prefix(EVIDENCE_PREFIX)?,
                    sub.digest.get("sha256")?,
                ))
            })
            .collect();
        let supplied: BTreeMap<&str, &String> = expected
            .iter()
            .map(|e| (e.name.as_str(), &e.sha256))
            .collect();
        for (name, digest) in &supplied {
            match signed.get(name) {
                None => findings.push(Finding::EvidenceMissing((*name).to_owned())),
                Some(found) if found != digest => findings.push(Finding::EvidenceMismatch {
                    name: (*name).to_owned(),
                    expected: (*digest).clone(),
                    found: (*found).clone(),
                }),
                _ => {}
            }
        }
        for name in signed.keys() {
            if !supplied.contains_key(name) {
                findings.push(Finding::EvidenceUnexpected((*name).to_owned()));
            }
        }
    }
    findings
}

/// Verify every envelope of a bundle.
pub fn verify_bundle(bundle: &Bundle, keys: &[TrustedKey], expect: &Expectations) -> Report {
    let mut signatures: Vec<SignatureReport> = bundle
        .envelopes
        .iter()
        .flat_map(|e| verify_envelope(e, keys, expect))
        .collect();
    flag_counters_going_back(&mut signatures);
    Report { signatures }
}

/// Per security key, in signing order, the counter must grow (authenticators
/// that keep no counter report 0 throughout, which says nothing).
pub fn flag_counters_going_back(signatures: &mut [SignatureReport]) {
    let mut uses: Vec<(String, String, u32, usize)> = signatures
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let counter = s.fido2_counter?;
            let p = &s.statement.as_ref()?.predicate;
            let crate::statement::AuthMethod::Fido2 { assertion } = &p.authentication else {
                return None;
            };
            Some((
                assertion.credential_id.clone(),
                p.signed_at.clone(),
                counter,
                i,
            ))
        })
        .collect();
    uses.sort_by(|a, b| (a.0.as_str(), parse_time(&a.1)).cmp(&(b.0.as_str(), parse_time(&b.1))));
    for pair in uses.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        if earlier.0 == later.0 && later.2 != 0 && later.2 <= earlier.2 {
            signatures[later.3]
                .findings
                .push(Finding::SecurityKeyCounter {
                    earlier: earlier.2,
                    now: later.2,
                });
        }
    }
}
