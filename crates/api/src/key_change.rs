//! A signing key's end (11.300(c)): revoked by an administrator for a lost
//! laptop or a leaver, or rotated by its holder to a new key. The roster
//! edit (`revoked_at`, or `valid_until` and the new key) and the key-event
//! record, signed after re-authentication (by the administrator, or with
//! the old key), go into one pull request: the policy now on the base branch
//! governs it like any other change, and the record stays in the repository
//! with the roster it explains.

use chrono::{Local, SecondsFormat};
use countersign_forge::{Forge, RepoId};
use countersign_ledger::{AuditEvent, EventKind};
use countersign_policy::roster::{end_key, KeyEnd, RosterError};
use countersign_signing::key_event::{KeyEvent, KeyEventKind, KeyEventRequest, KeyHolder, KeyRef};
use countersign_signing::keys::PublicKey;
use countersign_signing::statement::{App, ForgeIdentity};

use crate::contract::{AuthorizeReset, KeyChange, ResetEnrolment, RevokeKey, RotateKey};
use crate::signatures::Signatures;
use crate::snapshot::POLICY_PATH;
use crate::stores::Stores;
use crate::{ApiError, ErrorCode};

/// Where a key event's record goes in the repository.
pub const RECORDS_DIR: &str = ".countersign/key-events";

/// How long a reset authorization may be used after it was signed.
pub const RESET_AUTHORIZATION_LIFETIME: chrono::Duration = chrono::Duration::days(7);

/// How many different administrators must authorize a reset.
pub const RESET_AUTHORIZATIONS_NEEDED: usize = 2;

fn app() -> App {
    App {
        name: "countersign".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

fn key_ref(key: &PublicKey, printed_name: &str, forge: &ForgeIdentity) -> KeyRef {
    KeyRef {
        key_id: key.key_id(),
        public_key: key.to_base64(),
        holder: KeyHolder {
            printed_name: printed_name.to_owned(),
            forge: forge.clone(),
        },
    }
}

/// A new file for each record, even two made in one second about one key
/// (two administrators' authorizations).
fn record_path(kind: &str, key: &PublicKey) -> Result<String, ApiError> {
    let id = key.key_id();
    let mut salt = [0u8; 3];
    getrandom::fill(&mut salt)
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("no randomness: {e}")))?;
    Ok(format!(
        "{RECORDS_DIR}/{}-{kind}-{}-{}.json",
        Local::now().format("%Y%m%dT%H%M%S"),
        &id[..12.min(id.len())],
        hex::encode(salt)
    ))
}

/// The reason given, trimmed; `missing` says what to give when there is none.
fn reason_given(reason: &str, missing: &str) -> Result<String, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid_input(missing));
    }
    Ok(reason.to_owned())
}

/// The key event `by` signs with their enrolled key, about `key`, in the
/// repository whose policy `draft` read.
fn event_by(
    by: &countersign_signing::enrolment::EnrolmentRecord,
    kind: KeyEventKind,
    (key, new_key): (KeyRef, Option<KeyRef>),
    reason: &str,
    at: &str,
    draft: &crate::contract::PolicyDraft,
) -> KeyEvent {
    KeyEvent {
        kind,
        by: KeyHolder {
            printed_name: by.printed_name.clone(),
            forge: by.forge.clone(),
        },
        by_key_id: by.key_id.clone(),
        key,
        new_key,
        reason: reason.to_owned(),
        at: at.to_owned(),
        repo: draft.repo.clone(),
        policy_before: draft.digest.clone(),
        app: app(),
    }
}

/// A key change's pull request: the files, and how it reads.
struct Change<'a> {
    repo: &'a str,
    base_branch: &'a str,
    policy_text: &'a [u8],
    record_path: String,
    record: Vec<u8>,
    title: String,
    why: String,
}

/// Open the pull request for `change`, then write the audit entry `event`
/// makes from where it was proposed (number, branch).
async fn propose(
    forge: &dyn Forge,
    stores: &Stores,
    change: Change<'_>,
    holder: String,
    roles: Vec<String>,
    event: impl FnOnce(u64, &str) -> AuditEvent,
) -> Result<KeyChange, ApiError> {
    let repo: RepoId = change.repo.parse()?;
    let (created, branch) = crate::admin::open_pull(
        forge,
        &repo,
        change.base_branch,
        &[
            (POLICY_PATH, change.policy_text),
            (&change.record_path, &change.record),
        ],
        &change.title,
        &change.why,
    )
    .await?;
    stores.record(event(created.number, &branch))?;
    Ok(KeyChange {
        number: u32::try_from(created.number).unwrap_or(u32::MAX),
        branch,
        record_path: change.record_path,
        holder,
        roles,
    })
}

