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

use crate::contract::{KeyChange, RevokeKey, RotateKey};
use crate::signatures::Signatures;
use crate::snapshot::POLICY_PATH;
use crate::stores::Stores;
use crate::{ApiError, ErrorCode};

/// Where a key event's record goes in the repository.
pub const RECORDS_DIR: &str = ".countersign/key-events";

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

fn record_path(kind: &str, key: &PublicKey) -> String {
    let id = key.key_id();
    format!(
        "{RECORDS_DIR}/{}-{kind}-{}.json",
        Local::now().format("%Y%m%dT%H%M%S"),
        &id[..12.min(id.len())]
    )
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
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::invalid_input(
            "say why the key is revoked: it goes into the signed record and the pull request",
        ));
    }
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
    let (signed, envelope) = signatures
        .sign_key_event(forge, &request.password, |admin| {
            KeyEventRequest::new(
                KeyEvent {
                    kind: KeyEventKind::Revocation,
                    by: KeyHolder {
                        printed_name: admin.printed_name.clone(),
                        forge: admin.forge.clone(),
                    },
                    by_key_id: admin.key_id.clone(),
                    key: key_ref(
                        &revoked,
                        &holder.printed_name,
                        &ForgeIdentity {
                            host: holder.forge.clone(),
                            user_id: holder.user_id,
                            login: holder.login.clone(),
                        },
                    ),
                    new_key: None,
                    reason: reason.clone(),
                    at: at.clone(),
                    repo: request.repo.clone(),
                    policy_before: draft.digest.clone(),
                    app: app(),
                },
                admin.public_key,
                text.as_bytes(),
            )
            .map_err(ApiError::from)
        })
        .await?;
    let record = serde_json::to_vec_pretty(&envelope)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let record_path = record_path("revocation", &revoked);
    let repo: RepoId = request.repo.parse()?;
    let by = &signed.statement().predicate.by;
    let why = format!(
        "Revoke the signing key {} of {} ({}), from {at}: {reason}\n\nSigned revocation record by {}: `{record_path}`.",
        revoked.fingerprint(),
        holder.printed_name,
        holder.roles.join(", "),
        by.printed_name
    );
    let (created, branch) = crate::admin::open_pull(
        forge,
        &repo,
        &draft.base_branch,
        &[(POLICY_PATH, text.as_bytes()), (&record_path, &record)],
        &format!("Revoke {}'s signing key", holder.printed_name),
        &why,
    )
    .await?;
    stores.record(
        AuditEvent::now(
            EventKind::KeyRevocation,
            format!("{}/{}/{}", by.forge.host, by.forge.user_id, by.forge.login),
            format!("key:{}", revoked.key_id()),
        )
        .printed_name(by.printed_name.clone())
        .change(None, Some(at.clone()))
        .reason(reason)
        .detail(format!(
            "{}'s key ({}) revoked in {}, proposed as #{} from {branch}",
            holder.printed_name,
            holder.roles.join(", "),
            request.repo,
            created.number
        )),
    )?;
    Ok(KeyChange {
        number: u32::try_from(created.number).unwrap_or(u32::MAX),
        branch,
        record_path,
        holder: holder.printed_name,
        roles: holder.roles,
    })
}

pub async fn rotate(
    forge: &dyn Forge,
    stores: &Stores,
    signatures: &Signatures,
    request: RotateKey,
) -> Result<KeyChange, ApiError> {
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::invalid_input(
            "say why the key changes: it goes into the signed record and the pull request",
        ));
    }
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
                    KeyEvent {
                        kind: KeyEventKind::Rotation,
                        by: KeyHolder {
                            printed_name: old.printed_name.clone(),
                            forge: old.forge.clone(),
                        },
                        by_key_id: old.key_id.clone(),
                        key: key_ref(&old.public_key, &old.printed_name, &old.forge),
                        new_key: Some(key_ref(&new.public_key, &new.printed_name, &new.forge)),
                        reason: reason.clone(),
                        at: at.clone(),
                        repo: request.repo.clone(),
                        policy_before: draft.digest.clone(),
                        app: app(),
                    },
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
    let record = serde_json::to_vec_pretty(&envelope)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let path = record_path("rotation", &new_key);
    let repo: RepoId = request.repo.parse()?;
    let why = format!(
        "{} moves to the signing key {} in {}; the old key stops at {at}: {reason}\n\nSigned rotation record (by the old key): `{path}`.",
        holder.printed_name,
        new_key.fingerprint(),
        holder.roles.join(", ")
    );
    let (created, branch) = crate::admin::open_pull(
        forge,
        &repo,
        &draft.base_branch,
        &[(POLICY_PATH, text.as_bytes()), (&path, &record)],
        &format!("Rotate {}'s signing key", holder.printed_name),
        &why,
    )
    .await?;
    // Proposed: from now on this device signs with the new key, which
    // counts once the pull request is merged.
    signatures.install_rotation(pending)?;
    stores.record(
        AuditEvent::now(
            EventKind::KeyRotation,
            format!("{}/{}/{}", holder.forge, holder.user_id, holder.login),
            format!("key:{}", new_key.key_id()),
        )
        .printed_name(holder.printed_name.clone())
        .change(None, Some(new_key.fingerprint()))
        .reason(reason)
        .detail(format!(
            "rotated in {} ({}), proposed as #{} from {branch}; the old key ends at {at}",
            request.repo,
            holder.roles.join(", "),
            created.number
        )),
    )?;
    Ok(KeyChange {
        number: u32::try_from(created.number).unwrap_or(u32::MAX),
        branch,
        record_path: path,
        holder: holder.printed_name,
        roles: holder.roles,
    })
}
