//! Enrol, preview and sign: the Part 11 ceremony as use cases.
//!
//! The sealed key and the public enrolment record live together in one OS
//! keychain entry per forge identity. Preview and sign build the record the
//! same way, so the digests shown are the digests signed.

use std::sync::{Arc, Mutex};

use chrono::{Local, SecondsFormat, Utc};
use countersign_forge::{Forge, ForgeUser};
use countersign_keychain::{KeychainError, OsKeychain, SecretStore};
use countersign_signing::dsse::Envelope;
use countersign_signing::enrolment::{acknowledgement_for, EnrolmentRecord, ACKNOWLEDGEMENT};
use countersign_signing::keys::SignerKey;
use countersign_signing::manifestation::manifestation;
use countersign_signing::reauth::{AuthEvent, Reauthenticator, VerifiedIdentity};
use countersign_signing::statement::{AuthMethod, ChangeRequestRef as SignedChange, ForgeIdentity};
use countersign_signing::vault::{seal, KdfParams, SealedKey};
use countersign_signing::{sign, ApprovalDraft, ApprovalRequest, SigningError};
use serde::{Deserialize, Serialize};

use crate::contract::{
    ChangeRequestRef, DigestEntry, EnrolRequest, Enrolment, Meaning, Person, SignRequest,
    SignatureDraft, SignaturePreview, SignedRecord, SignerStatus,
};
use crate::verification::sha256_hex;
use crate::{queue, ApiError};

const MIN_PASSWORD_CHARS: usize = 12;