fn pretty(envelope: &countersign_signing::dsse::Envelope) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec_pretty(envelope)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
}

fn actor_of(forge: &ForgeIdentity) -> String {
    format!("{}/{}/{}", forge.host, forge.user_id, forge.login)
}

fn roster_error(e: RosterError) -> ApiError {
    let code = match e {
        RosterError::Policy(_) => ErrorCode::PolicyInvalid,
        _ => ErrorCode::InvalidInput,
    };
    ApiError::new(code, e.to_string())
}

pub async fn revoke(
    forge: &dyn Forge,
    stores: &Stores,
    signatures: &Signatures,
    request: RevokeKey,
) -> Result<KeyChange, ApiError> {
    let reason = reason_given(
        &request.reason,
        "say why the key is revoked: it goes into the signed record and the pull request",
    )?;
    let revoked = PublicKey::from_base64(request.public_key.trim())
        .map_err(|e| ApiError::invalid_input(format!("not a signing key: {e}")))?;
    let draft = crate::admin::draft(forge, &request.repo).await?;
    // Milliseconds, as signing times are: a signature made earlier in the
    // same second is not caught by the revocation.
    let at = Local::now().to_rfc3339_opts(SecondsFormat::Millis, false);
    let (text, holder) = end_key(
        &draft.check.text,
        &revoked.to_base64(),
        &at,
        KeyEnd::Revoked,
        None,
    )
    .map_err(roster_error)?;
    let holder_id = ForgeIdentity {
        host: holder.forge.clone(),
        user_id: holder.user_id,
        login: holder.login.clone(),
    };
    let (signed, envelope) = signatures
        .sign_key_event(forge, &request.password, |admin| {
            KeyEventRequest::new(
                event_by(
                    admin,
                    KeyEventKind::Revocation,
                    (key_ref(&revoked, &holder.printed_name, &holder_id), None),
                    &reason,
                    &at,
                    &draft,
                ),
                admin.public_key,
                text.as_bytes(),
            )
            .map_err(ApiError::from)
        })
        .await?;
    let record_path = record_path("revocation", &revoked)?;
    let by = signed.statement().predicate.by.clone();
    let change = Change {
        repo: &request.repo,
        base_branch: &draft.base_branch,
        policy_text: text.as_bytes(),
        why: format!(
            "Revoke the signing key {} of {} ({}), from {at}: {reason}\n\nSigned revocation record by {}: `{record_path}`.",
            revoked.fingerprint(),
            holder.printed_name,
            holder.roles.join(", "),
            by.printed_name
        ),
        title: format!("Revoke {}'s signing key", holder.printed_name),
        record: pretty(&envelope)?,
        record_path,
    };
    let detail = |number: u64, branch: &str| {
        format!(
            "{}'s key ({}) revoked in {}, proposed as #{number} from {branch}",
            holder.printed_name,
            holder.roles.join(", "),
            request.repo
        )
    };
    propose(
        forge,
        stores,
        change,
        holder.printed_name.clone(),
        holder.roles.clone(),
        |number, branch| {
            AuditEvent::now(
                EventKind::KeyRevocation,
                actor_of(&by.forge),
                format!("key:{}", revoked.key_id()),
            )
            .printed_name(by.printed_name.clone())
            .change(None, Some(at.clone()))
            .reason(reason.clone())
            .detail(detail(number, branch))
        },
    )
    .await
}

