//! Enrol, preview and sign: the Part 11 ceremony as use cases.
//!
//! The sealed key and the public enrolment record live together in one OS
//! keychain entry per forge identity. Preview and sign build the record the
//! same way, so the digests shown are the digests signed.

use std::sync::{Arc, Mutex};

use chrono::{Local, SecondsFormat, Utc};
use countersign_forge::{Forge, ForgeUser};
use countersign_keychain::KeychainError;
use countersign_ledger::{AuditEvent, Checkpoint, EventKind, LedgerError};

/// A checkpoint whose signature is the signed record with this id: the record's
/// `audit_head` names the checkpoint's size and head.
pub const RECORD_CHECKPOINT: &str = "dsse-record:";
use countersign_secret::Secret;
use countersign_signing::enrolment::{acknowledgement_for, EnrolmentRecord, ACKNOWLEDGEMENT};
use countersign_signing::keys::SignerKey;
use countersign_signing::manifestation::manifestation;
use countersign_signing::reauth::{AuthEvent, ReauthPolicy, Reauthenticator, VerifiedIdentity};
use countersign_signing::statement::{AuthMethod, ChangeRequestRef as SignedChange, ForgeIdentity};
use countersign_signing::vault::{seal, KdfParams, SealedKey};
use countersign_signing::{sign, ApprovalDraft, ApprovalRequest, SigningError};
use serde::{Deserialize, Serialize};

use crate::contract::{
    DigestEntry, EnrolRequest, Enrolment, Meaning, PasswordChange, Person, SignRequest,
    SignatureDraft, SignaturePreview, SignedRecord, SignerStatus,
};
use crate::digest::sha256_hex;
pub use crate::stores::KeychainSource;
use crate::stores::Stores;
use crate::ApiError;
use crate::ErrorCode;

const MIN_PASSWORD_CHARS: usize = 12;

impl From<SigningError> for ApiError {
    fn from(e: SigningError) -> Self {
        ApiError::new(ErrorCode::of(e.code()), e.to_string())
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        ApiError::new(ErrorCode::of(e.code()), e.to_string())
    }
}

impl From<KeychainError> for ApiError {
    fn from(e: KeychainError) -> Self {
        ApiError::new(ErrorCode::of(e.code()), e.to_string())
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
            Meaning::Withdrawal => Self::Withdrawal,
        }
    }
}

/// One keychain entry: the sealed private key and the public record.
#[derive(Serialize, Deserialize)]
struct StoredSigner {
    sealed: SealedKey,
    enrolment: EnrolmentRecord,
    /// Failed attempts and the lockout, kept with the key they guard: the
    /// trail is a local file, and deleting it, or starting over in another
    /// data directory, must not give more guesses.
    #[serde(default)]
    attempts: Attempts,
    /// When the password that seals the key was set (enrolment or the last
    /// change); entries from before this was kept count from enrolment.
    #[serde(default)]
    password_set_at: Option<chrono::DateTime<Utc>>,
}

