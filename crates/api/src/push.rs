//! Pushing signed records to the forge, exactly once in effect: one comment
//! per change request, found again by its marker and updated in place, and a
//! commit status that is only set when it differs from the forge's latest.
//! A push that the forge applied but whose answer was lost is therefore
//! harmless to repeat, and the outbox retries until the ledger records success.

use std::collections::BTreeMap;

use countersign_forge::{CommitStatus, Forge, RepoId, StatusState};
use countersign_ledger::{AuditEvent, EventKind, OutboxItem, PushState, StoredRecord};
use countersign_signing::dsse::Envelope;
use countersign_signing::manifestation::manifestation;
use countersign_signing::statement::Statement;
use serde::Serialize;

use crate::signatures::Signatures;
use crate::ApiError;

/// Marks our comment; only a comment by the signer's own account that carries
/// it is ever updated.
pub const COMMENT_MARKER: &str = "<!-- countersign:records v1 -->";
/// The status context branch protection can require.
pub const STATUS_CONTEXT: &str = "countersign/approval";
const MAX_STATUS_CHARS: usize = 140;

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PushReport {
    pub pushed: u32,
    pub failed: u32,
    pub errors: Vec<String>,
}

struct Signed {
    record: StoredRecord,
    statement: Statement,
    envelope: Envelope,
}

fn decode(record: StoredRecord) -> Option<Signed> {
    let envelope: Envelope = serde_json::from_slice(&record.envelope).ok()?;
    let statement: Statement = serde_json::from_slice(&envelope.payload_bytes().ok()?).ok()?;
    Some(Signed {
        record,
        statement,
        envelope,
    })
}

/// "Signed: B. Okafor (QA, approval), …" within GitHub's 140 characters.
pub fn status_description(signers: &[(String, String, String)]) -> String {
    let prefix = format!(
        "{} signature{}: ",
        signers.len(),
        if signers.len() == 1 { "" } else { "s" }
    );
    let suffix = " (policy not evaluated yet)";
    let mut out = prefix.clone();
    for (i, (name, role, meaning)) in signers.iter().enumerate() {
        let part = format!(
            "{}{name} ({role}, {meaning})",
            if i == 0 { "" } else { ", " }
        );
        if out.chars().count() + part.chars().count() + suffix.chars().count() + 2
            > MAX_STATUS_CHARS
        {
            out.push_str(&format!(", +{} more", signers.len() - i));
            break;
        }
        out.push_str(&part);
    }
    out.push_str(suffix);
    out.chars().take(MAX_STATUS_CHARS).collect()
}

/// The comment: a human-readable manifestation of every signature, then the
/// envelopes in machine-readable form, then the marker.
fn comment_body(signed: &[&Signed]) -> String {
    let mut body = String::from("### Countersign electronic signatures\n\n");
    for s in signed {
        for line in manifestation(&s.statement.predicate).lines() {
            body.push_str("> ");
            body.push_str(line);
            body.push('\n');
        }
        body.push('\n');
    }
    let bundle = countersign_signing::verify::Bundle::new(
        signed.iter().map(|s| s.envelope.clone()).collect(),
    );
    body.push_str("<details><summary>Signed records (DSSE envelopes; check with <code>countersign verify</code>)</summary>\n\n```json\n");
    body.push_str(&serde_json::to_string_pretty(&bundle).unwrap_or_default());
    body.push_str("\n```\n</details>\n\n");
    body.push_str(COMMENT_MARKER);
    body.push('\n');
    body
}

