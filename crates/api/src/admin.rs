//! Administration: the policy on the tip of the default branch, checked as it
//! is edited, signers added from their enrolment records, and the result
//! proposed as a pull request — which the current policy then governs like
//! any other change.

use chrono::Utc;
use countersign_forge::{Forge, Proposal, RepoId};
use countersign_ledger::{AuditEvent, EventKind};
use countersign_policy::roster::{add_member, RosterError};

use crate::contract::{
    AddSigner, PolicyCheck, PolicyDraft, PolicyProblem, ProposePolicy, ProposedPolicy,
    RosterMember, RosterRole,
};
use crate::digest::sha256_hex;
use crate::snapshot::POLICY_PATH;
use crate::stores::Stores;
use crate::ApiError;
use crate::ErrorCode;

/// The starting point when a repository has no policy yet.
const EMPTY_POLICY: &str = "# .countersign/policy.toml — see docs/policy.md\nversion = 1\n";

pub fn check(text: &str) -> PolicyCheck {
    match countersign_policy::parse(text) {
        Err(e) => PolicyCheck {
            text: text.to_owned(),
            problem: Some(PolicyProblem {
                line: u32::try_from(e.line).unwrap_or(u32::MAX),
                column: u32::try_from(e.column).unwrap_or(u32::MAX),
                message: e.message,
            }),
            roles: Vec::new(),
            rules: Vec::new(),
        },
        Ok(p) => PolicyCheck {
            text: text.to_owned(),
            problem: None,
            roles: p
                .roles
                .iter()
                .map(|r| RosterRole {
                    name: r.name.clone(),
                    description: r.description.clone(),
                    members: r
                        .members
                        .iter()
                        .map(|m| RosterMember {
                            printed_name: m.printed_name.clone(),
                            login: m.login.clone(),
                            user_id: m.user_id,
                            keys: u32::try_from(m.keys.len()).unwrap_or(u32::MAX),
                            key_list: m
                                .keys
                                .iter()
                                .map(|k| crate::contract::RosterKey {
                                    public_key: k.public_key.to_base64(),
                                    fingerprint: k.public_key.fingerprint(),
                                    valid_until: k.valid_until.map(|t| t.to_rfc3339()),
                                    revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            rules: p.rules.iter().map(|r| r.name.clone()).collect(),
        },
    }
}

pub fn add_signer(request: AddSigner) -> Result<PolicyCheck, ApiError> {
    add_member(&request.text, &request.role, &request.record_json)
        .map(|text| check(&text))
        .map_err(|e| {
            let code = match e {
                RosterError::BadRecord(_) => ErrorCode::AdminBadEnrolmentRecord,
                RosterError::Policy(_) => ErrorCode::PolicyInvalid,
                RosterError::UnknownRole(_) => ErrorCode::AdminUnknownRole,
                RosterError::AlreadyThere(..) => ErrorCode::AdminAlreadyInRole,
                RosterError::NotEditable(_) => ErrorCode::PolicyInvalid,
                // A kind of refusal added later is still a refusal of the edit.
                _ => ErrorCode::PolicyInvalid,
            };
            ApiError::new(code, e.to_string())
        })
}

pub async fn draft(forge: &dyn Forge, repo_name: &str) -> Result<PolicyDraft, ApiError> {
    let repo: RepoId = repo_name.parse()?;
    let base_branch = forge.default_branch(&repo).await?;
    let current = forge.file_at(&repo, POLICY_PATH, &base_branch).await?;
    let (digest, text) = match current {
        Some(bytes) => (
            Some(format!("sha256:{}", sha256_hex(&bytes))),
            String::from_utf8(bytes).map_err(|_| {
                ApiError::new(
                    ErrorCode::PolicyInvalid,
                    format!("{POLICY_PATH} is not UTF-8 text"),
                )
            })?,
        ),
        None => (None, EMPTY_POLICY.to_owned()),
    };
    Ok(PolicyDraft {
        repo: repo_name.to_owned(),
        base_branch,
        digest,
        check: check(&text),
    })
}

/// A pull request from a new branch off `base_branch` carrying `files`
/// (the policy first), with `why` as its description.
pub(crate) async fn open_pull(
    forge: &dyn Forge,
    repo: &RepoId,
    base_branch: &str,
    files: &[(&str, &[u8])],
    title: &str,
    why: &str,
) -> Result<(countersign_forge::ChangeRequestSummary, String), ApiError> {
    let me = forge.current_user().await?;
    // Two proposals in one second (two administrators, a script) get two branches.
    let mut salt = [0u8; 3];
    getrandom::fill(&mut salt)
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("no randomness: {e}")))?;
    let branch = format!(
        "countersign/policy-{}-{}",
        Utc::now().format("%Y%m%d-%H%M%S"),
        hex::encode(salt)
    );
    let after = files
        .first()
        .map(|(_, text)| format!("sha256:{}", sha256_hex(text)))
        .unwrap_or_default();
    let body = format!(
        "{why}\n\nProposed with Countersign by @{}. This change is governed by the policy now on `{base_branch}`.\n\nPolicy digest after the change: `{after}`",
        me.login
    );
    let created = forge
        .propose_change(&Proposal {
            repo,
            base_branch,
            new_branch: &branch,
            files,
            title,
            body: &body,
        })
        .await?;
    Ok((created, branch))
}

/// Only a policy that parses is proposed: a broken one would block every change.
pub async fn propose(
    forge: &dyn Forge,
    stores: &Stores,
    request: ProposePolicy,
) -> Result<ProposedPolicy, ApiError> {
    let checked = check(&request.text);
    if let Some(p) = checked.problem {
        return Err(ApiError::new(
            ErrorCode::PolicyInvalid,
            format!("line {}, column {}: {}", p.line, p.column, p.message),
        ));
    }
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid_input(
            "say why the policy changes: it becomes the pull request's description",
        ));
    }
    let repo: RepoId = request.repo.parse()?;
    let base_branch = forge.default_branch(&repo).await?;
    let before = forge
        .file_at(&repo, POLICY_PATH, &base_branch)
        .await?
        .map(|b| format!("sha256:{}", sha256_hex(&b)));
    let after = format!("sha256:{}", sha256_hex(request.text.as_bytes()));
    let (created, branch) = open_pull(
        forge,
        &repo,
        &base_branch,
        &[(POLICY_PATH, request.text.as_bytes())],
        "Update the Countersign approval policy",
        reason,
    )
    .await?;
    let me = forge.current_user().await?;
    stores
        .record(
            AuditEvent::now(
                EventKind::SettingsChange,
                format!("{}/{}/{}", forge.host(), me.id, me.login),
                format!("{}:{POLICY_PATH}", request.repo),
            )
            .change(before.clone(), Some(after.clone()))
            .reason(reason.to_owned())
            .detail(format!("proposed as #{} from {branch}", created.number)),
        )
        .map(|_| ())?;
    Ok(ProposedPolicy {
        number: u32::try_from(created.number).unwrap_or(u32::MAX),
        branch,
    })
}
