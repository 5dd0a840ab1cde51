//! Signed records of what happens to a signing key over its lifetime
//! (11.300(c)): a key revoked by an administrator (lost laptop, leaver), or
//! rotated by its holder to a new key. Each is a DSSE envelope around an
//! in-toto Statement whose subject is the policy file as it will read after
//! the change, so the record and the roster edit it justifies go together
//! into one reviewed pull request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dsse::{self, Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::PublicKey;
use crate::reauth::FreshAuth;
use crate::statement::{App, ForgeIdentity, Subject, STATEMENT_TYPE};
use crate::SigningError;

/// An identifier, not a URL anyone fetches.
pub const KEY_EVENT_PREDICATE_TYPE: &str = "https://countersign.dev/key-event/v1";
pub const POLICY_SUBJECT: &str = "policy";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyEventKind {
    /// The key signs nothing from `at` on.
    Revocation,
    /// The holder moves to `new_key`; the old key stops at `at`.
    Rotation,
    /// One administrator's authorization for the holder of `key`, who forgot
    /// the password that seals it, to enrol a new key (which revokes this
    /// one). The policy's `reset_by` role says whose, and two are needed.
    ResetAuthorization,
}

/// Who holds a key, as the roster names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyHolder {
    pub printed_name: String,
    pub forge: ForgeIdentity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    pub key_id: String,
    /// Base64 of the raw ed25519 public key.
    pub public_key: String,
    pub holder: KeyHolder,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEvent {
    pub kind: KeyEventKind,
    /// Who signs this record: the administrator who revokes, or the holder
    /// who rotates (with the old key, proving they held it).
    pub by: KeyHolder,
    pub by_key_id: String,
    /// The key revoked, or the old key of a rotation.
    pub key: KeyRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_key: Option<KeyRef>,
    pub reason: String,
    /// RFC 3339: from when the key signs nothing.
    pub at: String,
    /// `owner/name` whose policy roster changes.
    pub repo: String,
    /// `sha256:<hex>` of the policy before the change, when there was one.
    pub policy_before: Option<String>,
    pub app: App,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEventStatement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: KeyEvent,
}

/// A key event ready to be signed by `signer_key`, after re-authentication
/// bound to [`KeyEventRequest::digest`].
#[derive(Debug, Clone)]
pub struct KeyEventRequest {
    statement: KeyEventStatement,
    signer_key: PublicKey,
    payload: Vec<u8>,
    digest: [u8; 32],
}

/// Present, and without control characters other than line breaks where
/// `multiline` allows them.
fn required(field: &str, value: &str, multiline: bool) -> Result<(), SigningError> {
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')));
    if value.trim().is_empty() || bad {
        return Err(SigningError::Invalid(format!(
            "{field} is required, as plain text"
        )));
    }
    Ok(())
}

impl KeyEventRequest {
    /// `policy_after` is the policy file's text once the roster is edited.
    pub fn new(
        event: KeyEvent,
        signer_key: PublicKey,
        policy_after: &[u8],
    ) -> Result<Self, SigningError> {
        required("reason", &event.reason, true)?;
        if event.reason.chars().count() > crate::record::MAX_REASON_CHARS {
            return Err(SigningError::Invalid("the reason is too long".into()));
        }
        required("repository", &event.repo, false)?;
        chrono::DateTime::parse_from_rfc3339(&event.at)
            .map_err(|e| SigningError::Invalid(format!("the time {:?}: {e}", event.at)))?;
        if event.by_key_id != signer_key.key_id() {
            return Err(SigningError::Invalid(
                "the record names another key than the one signing it".into(),
            ));
        }
        if (event.kind == KeyEventKind::Rotation) != event.new_key.is_some() {
            return Err(SigningError::Invalid(
                "a rotation names the new key, and only a rotation does".into(),
            ));
        }
        let statement = KeyEventStatement {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject: vec![Subject {
                name: POLICY_SUBJECT.to_owned(),
                digest: BTreeMap::from([(
                    "sha256".to_owned(),
                    hex::encode(Sha256::digest(policy_after)),
                )]),
            }],
            predicate_type: KEY_EVENT_PREDICATE_TYPE.to_owned(),
            predicate: event,
        };
        let payload = serde_json::to_vec(&statement).expect("a statement always serializes");
        let digest = Sha256::digest(dsse::pae(IN_TOTO_PAYLOAD_TYPE, &payload)).into();
        Ok(Self {
            statement,
            signer_key,
            payload,
            digest,
        })
    }