impl StoredSigner {
    fn password_set_at(&self) -> Option<chrono::DateTime<Utc>> {
        self.password_set_at.or_else(|| {
            chrono::DateTime::parse_from_rfc3339(&self.enrolment.valid_from)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Attempts {
    failures: Vec<chrono::DateTime<Utc>>,
    locked_until: Option<chrono::DateTime<Utc>>,
}

pub struct Signatures {
    stores: Arc<Stores>,
    /// Previews that may be signed, by id.
    previews: Mutex<std::collections::HashMap<String, Prepared>>,
    reauth: Mutex<Reauthenticator>,
    // Users whose failures were already restored from the trail.
    restored: Mutex<std::collections::HashSet<u64>>,
    kdf: KdfParams,
    device: Mutex<Option<Arc<dyn crate::security_key::SecurityKeyDevice>>>,
}

/// The forge account the signer's own token just answered for: the first
/// component of re-authentication.
fn verified(forge: &dyn Forge, user: &ForgeUser) -> VerifiedIdentity {
    VerifiedIdentity {
        host: forge.host().to_owned(),
        user_id: user.id,
        login: user.login.clone(),
    }
}

/// A withdrawal takes back one record of the signer's own, current or not,
/// that is not already withdrawn, in the role it was signed in.
fn may_withdraw(
    current: &countersign_policy::Evaluation,
    target: Option<&str>,
    me: u64,
    role: &str,
) -> Result<(), ApiError> {
    use countersign_policy::evaluate::Standing;
    let refused = |why: String| Err(ApiError::new(ErrorCode::SigningRefusedByPolicy, why));
    let Some(target) = target else {
        return refused("a withdrawal names the record it takes back".to_owned());
    };
    let Some(s) = current
        .signatures
        .iter()
        .find(|s| s.record.as_deref() == Some(target))
    else {
        return refused(format!(
            "there is no record {target} of this change to withdraw"
        ));
    };
    if s.user_id != Some(me) {
        return refused(format!(
            "that record is not yours: {} signed it, and only its signer can withdraw it",
            s.printed_name
        ));
    }
    if s.meaning == Some(countersign_signing::Meaning::Withdrawal) {
        return refused("a withdrawal cannot itself be withdrawn".to_owned());
    }
    if matches!(s.standing, Standing::Withdrawn(_)) {
        return refused("that record is already withdrawn".to_owned());
    }
    if s.role != role {
        return refused(format!(
            "that record was signed as {}: withdraw it in that role",
            s.role
        ));
    }
    Ok(())
}

/// A rotated-to key not yet kept on this device.
pub(crate) struct PendingKey {
    identity: ForgeIdentity,
    stored: StoredSigner,
}

impl PendingKey {
    pub(crate) fn enrolment(&self) -> &EnrolmentRecord {
        &self.stored.enrolment
    }
}

fn actor(identity: &ForgeIdentity) -> String {
    format!("{}/{}/{}", identity.host, identity.user_id, identity.login)
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
    pub fn new(stores: Arc<Stores>) -> Self {
        Self {
            stores,
            previews: Mutex::new(std::collections::HashMap::new()),
            reauth: Mutex::new(Reauthenticator::default()),
            restored: Mutex::new(std::collections::HashSet::new()),
            kdf: KdfParams::default(),
            device: Mutex::new(None),
        }
    }

    /// End every continuous signing session (lock, suspend), with audit entries.
    pub fn end_sessions(&self, why: &str) -> Result<(), ApiError> {
        let events = self.reauth.lock().unwrap().end_sessions(why);
        for event in events {
            log_auth_event(&event);
            if let AuthEvent::SessionEnded { user_id, why } = &event {
                self.audit(
                    AuditEvent::now(
                        EventKind::SessionEnded,
                        format!("user/{user_id}"),
                        "signing session",
                    )
                    .detail(why.clone()),
                )?;
            }
        }
        Ok(())
    }

    /// The security-key reader this device has (USB in the app, software in tests).
    pub fn set_security_key_device(&self, device: Arc<dyn crate::security_key::SecurityKeyDevice>) {
        *self.device.lock().unwrap() = Some(device);
    }

    fn device(&self) -> Result<Arc<dyn crate::security_key::SecurityKeyDevice>, ApiError> {
        self.device.lock().unwrap().clone().ok_or_else(|| {
            ApiError::new(
                ErrorCode::SigningNoSecurityKeyReader,
                "this build of Countersign cannot reach a security key",
            )
        })
    }

    fn save(&self, identity: &ForgeIdentity, stored: &StoredSigner) -> Result<(), ApiError> {
        let bytes = serde_json::to_vec(stored)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        self.stores.keychain()?.set(&account(identity), &bytes)?;
        Ok(())
    }

    /// Register a FIDO2 security key for the enrolled signer: a second factor
    /// that then confirms each record it is used for.
    pub async fn register_security_key(
        &self,
        forge: &dyn Forge,
        pin: Option<Secret<String>>,
    ) -> Result<EnrolmentRecord, ApiError> {
        let (_, identity) = Self::identity(forge).await?;
        let mut stored = self.load(&identity)?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::SigningNotEnrolled,
                "enrol before adding a security key",
            )
        })?;
        let (options, state) = countersign_signing::fido2::start_registration(
            identity.user_id,
            &identity.login,
            &stored.enrolment.printed_name,
        )?;
        let device = self.device()?;
        let response = tokio::task::spawn_blocking(move || device.register(options, pin.as_ref()))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))??;
        let key = countersign_signing::fido2::finish_registration(&response, &state)?;
        let credential = key.credential_id.clone();
        stored.enrolment.security_keys.push(key);
        self.save(&identity, &stored)?;
        self.audit(
            AuditEvent::now(
                EventKind::Enrolment,
                actor(&identity),
                format!("security-key:{credential}"),
            )
            .change(None, Some(credential))
            .detail("FIDO2 security key registered (user verification required)"),
        )?;
        Ok(stored.enrolment)
    }

    fn audit(&self, event: AuditEvent) -> Result<u64, ApiError> {
        self.stores.record(event)
    }

    /// Bring back failures and lockouts of the last window from the trail.
    fn restore_attempts(&self, identity: &ForgeIdentity) -> Result<(), ApiError> {
        if !self.restored.lock().unwrap().insert(identity.user_id) {
            return Ok(());
        }
        let who = actor(identity);
        let events = self.stores.with_ledger(|l| Ok(l.events(500)?))?;
        let since = Utc::now() - chrono::Duration::minutes(15);
        let mut failures = Vec::new();
        let mut locked_until = None;
        // Newest first: stop at the last success, which cleared the count.
        for (_, e) in events.iter().filter(|(_, e)| e.actor == who) {
            let at = chrono::DateTime::parse_from_rfc3339(&e.at_utc)
                .map(|t| t.with_timezone(&Utc))
                .ok();
            match e.kind {
                EventKind::AuthSucceeded => break,
                EventKind::AuthFailed => {
                    if let Some(at) = at.filter(|t| *t > since) {
                        failures.push(at);
                    }
                }
                EventKind::Lockout if locked_until.is_none() => {
                    locked_until = e
                        .new_value
                        .as_deref()
                        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                        .map(|t| t.with_timezone(&Utc));
                }
                _ => {}
            }
        }
        // The keychain's count holds even when the trail was deleted or
        // this is another data directory; the trail's, when the keychain
        // entry was written by an older build. The larger of each wins.
        if let Some(kept) = self.load(identity)?.map(|s| s.attempts) {
            failures.extend(kept.failures.into_iter().filter(|t| *t > since));
            locked_until = locked_until.max(kept.locked_until);
        }
        failures.sort();
        failures.dedup();
        self.reauth
            .lock()
            .unwrap()
            .restore(identity.user_id, failures, locked_until);
        Ok(())
    }

    /// Keep the count of failures and the lockout beside the sealed key.
    fn keep_attempts(&self, identity: &ForgeIdentity) -> Result<(), ApiError> {
        let Some(mut stored) = self.load(identity)? else {
            return Ok(());
        };
        let (failures, locked_until) = self.reauth.lock().unwrap().attempts(identity.user_id);
        let now = Attempts {
            failures,
            locked_until,
        };
        if stored.attempts != now {
            stored.attempts = now;
            self.save(identity, &stored)?;
        }
        Ok(())
    }

    fn record_auth_events(
        &self,
        identity: &ForgeIdentity,
        events: &[AuthEvent],
    ) -> Result<(), ApiError> {
        for event in events {
            log_auth_event(event);
            let who = actor(identity);
            let entry = match event {
                AuthEvent::Succeeded {
                    first_in_session, ..
                } => AuditEvent::now(EventKind::AuthSucceeded, who, "signing password").detail(
                    if *first_in_session {
                        "forge identity and password"
                    } else {
                        "password (continuous session)"
                    },
                ),
                AuthEvent::Failed {
                    reason,
                    failures_in_window,
                    ..
                } => AuditEvent::now(EventKind::AuthFailed, who, "signing password")
                    .detail(format!("{reason} ({failures_in_window} in the window)")),
                AuthEvent::LockedOut { until, .. } => {
                    AuditEvent::now(EventKind::Lockout, who, "signing")
                        .change(None, Some(until.to_rfc3339_opts(SecondsFormat::Secs, true)))
                }
                AuthEvent::RefusedWhileLocked { until, .. } => {
                    AuditEvent::now(EventKind::AuthFailed, who, "signing").detail(format!(
                        "refused while locked until {}",
                        until.to_rfc3339_opts(SecondsFormat::Secs, true)
                    ))
                }
                AuthEvent::SessionEnded { why, .. } => {
                    AuditEvent::now(EventKind::SessionEnded, who, "signing session")
                        .detail(why.clone())
                }
            };
            self.audit(entry)?;
        }
        if !events.is_empty() {
            self.keep_attempts(identity)?;
        }
        Ok(())
    }

    /// The public key this device signs with for the forge's current user,
    /// when enrolled.
    pub(crate) async fn my_key(
        &self,
        forge: &dyn Forge,
    ) -> Result<Option<countersign_signing::keys::PublicKey>, ApiError> {
        let (_, identity) = Self::identity(forge).await?;
        Ok(self.load(&identity)?.map(|s| s.enrolment.public_key))
    }

    fn load(&self, identity: &ForgeIdentity) -> Result<Option<StoredSigner>, ApiError> {
        let Some(bytes) = self.stores.keychain()?.get(&account(identity))? else {
            return Ok(None);
        };
        serde_json::from_slice(bytes.expose())
            .map(Some)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::SigningBadKey,
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

    /// Until when this signer is locked out, if they are (from the keychain and the trail).
    fn locked_until(
        &self,
        identity: &ForgeIdentity,
    ) -> Result<Option<chrono::DateTime<Utc>>, ApiError> {
        self.restore_attempts(identity)?;
        Ok(self
            .reauth
            .lock()
            .unwrap()
            .locked_until(identity.user_id, Utc::now()))
    }

    /// Refuse a locked-out signer; the attempt is part of the trail, as at
    /// the password.
    fn refuse_if_locked(&self, identity: &ForgeIdentity) -> Result<(), ApiError> {
        let Some(until) = self.locked_until(identity)? else {
            return Ok(());
        };
        self.record_auth_events(
            identity,
            &[AuthEvent::RefusedWhileLocked {
                user_id: identity.user_id,
                until,
            }],
        )?;
        Err(SigningError::LockedOut { until, failures: 0 }.into())
    }

    pub async fn status(&self, forge: &dyn Forge) -> Result<SignerStatus, ApiError> {
        let (user, identity) = Self::identity(forge).await?;
        let stored = self.load(&identity)?;
        let locked_until = self
            .locked_until(&identity)?
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
        Ok(SignerStatus {
            identity: person(&user),
            enrolled: stored.is_some(),
            printed_name: stored.as_ref().map(|s| s.enrolment.printed_name.clone()),
            fingerprint: stored.as_ref().map(|s| s.enrolment.fingerprint.clone()),
            acknowledgement_template: ACKNOWLEDGEMENT.to_owned(),
            locked_until,
            security_keys: stored
                .as_ref()
                .map_or(0, |s| s.enrolment.security_keys.len() as u32),
            security_key_support: self.device.lock().unwrap().is_some(),
            enrolled_at: stored.as_ref().map(|s| s.enrolment.valid_from.clone()),
            password_set_at: stored
                .as_ref()
                .and_then(|s| s.password_set_at())
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            session_ends_at: self
                .reauth
                .lock()
                .unwrap()
                .session_ends_at(identity.user_id, Utc::now())
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            security_key_ids: stored
                .as_ref()
                .map(|s| {
                    s.enrolment
                        .security_keys
                        .iter()
                        .map(|k| k.credential_id.clone())
                        .collect()
                })
                .unwrap_or_default(),
            enrolment_record: stored
                .as_ref()
                .and_then(|s| serde_json::to_string_pretty(&s.enrolment).ok()),
        })
    }

    /// Remove a registered security key (lost, replaced): recorded with the
    /// reason. The roster's copy is an administrator's to remove.
    pub async fn remove_security_key(
        &self,
        forge: &dyn Forge,
        request: crate::contract::RemoveSecurityKey,
    ) -> Result<SignerStatus, ApiError> {
        let reason = request.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::invalid_input(
                "say why the security key is removed",
            ));
        }
        let (_, identity) = Self::identity(forge).await?;
        let mut stored = self.enrolled(&identity)?;
        let before = stored.enrolment.security_keys.len();
        stored
            .enrolment
            .security_keys
            .retain(|k| k.credential_id != request.credential_id);
        if stored.enrolment.security_keys.len() == before {
            return Err(ApiError::invalid_input(format!(
                "no security key {} is registered here",
                request.credential_id
            )));
        }
        self.save(&identity, &stored)?;
        self.audit(
            AuditEvent::now(
                EventKind::KeyRevocation,
                actor(&identity),
                format!("security-key:{}", request.credential_id),
            )
            .printed_name(stored.enrolment.printed_name.clone())
            .reason(reason.to_owned())
            .detail("security key removed from this device's signer"),
        )?;
        self.status(forge).await
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
                ErrorCode::SigningAcknowledgementRequired,
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
                ErrorCode::SigningAlreadyEnrolled,
                "this forge identity already has a signing key on this device; revoke it before enrolling again",
            ));
        }
        let key = SignerKey::generate()?;
        let sealed = seal(&key, &request.password, self.kdf)?;
        let enrolment = EnrolmentRecord::new(&printed_name, identity.clone(), &key, Utc::now());
        let stored = StoredSigner {
            sealed,
            enrolment: enrolment.clone(),
            attempts: Attempts::default(),
            password_set_at: Some(Utc::now()),
        };
        let bytes = serde_json::to_vec(&stored)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        // The trail must be writable before the key exists, so that no key is ever unrecorded.
        self.stores.with_ledger(|_| Ok(()))?;
        self.stores.keychain()?.set(&account(&identity), &bytes)?;
        self.audit(
            AuditEvent::now(
                EventKind::Enrolment,
                actor(&identity),
                format!("key:{}", enrolment.key_id),
            )
            .printed_name(enrolment.printed_name.clone())
            .change(None, Some(enrolment.fingerprint.clone()))
            .detail(enrolment.acknowledgement.clone()),
        )?;
        tracing::info!(user_id = identity.user_id, key_id = %enrolment.key_id, "signer enrolled");
        Ok(Enrolment {
            fingerprint: enrolment.fingerprint.clone(),
            key_id: enrolment.key_id.clone(),
            acknowledgement: acknowledgement_for(&printed_name),
            record_json: serde_json::to_string_pretty(&enrolment)
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?,
        })
    }

    async fn request(
        &self,
        forge: &dyn Forge,
        draft: &SignatureDraft,
        gathered: &crate::snapshot::Gathered,
    ) -> Result<(ApprovalRequest, StoredSigner, Option<ReauthPolicy>), ApiError> {
        let (_, identity) = Self::identity(forge).await?;
        let stored = self.enrolled(&identity)?;
        let cr = &gathered.detail;
        // The role as the policy spells it ("QA" typed, "qa" signed).
        let role = gathered
            .policy
            .as_ref()
            .ok()
            .and_then(|p| {
                p.roles
                    .iter()
                    .find(|r| r.name.eq_ignore_ascii_case(draft.role.trim()))
            })
            .map_or_else(|| draft.role.clone(), |r| r.name.clone());
        // The change as the policy sees it, once: checked before signing, and
        // what the record binds of it.
        let change = crate::snapshot::change_of(gathered, forge.host());
        if let Ok(policy) = &gathered.policy {
            if policy.requires_security_key(&role)
                && !stored.enrolment.security_keys.is_empty()
                && !draft.use_security_key
            {
                return Err(ApiError::new(
                    ErrorCode::SigningSecurityKeyRequired,
                    format!(
                        "the policy requires your registered security key to sign as {role}: sign with it"
                    ),
                ));
            }
            // Password ageing (11.300(b)): a password past its age is changed
            // before the next signature, not after.
            if let (Some(max), Some(set)) = (
                policy.session.password_max_age_days,
                stored.password_set_at(),
            ) {
                let age = (Utc::now() - set).num_days();
                if age >= i64::from(max) {
                    return Err(ApiError::new(
                        ErrorCode::SigningPasswordExpired,
                        format!(
                            "your signing password is {age} days old and the policy allows {max}: change it (Change my signing password), then sign"
                        ),
                    ));
                }
            }
            // The gate's own checks, before anything is signed.
            let key_id = stored.enrolment.public_key.key_id();
            // Offline only where the policy allows it: the gate would refuse it.
            if gathered.offline_from.is_some() && policy.gate.max_offline_age.is_none() {
                return Err(ApiError::new(
                    ErrorCode::SigningRefusedByPolicy,
                    "the forge cannot be reached, and the policy does not allow signing offline (allow_offline_signing)",
                ));
            }
            // A key the roster has revoked or ended signs nothing more (11.300(c)).
            if let Some(listed) = policy
                .trusted_keys()
                .into_iter()
                .find(|k| k.public_key.key_id() == key_id)
            {
                let now = Utc::now();
                let ended = |at: &Option<String>| {
                    at.as_deref()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .filter(|t| *t <= now)
                };
                if let Some(t) = ended(&listed.revoked_at) {
                    return Err(ApiError::new(
                        ErrorCode::SigningRefusedByPolicy,
                        format!("your signing key was revoked at {t}: ask an administrator, then enrol a new key"),
                    ));
                }
                if let Some(t) = ended(&listed.valid_until) {
                    return Err(ApiError::new(
                        ErrorCode::SigningRefusedByPolicy,
                        format!(
                            "your signing key stopped being valid at {t}: sign with your new key"
                        ),
                    ));
                }
            }
            let signer = countersign_policy::evaluate::Signer {
                host: &identity.host,
                user_id: identity.user_id,
                printed_name: &stored.enrolment.printed_name,
                role: &role,
                with_security_key: draft.use_security_key,
                roster_has_security_key: policy
                    .trusted_keys()
                    .iter()
                    .any(|k| k.public_key.key_id() == key_id && !k.security_keys.is_empty()),
            };
            // What the records already made count for (on the forge, and on
            // this device not yet pushed), as the gate judges them: what a
            // withdrawal may take back, the rule's order, one role per person.
            let number = u64::from(cr.item.number);
            let on_forge =
                crate::records_on_forge::read(forge, &gathered.repo, number, Some(policy)).await?;
            let local: Vec<countersign_signing::dsse::Envelope> = self.stores.with_ledger(|l| {
                Ok(l.records()?
                    .into_iter()
                    .filter(|r| r.repo == cr.item.repo && r.number == number)
                    .filter_map(|r| serde_json::from_slice(&r.envelope).ok())
                    .collect())
            })?;
            let records = crate::records_on_forge::merge([on_forge.envelopes, local]);
            let current = crate::snapshot::evaluate_change(
                gathered,
                forge.host(),
                &records,
                &on_forge.arrivals,
            );
            if draft.meaning == crate::contract::Meaning::Withdrawal {
                let current = current.as_ref().map_err(|why| {
                    ApiError::new(
                        ErrorCode::SigningRefusedByPolicy,
                        format!("nothing can be withdrawn: {why}"),
                    )
                })?;
                may_withdraw(current, draft.withdraws.as_deref(), identity.user_id, &role)?;
            }
            countersign_policy::evaluate::may_sign(policy, &change, &signer, draft.meaning.into())
                .map_err(|why| ApiError::new(ErrorCode::SigningRefusedByPolicy, why))?;
            if let Ok(current) = &current {
                countersign_policy::evaluate::may_sign_after(
                    policy,
                    current,
                    &signer,
                    draft.meaning.into(),
                )
                .map_err(|why| ApiError::new(ErrorCode::SigningRefusedByPolicy, why))?;
            }
        } else if draft.meaning == crate::contract::Meaning::Withdrawal {
            return Err(ApiError::new(
                ErrorCode::SigningRefusedByPolicy,
                "nothing can be withdrawn while the policy cannot be read",
            ));
        }
        // A refused evidence file is not left out silently: nothing is signed
        // until CI produces evidence that can be read.
        if !gathered.evidence_problems.is_empty() {
            return Err(ApiError::new(
                ErrorCode::SigningEvidenceRefused,
                format!(
                    "evidence was refused, so the change cannot be signed: {}",
                    gathered.evidence_problems.join("; ")
                ),
            ));
        }
        // Rules cannot see what the forge did not deliver: no signature over it.
        if !cr.missing.is_empty() {
            return Err(ApiError::new(
                ErrorCode::SigningIncompleteChange,
                format!(
                    "the change is incomplete and cannot be signed: {}",
                    cr.missing.join("; ")
                ),
            ));
        }
        let (risk_class, labels) = match &gathered.policy {
            Ok(policy) => {
                let (class, labels) = change.rules_basis(policy);
                (Some(class.to_string()), Some(labels))
            }
            Err(_) => (None, None),
        };
        let signed_at = Local::now().fixed_offset();
        let (size, head) = self.stores.with_ledger(|l| Ok(l.head()?))?;
        let request = ApprovalRequest::validate(ApprovalDraft {
            printed_name: stored.enrolment.printed_name.clone(),
            forge: identity,
            role: role.clone(),
            signer_key: stored.enrolment.public_key,
            meaning: draft.meaning.into(),
            withdraws: draft.withdraws.clone(),
            allowed_meanings: None,
            reason: draft.reason.clone(),
            signed_at,
            // What the signer's clock said against the forge's: an inspector can
            // judge the signing time without trusting this machine's clock alone.
            forge_clock: forge
                .clock()
                .map(|c| countersign_signing::statement::ForgeClock {
                    server_time: c.server_time.to_rfc3339_opts(SecondsFormat::Secs, true),
                    skew_seconds: c.skew_seconds(),
                }),
            change_request: SignedChange {
                forge: forge.host().to_owned(),
                repo_id: cr.repo_id,
                repo: cr.item.repo.clone(),
                number: u64::from(cr.item.number),
                base_ref: Some(cr.base_ref.clone()),
                base_sha: cr.base_sha.clone(),
                head_sha: cr.item.head_sha.clone(),
            },
            diff_sha256: sha256_hex(cr.diff.as_bytes()),
            // What the signer was shown: every evidence file, the policy at the
            // base and the assessment, each by digest.
            evidence: gathered.evidence_digests(),
            policy_digest: gathered.policy_digest.clone(),
            risk_assessment_digest: gathered
                .assessment
                .as_ref()
                .ok()
                .and_then(|a| a.as_ref().map(|f| f.digest.clone())),
            risk_class,
            labels,
            authentication: if draft.use_security_key {
                let keys = &stored.enrolment.security_keys;
                let key = match &draft.security_key_id {
                    Some(id) => keys.iter().find(|k| k.credential_id == *id),
                    None => keys.first(),
                }
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::SigningNoSecurityKey,
                        "that security key is not registered for this signer",
                    )
                })?;
                AuthMethod::Fido2 {
                    assertion: countersign_signing::fido2::pending(&key.credential_id),
                }
            } else {
                AuthMethod::Password
            },
            audit_head: (size > 0).then(|| format!("{size}:{}", hex::encode(head))),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            offline: gathered.offline_from.map(|t| {
                countersign_signing::statement::OfflineSigning {
                    snapshot_forge_time: t.to_rfc3339_opts(SecondsFormat::Millis, true),
                }
            }),
        })?;
        let reauth = gathered.policy.as_ref().ok().map(|p| ReauthPolicy {
            idle_timeout: chrono::Duration::minutes(i64::from(p.session.idle_timeout_minutes)),
            max_failures: p.session.max_failures,
            lockout: chrono::Duration::minutes(i64::from(p.session.lockout_minutes)),
            ..ReauthPolicy::default()
        });
        Ok((request, stored, reauth))
    }

    fn enrolled(&self, identity: &ForgeIdentity) -> Result<StoredSigner, ApiError> {
        self.load(identity)?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::SigningNotEnrolled,
                "enrol this device before signing (Settings → Signature)",
            )
        })
    }

    /// The exact record a signature of `draft` over `snapshot` would be,
    /// with its time fixed now: kept under a new id for [`Self::sign`], which
    /// signs it unchanged or not at all.
    pub async fn preview(
        &self,
        forge: &dyn Forge,
        draft: SignatureDraft,
        snapshot: Arc<crate::snapshot::Gathered>,
    ) -> Result<SignaturePreview, ApiError> {
        let (request, stored, reauth) = self.request(forge, &draft, &snapshot).await?;
        let preview = request.preview();
        let snapshot_id = preview_id(&preview.digest_hex());
        // The preview's age counts from the time the record will carry.
        let at = chrono::DateTime::parse_from_rfc3339(&preview.statement.predicate.signed_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let expires_at = (at + PREVIEW_LIFETIME).to_rfc3339_opts(SecondsFormat::Millis, true);
        {
            let mut previews = self.previews.lock().unwrap();
            previews.retain(|_, p| Utc::now() - p.at <= PREVIEW_LIFETIME);
            previews.insert(
                snapshot_id.clone(),
                Prepared {
                    draft: draft.clone(),
                    request: request.clone(),
                    reauth,
                    snapshot,
                    at,
                },
            );
        }
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
            snapshot_id,
            signed_at: statement.predicate.signed_at.clone(),
            expires_at,
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
            clock_skew_seconds: statement
                .predicate
                .forge_clock
                .as_ref()
                .map(|c| c.skew_seconds),
            clock_warning: statement
                .predicate
                .forge_clock
                .as_ref()
                .and_then(|c| clock_warning(c.skew_seconds)),
        })
    }

    /// Re-seal this device's key under a new password. The old password is
    /// checked as at signing (a wrong one counts toward the lockout), and the
    /// change is in the trail; the key, the enrolment and the roster stay.
    /// A new key for this device's signer, sealed under `new_password`, and
    /// the rotation record `make` builds from the old and new enrolments,
    /// signed with the *old* key after re-authenticating with `password`
    /// (who rotates proves they held the old key). The new key is only kept
    /// by [`Self::install_rotation`], once the roster change is proposed.
    pub(crate) async fn rotate(
        &self,
        forge: &dyn Forge,
        password: &Secret<String>,
        new_password: &Secret<String>,
        make: impl FnOnce(
            &EnrolmentRecord,
            &EnrolmentRecord,
        ) -> Result<countersign_signing::key_event::KeyEventRequest, ApiError>,
    ) -> Result<(countersign_signing::dsse::Envelope, PendingKey), ApiError> {
        if new_password.expose().chars().count() < MIN_PASSWORD_CHARS {
            return Err(ApiError::invalid_input(format!(
                "the new key's signing password needs at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let (_, identity) = Self::identity(forge).await?;
        let old = self.enrolled(&identity)?;
        let key = SignerKey::generate()?;
        let sealed = seal(&key, new_password, self.kdf)?;
        let enrolment = EnrolmentRecord::new(
            &old.enrolment.printed_name,
            identity.clone(),
            &key,
            Utc::now(),
        );
        let next = StoredSigner {
            sealed,
            enrolment,
            attempts: old.attempts.clone(),
            password_set_at: Some(Utc::now()),
        };
        let (_, envelope) = self
            .sign_key_event(forge, password, |current| make(current, &next.enrolment))
            .await?;
        Ok((
            envelope,
            PendingKey {
                identity,
                stored: next,
            },
        ))
    }

    /// A new key for this forge identity after a forgotten password: no
    /// old password is asked (the caller has checked the administrators'
    /// authorizations). Kept by [`Self::install_rotation`] once proposed.
    pub(crate) async fn new_key_after_reset(
        &self,
        forge: &dyn Forge,
        printed_name: &str,
        password: &Secret<String>,
    ) -> Result<PendingKey, ApiError> {
        if password.expose().chars().count() < MIN_PASSWORD_CHARS {
            return Err(ApiError::invalid_input(format!(
                "the signing password needs at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let (_, identity) = Self::identity(forge).await?;
        // Failed attempts stay with the person: a reset is not more guesses.
        let attempts = self
            .load(&identity)?
            .map(|old| old.attempts)
            .unwrap_or_default();
        let key = SignerKey::generate()?;
        let sealed = seal(&key, password, self.kdf)?;
        let enrolment = EnrolmentRecord::new(printed_name, identity.clone(), &key, Utc::now());
        Ok(PendingKey {
            identity,
            stored: StoredSigner {
                sealed,
                enrolment,
                attempts,
                password_set_at: Some(Utc::now()),
            },
        })
    }

    /// Keep the rotated-to key on this device in place of the old one.
    pub(crate) fn install_rotation(&self, pending: PendingKey) -> Result<(), ApiError> {
        self.save(&pending.identity, &pending.stored)?;
        Ok(())
    }

    /// Sign a key event (revocation, rotation) with this device's key, after
    /// re-authenticating with `password` for that very record: counted
    /// toward the lockout and recorded like any signing. `make` builds the
    /// record from this signer's enrolment.
    pub(crate) async fn sign_key_event(
        &self,
        forge: &dyn Forge,
        password: &Secret<String>,
        make: impl FnOnce(
            &countersign_signing::enrolment::EnrolmentRecord,
        ) -> Result<countersign_signing::key_event::KeyEventRequest, ApiError>,
    ) -> Result<
        (
            countersign_signing::key_event::KeyEventRequest,
            countersign_signing::dsse::Envelope,
        ),
        ApiError,
    > {
        let (user, identity) = Self::identity(forge).await?;
        let stored = self.enrolled(&identity)?;
        self.refuse_if_locked(&identity)?;
        self.restore_attempts(&identity)?;
        let request = make(&stored.enrolment)?;
        let (proof, events) = self.reauth.lock().unwrap().with_password(
            Utc::now(),
            Some(&verified(forge, &user)),
            user.id,
            &stored.sealed,
            password,
            request.digest(),
        );
        self.record_auth_events(&identity, &events)?;
        let envelope = request.sign(proof?)?;
        Ok((request, envelope))
    }

    pub async fn change_password(
        &self,
        forge: &dyn Forge,
        request: PasswordChange,
    ) -> Result<SignerStatus, ApiError> {
        if request.new_password.expose().chars().count() < MIN_PASSWORD_CHARS {
            return Err(ApiError::invalid_input(format!(
                "the new signing password needs at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        if request.new_password.expose() == request.old_password.expose() {
            return Err(ApiError::invalid_input(
                "the new signing password is the old one",
            ));
        }
        let (user, identity) = Self::identity(forge).await?;
        let mut stored = self.enrolled(&identity)?;
        self.refuse_if_locked(&identity)?;
        let verified = verified(forge, &user);
        // The proof is bound to this purpose, not to any record, and dropped.
        let purpose = <sha2::Sha256 as sha2::Digest>::digest(
            format!("countersign password change {}", stored.enrolment.key_id).as_bytes(),
        )
        .into();
        let (proof, events) = self.reauth.lock().unwrap().with_password(
            Utc::now(),
            Some(&verified),
            user.id,
            &stored.sealed,
            &request.old_password,
            purpose,
        );
        self.record_auth_events(&identity, &events)?;
        drop(proof?);
        stored.sealed = countersign_signing::vault::reseal(
            &stored.sealed,
            &request.old_password,
            &request.new_password,
            self.kdf,
        )?;
        stored.password_set_at = Some(Utc::now());
        self.save(&identity, &stored)?;
        self.audit(
            AuditEvent::now(
                EventKind::PasswordChange,
                actor(&identity),
                format!("key:{}", stored.enrolment.key_id),
            )
            .detail("the signing key re-sealed under a new password; the key itself is unchanged"),
        )?;
        self.status(forge).await
    }

    /// Re-authenticate and sign. The forge identity was just fetched with the
    /// signer's own token, which is the first component; the password is the second.
    pub async fn sign(
        &self,
        forge: &dyn Forge,
        request: SignRequest,
    ) -> Result<SignedRecord, ApiError> {
        let (user, identity) = Self::identity(forge).await?;
        let stored = self.enrolled(&identity)?;
        // Locked out is said first: no preview, however fresh, changes it.
        self.refuse_if_locked(&identity)?;
        let prepared = self.previewed(&request)?;
        // The forge still has what was previewed, asked with conditional
        // requests; anything else is named and nothing is signed.
        // Offline, nothing can be asked: the push checks the change first.
        let moved = if prepared.snapshot.offline_from.is_some() {
            Vec::new()
        } else {
            crate::snapshot::changes_since(forge, &prepared.snapshot).await?
        };
        if !moved.is_empty() {
            self.previews.lock().unwrap().remove(&request.snapshot_id);
            return Err(ApiError::new(
                ErrorCode::SigningChangedSincePreview,
                format!(
                    "since your preview the forge changed {}: review the change again before signing",
                    moved.join(", ")
                ),
            ));
        }
        let approval = prepared.request;
        // The governing policy's session and lockout settings apply to this signing.
        if let Some(settings) = prepared.reauth {
            self.reauth.lock().unwrap().set_policy(settings);
        }
        {
            let statement = approval.preview().statement;
            let diff = statement
                .subject
                .iter()
                .find(|s| s.name == "diff")
                .and_then(|s| s.digest.get("sha256"));
            if statement.predicate.change_request.head_sha != request.seen.head_sha
                || diff != Some(&request.seen.diff_sha256)
            {
                return Err(ApiError::new(
                    ErrorCode::SigningChangedSincePreview,
                    "the change request changed after you reviewed it (a new commit or a different diff): review it again before signing",
                ));
            }
        }
        // The security key confirms this very record (its challenge is the
        // record's digest); a wrong PIN, no touch or a bad assertion counts as
        // a failed authentication like a wrong password.
        let approval = match approval.fido2_challenge() {
            None => approval,
            Some(challenge) => {
                // A locked-out signer was refused above, before the key is asked.
                let identity = stored.enrolment.forge.clone();
                // The key the record names (the signer chose it, a backup maybe).
                let named = match &approval.preview().statement.predicate.authentication {
                    AuthMethod::Fido2 { assertion } => Some(assertion.credential_id.clone()),
                    AuthMethod::Password => None,
                };
                let key = stored
                    .enrolment
                    .security_keys
                    .iter()
                    .find(|k| Some(&k.credential_id) == named.as_ref())
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::SigningNoSecurityKey,
                            "the security key this record names is not registered",
                        )
                    })?;
                let options = countersign_signing::fido2::request(&challenge, &key)?;
                let device = self.device()?;
                let pin = request.security_key_pin;
                let asserted =
                    tokio::task::spawn_blocking(move || device.assert(options, pin.as_ref()))
                        .await
                        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
                        .and_then(|c| {
                            let a = countersign_signing::fido2::assertion_of(&c);
                            countersign_signing::fido2::check(&a, &key, &challenge)
                                .map(|_| a)
                                .map_err(|why| ApiError::new(ErrorCode::SigningSecurityKey, why))
                        });
                match asserted {
                    Ok(assertion) => approval.with_assertion(assertion)?,
                    Err(e) => {
                        let events = self.reauth.lock().unwrap().record_failure(
                            Utc::now(),
                            user.id,
                            &format!("security key: {}", e.message),
                        );
                        self.record_auth_events(&identity, &events)?;
                        return Err(e);
                    }
                }
            }
        };
        let digest = approval.preview().digest;
        let verified = verified(forge, &user);
        let identity = stored.enrolment.forge.clone();
        self.restore_attempts(&identity)?;
        let (proof, events) = self.reauth.lock().unwrap().with_password(
            Utc::now(),
            Some(&verified),
            user.id,
            &stored.sealed,
            &request.password,
            digest,
        );
        self.record_auth_events(&identity, &events)?;
        let envelope = sign(&approval, proof?)?;
        let statement = approval.preview().statement;
        let envelope_bytes = serde_json::to_vec(&envelope)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        let cr = &statement.predicate.change_request;
        let kind = match statement.predicate.meaning {
            countersign_signing::Meaning::Rejection => EventKind::Reject,
            // A signature withdrawn by its signer: the trail's `revoke`.
            countersign_signing::Meaning::Withdrawal => EventKind::Revoke,
            _ => EventKind::Sign,
        };
        let event = AuditEvent::now(
            kind,
            actor(&identity),
            format!("{}#{}@{}", cr.repo, cr.number, cr.head_sha),
        )
        .printed_name(statement.predicate.signer.printed_name.clone())
        .reason(statement.predicate.reason.clone())
        .detail(format!(
            "{} as {}",
            statement.predicate.meaning, statement.predicate.signer.role
        ));
        let event = self.stores.with_forge_time(event);
        // Acknowledged only after the record and its audit entry commit together.
        self.stores.with_ledger(|l| {
            let (record_id, _) = l.append_record(
                &envelope_bytes,
                &cr.repo,
                cr.number,
                &cr.head_sha,
                &event,
                &[cr.forge.as_str()],
            )?;
            // The signed record names the trail's (size, head): keep it as a
            // checkpoint, so a later truncation or rewrite below it is found.
            if let Some((size, head)) = statement
                .predicate
                .audit_head
                .as_deref()
                .and_then(|h| h.split_once(':'))
            {
                l.add_checkpoint(&Checkpoint {
                    size: size.parse().unwrap_or(0),
                    head: head.to_owned(),
                    signed_at: statement.predicate.signed_at.clone(),
                    key_id: stored.enrolment.key_id.clone(),
                    signature: format!("{RECORD_CHECKPOINT}{record_id}"),
                })?;
            }
            Ok(())
        })?;
        let record = SignedRecord {
            key_id: stored.enrolment.key_id.clone(),
            manifestation: manifestation(&statement.predicate),
            envelope_json: serde_json::to_string_pretty(&envelope)
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?,
        };
        tracing::info!(user_id = user.id, repo = %statement.predicate.change_request.repo,
            number = statement.predicate.change_request.number, meaning = %statement.predicate.meaning, "record signed");
        // A preview is signed once.
        self.previews.lock().unwrap().remove(&request.snapshot_id);
        Ok(record)
    }

    /// The preview `request` signs: this session's, younger than
    /// [`PREVIEW_LIFETIME`], and for exactly the form it was made for.
    fn previewed(&self, request: &SignRequest) -> Result<Prepared, ApiError> {
        let mut previews = self.previews.lock().unwrap();
        let Some(prepared) = previews.get(&request.snapshot_id).cloned() else {
            return Err(ApiError::new(
                ErrorCode::SigningPreviewExpired,
                "there is no such preview in this session (signed already, expired, or from before a restart): review what you are signing again",
            ));
        };
        if Utc::now() - prepared.at > PREVIEW_LIFETIME {
            previews.remove(&request.snapshot_id);
            return Err(ApiError::new(
                ErrorCode::SigningPreviewExpired,
                format!(
                    "the preview is older than {} minutes: renew it and check what you are signing again",
                    PREVIEW_LIFETIME.num_minutes()
                ),
            ));
        }
        if prepared.draft != request.draft {
            previews.remove(&request.snapshot_id);
            return Err(ApiError::new(
                ErrorCode::SigningChangedSincePreview,
                "the meaning, role, reason or method changed after the preview: preview again what you now want to sign",
            ));
        }
        Ok(prepared)
    }

    /// Whether the preview `snapshot_id` was made offline, from a kept snapshot.
    pub(crate) fn previewed_offline(&self, snapshot_id: &str) -> bool {
        self.previews
            .lock()
            .unwrap()
            .get(snapshot_id)
            .is_some_and(|p| p.snapshot.offline_from.is_some())
    }

    /// Make every kept preview look `by` older (tests of expiry).
    pub(crate) fn age_previews(&self, by: chrono::Duration) {
        for p in self.previews.lock().unwrap().values_mut() {
            p.at -= by;
        }
    }
}

/// How long a preview may be signed: past it, the signer looks again.
const PREVIEW_LIFETIME: chrono::Duration = crate::snapshot::FRESH_FOR;

/// A preview kept for signing: the form, the exact record and the snapshot
/// of the change it was made from.
#[derive(Clone)]
struct Prepared {
    draft: SignatureDraft,
    request: ApprovalRequest,
    reauth: Option<ReauthPolicy>,
    snapshot: Arc<crate::snapshot::Gathered>,
    at: chrono::DateTime<Utc>,
}

/// A preview's id: not guessable from the record it names.
fn preview_id(record_digest: &str) -> String {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).unwrap_or_default();
    sha256_hex(format!("{record_digest}:{}", hex::encode(nonce)).as_bytes())[..32].to_owned()
}

fn log_auth_event(event: &AuthEvent) {
    match event {
        AuthEvent::Succeeded { .. } | AuthEvent::SessionEnded { .. } => {
            tracing::info!(?event, "authentication")
        }
        _ => tracing::warn!(?event, "authentication"),
    }
}

/// What to tell a signer whose clock is more than a minute off the forge's:
/// the record carries the skew, and the gate refuses it past the policy's
/// `max_clock_skew`.
pub fn clock_warning(skew_seconds: i64) -> Option<String> {
    (skew_seconds.unsigned_abs() > 60).then(|| {
        format!(
            "This computer's clock is {} the forge's. The record will carry that difference; the gate refuses a signature whose clock is off by more than the policy's max_clock_skew (5 min unless the policy says otherwise). Set the clock right before signing.",
            clock_difference(skew_seconds)
        )
    })
}

/// `2 h 0 min ahead of`, `90 s behind`: a clock against the forge's.
pub fn clock_difference(skew_seconds: i64) -> String {
    format!(
        "{} {}",
        countersign_policy::evaluate::seconds_in_words(skew_seconds.unsigned_abs()),
        if skew_seconds > 0 {
            "ahead of"
        } else {
            "behind"
        }
    )
}