pub async fn rotate(
    forge: &dyn Forge,
    stores: &Stores,
    signatures: &Signatures,
    request: RotateKey,
) -> Result<KeyChange, ApiError> {
    let reason = reason_given(
        &request.reason,
        "say why the key changes: it goes into the signed record and the pull request",
    )?;
    let draft = crate::admin::draft(forge, &request.repo).await?;
    let at = Local::now().to_rfc3339_opts(SecondsFormat::Millis, false);
    // Filled in by `make`, which sees both enrolments.
    let mut edited: Option<(String, countersign_policy::roster::KeyHolder)> = None;
    let (envelope, pending) = signatures
        .rotate(
            forge,
            &request.password,
            &request.new_password,
            |old, new| {
                let new_json = serde_json::to_string(new)
                    .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
                let (text, holder) = end_key(
                    &draft.check.text,
                    &old.public_key.to_base64(),
                    &at,
                    KeyEnd::RotatedOut,
                    Some(&new_json),
                )
                .map_err(roster_error)?;
                let request = KeyEventRequest::new(
                    event_by(
                        old,
                        KeyEventKind::Rotation,
                        (
                            key_ref(&old.public_key, &old.printed_name, &old.forge),
                            Some(key_ref(&new.public_key, &new.printed_name, &new.forge)),
                        ),
                        &reason,
                        &at,
                        &draft,
                    ),
                    old.public_key,
                    text.as_bytes(),
                )
                .map_err(ApiError::from)?;
                edited = Some((text, holder));
                Ok(request)
            },
        )
        .await?;
    let (text, holder) =
        edited.ok_or_else(|| ApiError::new(ErrorCode::Internal, "no roster edit"))?;
    let new_key = pending.enrolment().public_key;
    let path = record_path("rotation", &new_key)?;
    let change = Change {
        repo: &request.repo,
        base_branch: &draft.base_branch,
        policy_text: text.as_bytes(),
        why: format!(
            "{} moves to the signing key {} in {}; the old key stops at {at}: {reason}\n\nSigned rotation record (by the old key): `{path}`.",
            holder.printed_name,
            new_key.fingerprint(),
            holder.roles.join(", ")
        ),
        title: format!("Rotate {}'s signing key", holder.printed_name),
        record: pretty(&envelope)?,
        record_path: path,
    };
    let actor = format!("{}/{}/{}", holder.forge, holder.user_id, holder.login);
    let roles = holder.roles.join(", ");
    let proposed = propose(forge, stores, change, holder.printed_name.clone(), holder.roles.clone(), |number, branch| {
        AuditEvent::now(EventKind::KeyRotation, actor, format!("key:{}", new_key.key_id()))
            .printed_name(holder.printed_name.clone())
            .change(None, Some(new_key.fingerprint()))
            .reason(reason.clone())
            .detail(format!(
                "rotated in {} ({roles}), proposed as #{number} from {branch}; the old key ends at {at}",
                request.repo
            ))
    })
    .await?;
    // Proposed: from now on this device signs with the new key, which
    // counts once the pull request is merged.
    signatures.install_rotation(pending)?;
    Ok(proposed)
}

fn refused(why: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::SigningRefusedByPolicy, why)
}

/// The policy's `reset_by` role, or why there are no resets.
fn reset_role(policy: &countersign_policy::Policy) -> Result<String, ApiError> {
    policy.reset_by.clone().ok_or_else(|| {
        refused("the policy names no role that may authorize password resets ([session] reset_by)")
    })
}

/// The member's key a reset would revoke: their newest key not yet ended.
fn active_key_of(
    policy: &countersign_policy::Policy,
    matches: impl Fn(&countersign_policy::Member) -> bool,
) -> Option<(PublicKey, String, ForgeIdentity)> {
    policy
        .roles
        .iter()
        .flat_map(|r| &r.members)
        .filter(|m| matches(m))
        .flat_map(|m| m.keys.iter().map(move |k| (m, k)))
        .filter(|(_, k)| k.revoked_at.is_none() && k.valid_until.is_none())
        .last()
        .map(|(m, k)| {
            (
                k.public_key,
                m.printed_name.clone(),
                ForgeIdentity {
                    host: m.forge.clone(),
                    user_id: m.user_id,
                    login: m.login.clone(),
                },
            )
        })
}