    /// What the re-authentication must be bound to.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    pub fn statement(&self) -> &KeyEventStatement {
        &self.statement
    }

    /// Sign with the key `proof` unsealed for this very record.
    pub fn sign(&self, proof: FreshAuth) -> Result<Envelope, SigningError> {
        let by = self.statement.predicate.by.forge.user_id;
        if !proof.covers(by, &self.signer_key, &self.digest) {
            return Err(SigningError::ProofMismatch);
        }
        let mut envelope = Envelope::new(IN_TOTO_PAYLOAD_TYPE, &self.payload);
        let signature = proof
            .key()
            .sign(&dsse::pae(IN_TOTO_PAYLOAD_TYPE, &self.payload));
        envelope.signatures.push(dsse::Signature {
            keyid: self.signer_key.key_id(),
            sig: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, signature),
        });
        Ok(envelope)
    }
}

/// The key id `envelope`'s key event says signed it, to look the key up by;
/// nothing in it is trusted until [`verify`] accepts it.
pub fn claimed_signer(envelope: &Envelope) -> Option<String> {
    let payload = envelope.payload_bytes().ok()?;
    let statement: KeyEventStatement = serde_json::from_slice(&payload).ok()?;
    Some(statement.predicate.by_key_id)
}

/// The key event in `envelope`, when `signer` (the key it names as signing
/// it) signed it and, with `policy_after`, it covers that policy text.
pub fn verify(
    envelope: &Envelope,
    signer: &PublicKey,
    policy_after: Option<&[u8]>,
) -> Result<KeyEvent, String> {
    let payload = envelope
        .payload_bytes()
        .map_err(|e| format!("the payload is not base64: {e}"))?;
    let statement: KeyEventStatement =
        serde_json::from_slice(&payload).map_err(|e| format!("not a key event: {e}"))?;
    if statement.predicate_type != KEY_EVENT_PREDICATE_TYPE
        || statement.statement_type != STATEMENT_TYPE
    {
        return Err("not a key event statement".into());
    }
    if statement.predicate.by_key_id != signer.key_id() {
        return Err("signed by another key than the one it names".into());
    }
    let pae = dsse::pae(&envelope.payload_type, &payload);
    let signed = envelope.signatures.iter().any(|s| {
        s.keyid == signer.key_id()
            && base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &s.sig)
                .is_ok_and(|sig| signer.verify_strict(&pae, &sig))
    });
    if !signed || envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err("the signature does not verify".into());
    }
    if let Some(policy_after) = policy_after {
        let expected = hex::encode(Sha256::digest(policy_after));
        let covers = statement
            .subject
            .iter()
            .any(|s| s.name == POLICY_SUBJECT && s.digest.get("sha256") == Some(&expected));
        if !covers {
            return Err("it does not cover this policy text".into());
        }
    }
    Ok(statement.predicate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SignerKey;

    fn holder(user_id: u64, name: &str) -> KeyHolder {
        KeyHolder {
            printed_name: name.into(),
            forge: ForgeIdentity {
                host: "github.com".into(),
                user_id,
                login: name.to_lowercase().replace(' ', "-"),
            },
        }
    }

    #[test]
    fn a_revocation_verifies_only_for_its_signer_and_its_policy_text() {
        let admin = SignerKey::from_test_seed([7; 32]);
        let lost = SignerKey::from_test_seed([8; 32]);
        let event = KeyEvent {
            kind: KeyEventKind::Revocation,
            by: holder(5004, "Dan Ito"),
            by_key_id: admin.public().key_id(),
            key: KeyRef {
                key_id: lost.public().key_id(),
                public_key: lost.public().to_base64(),
                holder: holder(5002, "Bob Okafor"),
            },
            new_key: None,
            reason: "Laptop stolen at the airport".into(),
            at: "2026-11-30T10:00:00+00:00".into(),
            repo: "acme/pump".into(),
            policy_before: None,
            app: App {
                name: "countersign".into(),
                version: "test".into(),
            },
        };
        let admin_key_id = admin.public().key_id();
        let request = KeyEventRequest::new(event.clone(), admin.public(), b"policy v2").unwrap();
        let proof = crate::reauth::FreshAuth::for_test(5004, request.digest(), admin);
        let envelope = request.sign(proof).unwrap();
        let read = verify(
            &envelope,
            &SignerKey::from_test_seed([7; 32]).public(),
            Some(b"policy v2"),
        );
        assert_eq!(read.as_ref().map(|e| &e.reason), Ok(&event.reason));
        assert!(verify(&envelope, &lost.public(), Some(b"policy v2")).is_err());
        assert_eq!(claimed_signer(&envelope), Some(admin_key_id.clone()));
        assert!(verify(
            &envelope,
            &SignerKey::from_test_seed([7; 32]).public(),
            Some(b"policy v3")
        )
        .is_err_and(|e| e.contains("does not cover")));
        // A record naming another signing key than the one that signs is refused.
        let wrong = KeyEvent {
            by_key_id: lost.public().key_id(),
            ..event
        };
        assert!(
            KeyEventRequest::new(wrong, SignerKey::from_test_seed([7; 32]).public(), b"p").is_err()
        );
    }
}