/// Push every change request that has records waiting in the outbox.
pub(crate) async fn push_pending(
    forge: &dyn Forge,
    signatures: &Signatures,
) -> Result<PushReport, ApiError> {
    let (outbox, records): (Vec<OutboxItem>, Vec<StoredRecord>) =
        signatures.with_ledger(|l| Ok((l.outbox()?, l.records()?)))?;
    let target = forge.host().to_owned();
    let waiting: Vec<&OutboxItem> = outbox
        .iter()
        .filter(|o| o.state == PushState::Pending && o.target == target)
        .collect();
    let mut by_change: BTreeMap<(String, u64), Vec<i64>> = BTreeMap::new();
    for item in &waiting {
        by_change
            .entry((item.repo.clone(), item.number))
            .or_default()
            .push(item.record_id);
    }
    if waiting.is_empty() {
        return Ok(PushReport::default());
    }
    let me = forge.current_user().await?;
    let actor = format!("{target}/{}/{}", me.id, me.login);
    let mut report = PushReport::default();
    for ((repo_name, number), waiting_ids) in by_change {
        let signed: Vec<Signed> = records
            .iter()
            .filter(|r| r.repo == repo_name && r.number == number)
            .cloned()
            .filter_map(decode)
            .collect();
        let outcome = push_one(forge, &me.login, &repo_name, number, &signed).await;
        let object = format!("{repo_name}#{number}");
        signatures.with_ledger(|l| {
            for id in &waiting_ids {
                let (kind, result) = match &outcome {
                    Ok(url) => (EventKind::Push, Ok(url.as_str())),
                    Err(e) => (EventKind::PushFailed, Err(e.message.as_str())),
                };
                let event =
                    AuditEvent::now(kind, actor.clone(), object.clone()).detail(match &outcome {
                        Ok(url) => format!("record {id} → {url}"),
                        Err(e) => format!("record {id}: {}", e.message),
                    });
                l.record_push(*id, &target, result, &event)?;
            }
            Ok(())
        })?;
        match outcome {
            Ok(_) => report.pushed += waiting_ids.len() as u32,
            Err(e) => {
                report.failed += waiting_ids.len() as u32;
                report.errors.push(format!("{object}: {}", e.message));
            }
        }
    }
    Ok(report)
}

async fn push_one(
    forge: &dyn Forge,
    me: &str,
    repo_name: &str,
    number: u64,
    signed: &[Signed],
) -> Result<String, ApiError> {
    let repo: RepoId = repo_name.parse()?;
    let Some(latest) = signed.iter().max_by_key(|s| s.record.id) else {
        return Err(ApiError::new(
            "push.no_records",
            "no readable records for this change request",
        ));
    };
    // Only records for the head that the latest one signed go in the status.
    let head = latest.record.head_sha.clone();
    let current: Vec<&Signed> = signed
        .iter()
        .filter(|s| s.record.head_sha == head)
        .collect();
    let all: Vec<&Signed> = signed.iter().collect();

    let body = comment_body(&all);
    let existing = forge
        .comments(&repo, number)
        .await?
        .into_iter()
        .find(|c| c.author == me && c.body.contains(COMMENT_MARKER));
    let comment = match existing {
        Some(c) if c.body == body => c,
        Some(c) => forge.update_comment(&repo, c.id, &body).await?,
        None => forge.create_comment(&repo, number, &body).await?,
    };

    let signers: Vec<(String, String, String)> = current
        .iter()
        .map(|s| {
            let p = &s.statement.predicate;
            (
                p.signer.printed_name.clone(),
                p.signer.role.clone(),
                p.meaning.to_string(),
            )
        })
        .collect();
    let wanted = CommitStatus {
        context: STATUS_CONTEXT.to_owned(),
        state: StatusState::Pending,
        description: Some(status_description(&signers)),
        target_url: Some(comment.web_url.clone()),
    };
    let latest_status = forge
        .commit_statuses(&repo, &head)
        .await?
        .into_iter()
        .find(|s| s.context == STATUS_CONTEXT);
    if latest_status.as_ref() != Some(&wanted) {
        forge.create_status(&repo, &head, &wanted).await?;
    }
    Ok(comment.web_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_descriptions_fit_githubs_limit() {
        let one = vec![(
            "Bob Okafor".to_owned(),
            "QA".to_owned(),
            "approval".to_owned(),
        )];
        assert_eq!(
            status_description(&one),
            "1 signature: Bob Okafor (QA, approval) (policy not evaluated yet)"
        );
        let many: Vec<_> = (0..20)
            .map(|i| {
                (
                    format!("Signer Number {i} With A Long Name"),
                    "Clinical Safety".to_owned(),
                    "responsibility".to_owned(),
                )
            })
            .collect();
        let text = status_description(&many);
        assert!(
            text.chars().count() <= 140,
            "{} chars: {text}",
            text.chars().count()
        );
        assert!(text.contains("more"), "{text}");
    }
}