impl From<SigningError> for ApiError {
    fn from(e: SigningError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

impl From<KeychainError> for ApiError {
    fn from(e: KeychainError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

impl From<Meaning> for countersign_signing::Meaning {
    fn from(m: Meaning) -> Self {
        match m {
            Meaning::Authorship => Self::Authorship,
            Meaning::Review => Self::Review,
            Meaning::Approval => Self::Approval,
            Meaning::Responsibility => Self::Responsibility,
            Meaning::Rejection => Self::Rejection,
        }
    }
}

/// One keychain entry: the sealed private key and the public record.
#[derive(Serialize, Deserialize)]
struct StoredSigner {
    sealed: SealedKey,
    enrolment: EnrolmentRecord,
}

/// Where the keychain comes from: the OS one (opened on first use, so a
/// missing keychain only matters to the flows that need it) or a given store.
pub enum KeychainSource {
    Os,
    Given(Arc<dyn SecretStore>),
}

pub struct Signatures {
    source: KeychainSource,
    opened: Mutex<Option<Arc<dyn SecretStore>>>,
    reauth: Mutex<Reauthenticator>,
    kdf: KdfParams,
}

fn account(identity: &ForgeIdentity) -> String {
    format!("signer/{}/{}", identity.host, identity.user_id)
}

fn person(u: &ForgeUser) -> Person {
    Person {
        id: u.id,
        login: u.login.clone(),
        name: u.name.clone(),
    }
}

impl Signatures {
    pub fn new(source: KeychainSource) -> Self {
        Self {
            source,
            opened: Mutex::new(None),
            reauth: Mutex::new(Reauthenticator::default()),
            kdf: KdfParams::default(),
        }
    }

    fn keychain(&self) -> Result<Arc<dyn SecretStore>, ApiError> {
        let mut opened = self.opened.lock().unwrap();
        if let Some(store) = opened.as_ref() {
            return Ok(store.clone());
        }
        let store: Arc<dyn SecretStore> = match &self.source {
            KeychainSource::Given(store) => store.clone(),
            KeychainSource::Os => Arc::new(OsKeychain::open()?),
        };
        *opened = Some(store.clone());
        Ok(store)
    }

    fn load(&self, identity: &ForgeIdentity) -> Result<Option<StoredSigner>, ApiError> {
        let Some(bytes) = self.keychain()?.get(&account(identity))? else {
            return Ok(None);
        };
        serde_json::from_slice(bytes.expose())
            .map(Some)
            .map_err(|e| {
                ApiError::new(
                    "signing.bad_key",
                    format!("the keychain entry for this signer is damaged: {e}"),
                )
            })
    }

    /// The signer is whoever the forge credential belongs to.
    async fn identity(forge: &dyn Forge) -> Result<(ForgeUser, ForgeIdentity), ApiError> {
        let user = forge.current_user().await?;
        let identity = ForgeIdentity {
            host: forge.host().to_owned(),
            user_id: user.id,
            login: user.login.clone(),
        };
        Ok((user, identity))
    }

    pub async fn status(&self, forge: &dyn Forge) -> Result<SignerStatus, ApiError> {
        let (user, identity) = Self::identity(forge).await?;
        let stored = self.load(&identity)?;
        let locked_until = self
            .reauth
            .lock()
            .unwrap()
            .locked_until(user.id, Utc::now())
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
        Ok(SignerStatus {
            identity: person(&user),
            enrolled: stored.is_some(),
            printed_name: stored.as_ref().map(|s| s.enrolment.printed_name.clone()),
            fingerprint: stored.as_ref().map(|s| s.enrolment.fingerprint.clone()),
            acknowledgement_template: ACKNOWLEDGEMENT.to_owned(),
            locked_until,
        })
    }

    pub async fn enrol(
        &self,
        forge: &dyn Forge,
        request: EnrolRequest,
    ) -> Result<Enrolment, ApiError> {
        let printed_name = request.printed_name.trim().to_owned();
        if printed_name.is_empty() || printed_name.chars().count() > 200 {
            return Err(ApiError::invalid_input(
                "the printed name is required (at most 200 characters)",
            ));
        }
        if !request.acknowledged {
            return Err(ApiError::new(
                "signing.acknowledgement_required",
                "enrolment needs your acknowledgement that the electronic signature is legally binding",
            ));
        }
        if request.password.expose().chars().count() < MIN_PASSWORD_CHARS {
            return Err(ApiError::invalid_input(format!(
                "the signing password needs at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let (_, identity) = Self::identity(forge).await?;
        if self.load(&identity)?.is_some() {
            return Err(ApiError::new(
                "signing.already_enrolled",
                "this forge identity already has a signing key on this device; revoke it before enrolling again",
            ));
        }
        let key = SignerKey::generate()?;
        let sealed = seal(&key, &request.password, self.kdf)?;
        let enrolment = EnrolmentRecord::new(&printed_name, identity.clone(), &key, Utc::now());
        let stored = StoredSigner {
            sealed,
            enrolment: enrolment.clone(),
        };
        let bytes =
            serde_json::to_vec(&stored).map_err(|e| ApiError::new("internal", e.to_string()))?;
        self.keychain()?.set(&account(&identity), &bytes)?;
        tracing::info!(user_id = identity.user_id, key_id = %enrolment.key_id, "signer enrolled");
        Ok(Enrolment {
            fingerprint: enrolment.fingerprint.clone(),
            key_id: enrolment.key_id.clone(),
            acknowledgement: acknowledgement_for(&printed_name),
            record_json: serde_json::to_string_pretty(&enrolment)
                .map_err(|e| ApiError::new("internal", e.to_string()))?,
        })
    }

    async fn request(
        &self,
        forge: &dyn Forge,
        draft: &SignatureDraft,
    ) -> Result<(ApprovalRequest, ForgeUser, StoredSigner), ApiError> {
        let (user, identity) = Self::identity(forge).await?;
        let stored = self.load(&identity)?.ok_or_else(|| {
            ApiError::new(
                "signing.not_enrolled",
                "enrol this device before signing (Settings → Signature)",
            )
        })?;
        let cr = queue::open(
            forge,
            ChangeRequestRef {
                repo: draft.change_request.repo.clone(),
                number: draft.change_request.number,
            },
        )
        .await?;
        let signed_at = Local::now().fixed_offset();
        let request = ApprovalRequest::validate(ApprovalDraft {
            printed_name: stored.enrolment.printed_name.clone(),
            forge: identity,
            role: draft.role.clone(),
            signer_key: stored.enrolment.public_key,
            meaning: draft.meaning.into(),
            allowed_meanings: None,
            reason: draft.reason.clone(),
            signed_at,
            forge_clock: None,
            change_request: SignedChange {
                forge: forge.host().to_owned(),
                repo: cr.item.repo.clone(),
                number: u64::from(cr.item.number),
                base_sha: cr.base_sha.clone(),
                head_sha: cr.item.head_sha.clone(),
            },
            diff_sha256: sha256_hex(cr.diff.as_bytes()),
            evidence: Vec::new(),
            policy_digest: None,
            risk_assessment_digest: None,
            authentication: AuthMethod::Password,
            audit_head: None,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        })?;
        Ok((request, user, stored))
    }

    pub async fn preview(
        &self,
        forge: &dyn Forge,
        draft: SignatureDraft,
    ) -> Result<SignaturePreview, ApiError> {
        let (request, _, stored) = self.request(forge, &draft).await?;
        let preview = request.preview();
        let statement = &preview.statement;
        let digest_of = |name: &str| {
            statement
                .subject
                .iter()
                .find(|s| s.name == name)
                .and_then(|s| s.digest.get("sha256"))
                .cloned()
        };
        Ok(SignaturePreview {
            signer: format!(
                "{} ({})",
                stored.enrolment.printed_name, stored.enrolment.fingerprint
            ),
            head_sha: statement.predicate.change_request.head_sha.clone(),
            diff_sha256: digest_of("diff").unwrap_or_default(),
            evidence: statement
                .subject
                .iter()
                .filter_map(|s| {
                    Some(DigestEntry {
                        name: s.name.strip_prefix("evidence/")?.to_owned(),
                        sha256: s.digest.get("sha256")?.clone(),
                    })
                })
                .collect(),
            record_digest: preview.digest_hex(),
            meaning_statement: statement.predicate.meaning.statement().to_owned(),
        })
    }

    /// Re-authenticate and sign. The forge identity was just fetched with the
    /// signer's own token, which is the first component; the password is the second.
    pub async fn sign(
        &self,
        forge: &dyn Forge,
        request: SignRequest,
    ) -> Result<(SignedRecord, Envelope), ApiError> {
        let (approval, user, stored) = self.request(forge, &request.draft).await?;
        let digest = approval.preview().digest;
        let verified = VerifiedIdentity {
            host: forge.host().to_owned(),
            user_id: user.id,
            login: user.login.clone(),
        };
        let (proof, events) = self.reauth.lock().unwrap().with_password(
            Utc::now(),
            Some(&verified),
            user.id,
            &stored.sealed,
            &request.password,
            digest,
        );
        for event in &events {
            log_auth_event(event);
        }
        let envelope = sign(&approval, proof?)?;
        let statement = approval.preview().statement;
        let record = SignedRecord {
            key_id: stored.enrolment.key_id.clone(),
            manifestation: manifestation(&statement.predicate),
            envelope_json: serde_json::to_string_pretty(&envelope)
                .map_err(|e| ApiError::new("internal", e.to_string()))?,
        };
        tracing::info!(user_id = user.id, repo = %statement.predicate.change_request.repo,
            number = statement.predicate.change_request.number, meaning = %statement.predicate.meaning, "record signed");
        Ok((record, envelope))
    }

    /// The OS was locked or suspended: every signer must re-enter all components.
    pub fn end_sessions(&self, why: &str) {
        for event in self.reauth.lock().unwrap().end_sessions(why) {
            log_auth_event(&event);
        }
    }
}

// Until the ledger lands these go to the structured log only.
fn log_auth_event(event: &AuthEvent) {
    match event {
        AuthEvent::Succeeded { .. } | AuthEvent::SessionEnded { .. } => {
            tracing::info!(?event, "authentication")
        }
        _ => tracing::warn!(?event, "authentication"),
    }
}