/// An administrator of the policy's `reset_by` role authorizes `login`'s
/// reset: a signed record, proposed for the base branch on its own.
pub async fn authorize_reset(
    forge: &dyn Forge,
    stores: &Stores,
    signatures: &Signatures,
    request: AuthorizeReset,
) -> Result<KeyChange, ApiError> {
    let reason = reason_given(
        &request.reason,
        "say why the reset is authorized (how the person's identity was confirmed)",
    )?;
    let draft = crate::admin::draft(forge, &request.repo).await?;
    let policy = countersign_policy::parse(&draft.check.text)
        .map_err(|e| ApiError::new(ErrorCode::PolicyInvalid, e.to_string()))?;
    let role = reset_role(&policy)?;
    let me = forge.current_user().await?;
    if !policy.is_member(&role, forge.host(), me.id) {
        return Err(refused(format!(
            "only members of {role} may authorize a password reset"
        )));
    }
    let login = request.login.trim();
    let (key, name, holder) = active_key_of(&policy, |m| m.login == login).ok_or_else(|| {
        ApiError::invalid_input(format!("the roster lists no current key for {login:?}"))
    })?;
    if holder.user_id == me.id {
        return Err(refused("nobody authorizes their own reset"));
    }
    let at = Local::now().to_rfc3339_opts(SecondsFormat::Millis, false);
    let (signed, envelope) = signatures
        .sign_key_event(forge, &request.password, |admin| {
            KeyEventRequest::new(
                event_by(
                    admin,
                    KeyEventKind::ResetAuthorization,
                    (key_ref(&key, &name, &holder), None),
                    &reason,
                    &at,
                    &draft,
                ),
                admin.public_key,
                draft.check.text.as_bytes(),
            )
            .map_err(ApiError::from)
        })
        .await?;
    let path = record_path("reset-authorization", &key)?;
    let by = signed.statement().predicate.by.clone();
    // The policy file rides along unchanged, so the description's digest is the policy's.
    let change = Change {
        repo: &request.repo,
        base_branch: &draft.base_branch,
        policy_text: draft.check.text.as_bytes(),
        why: format!(
            "{} authorizes {name} (@{}) to enrol a new signing key after a forgotten password: {reason}\n\n\
             Signed authorization: `{path}`. {RESET_AUTHORIZATIONS_NEEDED} authorizations by different members of {role}, merged into this branch within {} days, let them enrol; their current key is revoked then.",
            by.printed_name,
            holder.login,
            RESET_AUTHORIZATION_LIFETIME.num_days()
        ),
        title: format!("Authorize a password reset for {name}"),
        record: pretty(&envelope)?,
        record_path: path,
    };
    propose(
        forge,
        stores,
        change,
        name.clone(),
        vec![role],
        |number, branch| {
            AuditEvent::now(
                EventKind::KeyRevocation,
                actor_of(&by.forge),
                format!("key:{}", key.key_id()),
            )
            .printed_name(by.printed_name.clone())
            .reason(reason.clone())
            .detail(format!(
                "reset authorized for {name} in {}, proposed as #{number} from {branch}",
                request.repo
            ))
        },
    )
    .await
}

/// A member who forgot their password enrols a new key, on authorizations
/// merged into the base branch by two different members of `reset_by`, each
/// signed by a key the roster holds and less than a week old on the forge's
/// clock, each naming this member's current key. That key is revoked and the
/// new one takes its roles in one proposed roster change.
pub async fn enrol_after_reset(
    forge: &dyn Forge,
    stores: &Stores,
    signatures: &Signatures,
    request: ResetEnrolment,
) -> Result<KeyChange, ApiError> {
    if !request.acknowledged {
        return Err(ApiError::new(
            ErrorCode::SigningAcknowledgementRequired,
            "enrolment needs your acknowledgement that the electronic signature is legally binding",
        ));
    }
    let draft = crate::admin::draft(forge, &request.repo).await?;
    let policy = countersign_policy::parse(&draft.check.text)
        .map_err(|e| ApiError::new(ErrorCode::PolicyInvalid, e.to_string()))?;
    let role = reset_role(&policy)?;
    let me = forge.current_user().await?;
    let (old_key, name, _) =
        active_key_of(&policy, |m| m.user_id == me.id && m.forge == forge.host())
            .ok_or_else(|| refused("the roster lists no current key of yours to reset"))?;
    let repo: RepoId = request.repo.parse()?;
    let now = forge.clock().map_or_else(chrono::Utc::now, |c| c.now());
    let trusted = policy.trusted_keys();
    let mut admins: Vec<(u64, String)> = Vec::new();
    let mut problems = Vec::new();
    for path in &request.authorizations {
        let judged = async {
            let bytes = forge
                .file_at(&repo, path, &draft.base_branch)
                .await?
                .ok_or_else(|| {
                    refused(format!(
                        "{path} is not on {}: merge it first",
                        draft.base_branch
                    ))
                })?;
            let envelope: countersign_signing::dsse::Envelope = serde_json::from_slice(&bytes)
                .map_err(|e| refused(format!("{path} is not a signed record: {e}")))?;
            let claimed = countersign_signing::key_event::claimed_signer(&envelope)
                .ok_or_else(|| refused(format!("{path} is not a key event")))?;
            let signer = trusted
                .iter()
                .find(|k| k.public_key.key_id() == claimed)
                .ok_or_else(|| {
                    refused(format!(
                        "{path} is signed by a key the roster does not hold"
                    ))
                })?;
            let event = countersign_signing::key_event::verify(&envelope, &signer.public_key, None)
                .map_err(|why| refused(format!("{path}: {why}")))?;
            if event.kind != KeyEventKind::ResetAuthorization {
                return Err(refused(format!("{path} is not a reset authorization")));
            }
            if event.by.forge.user_id != signer.forge.user_id {
                return Err(refused(format!(
                    "{path} names another signer than its key's holder"
                )));
            }
            if !policy.is_member(&role, &signer.forge.host, signer.forge.user_id) {
                return Err(refused(format!(
                    "{path} is by {}, who is not a member of {role}",
                    signer.printed_name
                )));
            }
            if event.key.key_id != old_key.key_id() || event.key.holder.forge.user_id != me.id {
                return Err(refused(format!(
                    "{path} authorizes a reset of another key or person, not yours"
                )));
            }
            let at = chrono::DateTime::parse_from_rfc3339(&event.at)
                .map_err(|e| refused(format!("{path}: its time: {e}")))?;
            let ended = |t: &Option<String>| {
                t.as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t <= at)
            };
            if ended(&signer.revoked_at) || ended(&signer.valid_until) {
                return Err(refused(format!(
                    "{path} was signed with a key that had ended"
                )));
            }
            if now - at.with_timezone(&chrono::Utc) > RESET_AUTHORIZATION_LIFETIME
                || at.with_timezone(&chrono::Utc) > now + chrono::Duration::minutes(5)
            {
                return Err(refused(format!(
                    "{path} was signed at {at}: an authorization counts for {} days",
                    RESET_AUTHORIZATION_LIFETIME.num_days()
                )));
            }
            Ok((signer.forge.user_id, signer.printed_name.clone()))
        }
        .await;
        match judged {
            Ok(admin) if !admins.iter().any(|(id, _)| *id == admin.0) => admins.push(admin),
            Ok((_, who)) => problems.push(format!("{who} authorized twice; it counts once")),
            Err(e) => problems.push(e.message),
        }
    }
    if admins.len() < RESET_AUTHORIZATIONS_NEEDED {
        return Err(refused(format!(
            "a reset needs authorizations by {RESET_AUTHORIZATIONS_NEEDED} different members of {role}; {} count{}",
            admins.len(),
            if problems.is_empty() { String::new() } else { format!(" ({})", problems.join("; ")) }
        )));
    }
    let pending = signatures
        .new_key_after_reset(forge, &name, &request.password)
        .await?;
    let new_json = serde_json::to_string(pending.enrolment())
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let at = Local::now().to_rfc3339_opts(SecondsFormat::Millis, false);
    let (text, holder) = end_key(
        &draft.check.text,
        &old_key.to_base64(),
        &at,
        KeyEnd::Revoked,
        Some(&new_json),
    )
    .map_err(roster_error)?;
    let new_key = pending.enrolment().public_key;
    let path = record_path("reset-enrolment", &new_key)?;
    let by = admins
        .iter()
        .map(|(_, n)| n.as_str())
        .collect::<Vec<_>>()
        .join(" and ");
    let change = Change {
        repo: &request.repo,
        base_branch: &draft.base_branch,
        policy_text: text.as_bytes(),
        why: format!(
            "{name} enrols a new signing key after a forgotten password, authorized by {by} ({}); the old key {} is revoked from {at}.\n\nThe new key's enrolment record: `{path}`.",
            request.authorizations.join(", "),
            old_key.fingerprint()
        ),
        title: format!("Reset {name}'s signing key"),
        record: new_json.into_bytes(),
        record_path: path,
    };
    let actor = format!("{}/{}/{}", holder.forge, holder.user_id, holder.login);
    let proposed = propose(forge, stores, change, name.clone(), holder.roles.clone(), |number, branch| {
        AuditEvent::now(EventKind::Enrolment, actor.clone(), format!("key:{}", new_key.key_id()))
            .printed_name(name.clone())
            .change(None, Some(new_key.fingerprint()))
            .detail(format!(
                "new key after a reset authorized by {by} ({}); proposed as #{number} from {branch}",
                request.authorizations.join(", ")
            ))
    })
    .await?;
    signatures.install_rotation(pending)?;
    stores.record(
        AuditEvent::now(
            EventKind::KeyRevocation,
            actor,
            format!("key:{}", old_key.key_id()),
        )
        .printed_name(name)
        .change(None, Some(at))
        .reason(format!("forgotten password; reset authorized by {by}"))
        .detail(format!(
            "revoked in {} by the reset proposed as #{}",
            request.repo, proposed.number
        )),
    )?;
    Ok(proposed)
}
