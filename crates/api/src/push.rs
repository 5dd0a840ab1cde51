//! Pushing signed records to the forge, exactly once in effect: the records
//! in `refs/countersign/pr-<n>` (moved only when they change), one comment per
//! change request, found again by its marker and updated in place, and the
//! `countersign/approval` status from the policy's evaluation of every record,
//! set only when it differs from the forge's latest.
//! A push that the forge applied but whose answer was lost is therefore
//! harmless to repeat, and the outbox retries until the ledger records success.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use countersign_forge::{CommitStatus, Forge, ForgeError, RepoId, StatusState};
use countersign_ledger::{AuditEvent, EventKind, OutboxItem, PushState, StoredRecord};
use countersign_policy::Verdict;
use countersign_signing::dsse::Envelope;
use countersign_signing::manifestation::manifestation;
use countersign_signing::statement::Statement;
use countersign_signing::verify::Bundle;
use serde::Serialize;

use crate::contract::ChangeRequestRef;
use crate::digest::sha256_hex;
use crate::records_on_forge::{self, RECORDS_FILE};
use crate::stores::Stores;
use crate::ErrorCode;
use crate::{review, snapshot, ApiError};

pub use crate::records_on_forge::COMMENT_MARKER;
/// The status context branch protection can require.
pub const STATUS_CONTEXT: &str = "countersign/approval";

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PushReport {
    pub pushed: u32,
    pub failed: u32,
    pub errors: Vec<String>,
}

fn decode(record: StoredRecord) -> Option<Envelope> {
    serde_json::from_slice(&record.envelope).ok()
}

/// The comment: a human-readable manifestation of every signature, then the
/// envelopes in machine-readable form, then the marker.
/// GitHub refuses issue comment bodies longer than this (characters).
const COMMENT_MAX_CHARS: usize = 65_536;

/// The records comment: every manifestation, then the bundle of envelopes.
/// When that does not fit a comment, the bundle gives way to each
/// envelope's digest and a pointer to the records ref, which holds them all.
fn comment_body(envelopes: &[Envelope], status_line: &str, number: u64) -> String {
    let mut head = String::from("### Countersign electronic signatures\n\n");
    head.push_str(&format!("**Status:** {status_line}\n\n"));
    let mut shown = String::new();
    for e in envelopes {
        let Some(statement) = Statement::of(e) else {
            continue;
        };
        for line in manifestation(&statement.predicate).lines() {
            shown.push_str("> ");
            shown.push_str(line);
            shown.push('\n');
        }
        shown.push('\n');
    }
    let tail = format!("{COMMENT_MARKER}\n");
    let bundle = Bundle::new(envelopes.to_vec());
    let whole = format!(
        "{head}{shown}<details><summary>Signed records (DSSE envelopes; check with <code>countersign verify</code>)</summary>\n\n```json\n{}\n```\n</details>\n\n{tail}",
        serde_json::to_string_pretty(&bundle).unwrap_or_default()
    );
    if whole.chars().count() <= COMMENT_MAX_CHARS {
        return whole;
    }
    let digests: String = envelopes
        .iter()
        .map(|e| {
            let json = serde_json::to_vec(e).unwrap_or_default();
            format!("- `sha256:{}`\n", sha256_hex(&json))
        })
        .collect();
    let pointer = format!(
        "The signed records are too large for a comment: they are in `refs/{}` (`{RECORDS_FILE}`), with these envelope digests:\n\n",
        records_on_forge::records_ref(number)
    );
    let mut body = head;
    // Manifestations first; past the limit, say how many are not shown.
    let room = COMMENT_MAX_CHARS.saturating_sub(
        body.chars().count()
            + pointer.chars().count()
            + digests.chars().count()
            + tail.chars().count()
            + 200,
    );
    if shown.chars().count() <= room {
        body.push_str(&shown);
    } else {
        body.extend(shown.chars().take(room));
        body.push_str("\n… (more signatures: see the records ref)\n\n");
    }
    body.push_str(&pointer);
    if body.chars().count() + digests.chars().count() + tail.chars().count() <= COMMENT_MAX_CHARS {
        body.push_str(&digests);
    }
    body.push('\n');
    body.push_str(&tail);
    body
}

/// Snapshots already read by this session, by (repository, number): a push
/// right after a signature uses the one the signature was made from.
pub(crate) type Kept = std::collections::HashMap<(String, u32), Arc<snapshot::Gathered>>;

/// Push every change request that has records waiting in the outbox.
pub(crate) async fn push_pending(
    forge: &dyn Forge,
    stores: &Stores,
    kept: &Kept,
) -> Result<PushReport, ApiError> {
    let outbox: Vec<OutboxItem> = stores.with_ledger(|l| Ok(l.outbox()?))?;
    let target = forge.host().to_owned();
    let mut by_change: BTreeMap<(String, u64), Vec<i64>> = BTreeMap::new();
    for item in outbox
        .iter()
        .filter(|o| o.state == PushState::Pending && o.target == target)
    {
        by_change
            .entry((item.repo.clone(), item.number))
            .or_default()
            .push(item.record_id);
    }
    let mut report = PushReport::default();
    for ((repo_name, number), waiting_ids) in by_change {
        push_logged(
            forge,
            stores,
            kept,
            &repo_name,
            number,
            &waiting_ids,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// Push the records of one change request whether or not any wait in the
/// outbox: what repairs a records ref or comment that lost records.
pub(crate) async fn push_change(
    forge: &dyn Forge,
    stores: &Stores,
    kept: &Kept,
    repo_name: &str,
    number: u64,
) -> Result<PushReport, ApiError> {
    let target = forge.host().to_owned();
    let waiting_ids: Vec<i64> = stores.with_ledger(|l| {
        Ok(l.outbox()?
            .into_iter()
            .filter(|o| {
                o.state == PushState::Pending
                    && o.target == target
                    && o.repo == repo_name
                    && o.number == number
            })
            .map(|o| o.record_id)
            .collect())
    })?;
    let mut report = PushReport::default();
    push_logged(
        forge,
        stores,
        kept,
        repo_name,
        number,
        &waiting_ids,
        &mut report,
    )
    .await?;
    Ok(report)
}

/// Push one change request and write the outcome to the trail: per record
/// waiting in the outbox, or as one event when none was waiting.
async fn push_logged(
    forge: &dyn Forge,
    stores: &Stores,
    kept: &Kept,
    repo_name: &str,
    number: u64,
    waiting_ids: &[i64],
    report: &mut PushReport,
) -> Result<(), ApiError> {
    let target = forge.host().to_owned();
    let local: Vec<(i64, Envelope)> = stores.with_ledger(|l| {
        Ok(l.records()?
            .into_iter()
            .filter(|r| r.repo == repo_name && r.number == number)
            .filter_map(|r| Some((r.id, decode(r)?)))
            .collect())
    })?;
    let signed: Vec<Envelope> = local.iter().map(|(_, e)| e.clone()).collect();
    let me = forge.current_user().await?;
    let actor = format!("{target}/{}/{}", me.id, me.login);
    let key = (
        repo_name.to_owned(),
        u32::try_from(number).unwrap_or(u32::MAX),
    );
    let outcome = push_one(
        forge,
        kept.get(&key).cloned(),
        &me.login,
        repo_name,
        number,
        &signed,
    )
    .await;
    let (outcome, held) = match outcome {
        Ok((url, held)) => (Ok(url), held),
        Err(e) => (Err(e), Vec::new()),
    };
    // Records signed offline whose change moved since: kept here, not pushed.
    let held_ids: BTreeMap<i64, String> = local
        .iter()
        .filter_map(|(id, e)| {
            let d = e.statement_digest()?;
            held.iter()
                .find(|(h, _)| *h == d)
                .map(|(_, why)| (*id, why.clone()))
        })
        .collect();
    let object = format!("{repo_name}#{number}");
    let event_for = |what: String| {
        let kind = if outcome.is_ok() {
            EventKind::Push
        } else {
            EventKind::PushFailed
        };
        stores.with_forge_time(AuditEvent::now(kind, actor.clone(), object.clone()).detail(
            match &outcome {
                Ok(url) => format!("{what} → {url}"),
                Err(e) => format!("{what}: {}", e.message),
            },
        ))
    };
    if waiting_ids.is_empty() {
        stores.record(event_for("records pushed again".to_owned()))?;
    } else {
        stores.with_ledger(|l| {
            for id in waiting_ids {
                let result = match (&outcome, held_ids.get(id)) {
                    (Ok(_), Some(why)) => Err(why.as_str()),
                    (Ok(url), None) => Ok(url.as_str()),
                    (Err(e), _) => Err(e.message.as_str()),
                };
                let event = match result {
                    Err(why) if outcome.is_ok() => stores.with_forge_time(
                        AuditEvent::now(EventKind::PushFailed, actor.clone(), object.clone())
                            .detail(format!("record {id}: {why}")),
                    ),
                    _ => event_for(format!("record {id}")),
                };
                l.record_push(*id, &target, result, &event)?;
            }
            Ok(())
        })?;
    }
    let held_waiting = waiting_ids
        .iter()
        .filter(|id| held_ids.contains_key(id))
        .count() as u32;
    let count = if waiting_ids.is_empty() {
        1
    } else {
        (waiting_ids.len() as u32).saturating_sub(held_waiting)
    };
    match outcome {
        Ok(_) => report.pushed += count,
        Err(e) => {
            report.failed += count;
            report.errors.push(format!("{object}: {}", e.message));
        }
    }
    for why in held_ids.values() {
        report.failed += 1;
        report.errors.push(format!("{object}: {why}"));
    }
    Ok(())
}

/// What moved since `statement` was signed offline from a kept snapshot,
/// against the change as the forge has it now `g` (empty: nothing did).
fn moved_since_offline(
    statement: &countersign_signing::statement::Statement,
    g: &snapshot::Gathered,
) -> Vec<String> {
    let p = &statement.predicate;
    let subject = |name: &str| {
        statement
            .subject
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.digest.get("sha256").cloned())
    };
    let mut moved = Vec::new();
    if p.change_request.head_sha != g.detail.item.head_sha {
        moved.push(format!(
            "the head commit ({} → {})",
            &p.change_request.head_sha[..10.min(p.change_request.head_sha.len())],
            &g.detail.item.head_sha[..10.min(g.detail.item.head_sha.len())]
        ));
    }
    if p.change_request.base_sha != g.detail.base_sha {
        moved.push("the base commit".to_owned());
    }
    if subject("diff").as_deref() != Some(g.diff_sha256().as_str()) {
        moved.push("the diff".to_owned());
    }
    let signed_evidence: BTreeSet<(String, String)> = statement
        .subject
        .iter()
        .filter_map(|s| {
            let name = s.name.strip_prefix("evidence/")?;
            Some((name.to_owned(), s.digest.get("sha256")?.clone()))
        })
        .collect();
    let now_evidence: BTreeSet<(String, String)> = g
        .evidence_digests()
        .into_iter()
        .map(|e| (e.name, e.sha256))
        .collect();
    if signed_evidence != now_evidence {
        moved.push("the evidence".to_owned());
    }
    let assessment = g
        .assessment
        .as_ref()
        .ok()
        .and_then(|a| a.as_ref().map(|f| f.digest.clone()));
    if p.risk_assessment_digest != assessment {
        moved.push("the risk assessment".to_owned());
    }
    if let (Some(signed), Ok(policy)) = (&p.labels, &g.policy) {
        let (_, now) = snapshot::change_of(g, &p.change_request.forge).rules_basis(policy);
        if *signed != now {
            moved.push(format!(
                "the labels the policy reads ([{}] → [{}])",
                signed.join(", "),
                now.join(", ")
            ));
        }
    }
    moved
}

async fn push_one(
    forge: &dyn Forge,
    kept: Option<Arc<snapshot::Gathered>>,
    me: &str,
    repo_name: &str,
    number: u64,
    signed: &[Envelope],
) -> Result<(String, Vec<(String, String)>), ApiError> {
    let repo: RepoId = repo_name.parse()?;
    // The snapshot the signature was made from, while it still holds.
    let gathered = snapshot::current(
        forge,
        kept,
        ChangeRequestRef {
            repo: repo_name.to_owned(),
            number: u32::try_from(number).unwrap_or(u32::MAX),
        },
    )
    .await?;
    let policy = gathered.policy.as_ref().ok();
    // Other signers' records (from their devices) stay, and any the ref or
    // the comment lost come back (from the ref's history or the other
    // place); ours join them. What does not verify against the roster (junk
    // planted in a comment) is reported and never written into the ref.
    let remote = records_on_forge::read(forge, &repo, number, policy).await?;
    if !remote.forged.is_empty() {
        tracing::warn!(
            change = %format!("{repo_name}#{number}"),
            dropped = remote.forged.len(),
            why = %remote.forged.join("; "),
            "records on the forge that do not verify were left out of the push"
        );
    }
    // Signed offline from a kept snapshot: pushed only while the change is
    // as it was then; else kept on this device, saying what moved.
    let mut held = Vec::new();
    let signed: Vec<Envelope> = signed
        .iter()
        .filter(|e| {
            let Some(statement) = Statement::of(e)
                .filter(|s| s.predicate.offline.is_some())
            else {
                return true;
            };
            let moved = moved_since_offline(&statement, &gathered);
            if moved.is_empty() {
                return true;
            }
            if let Some(d) = e.statement_digest() {
                held.push((
                    d,
                    format!(
                        "kept, not pushed: signed offline, and since then the forge changed {}; review the change again",
                        moved.join(", ")
                    ),
                ));
            }
            false
        })
        .cloned()
        .collect();
    let all = records_on_forge::merge([remote.valid, signed.clone()]);
    if all.is_empty() && !held.is_empty() {
        return Ok((String::new(), held));
    }
    if all.is_empty() {
        return Err(ApiError::new(
            ErrorCode::PushNoRecords,
            "no readable records for this change request",
        ));
    }

    store_in_ref(forge, &repo, number, &all).await?;

    // A record signed offline is dated on arrival by a receipt, whose time
    // is the forge's: the gate bounds its signing time by it.
    let mut arrivals = remote.arrivals.clone();
    let unreceipted: Vec<String> = signed
        .iter()
        .filter(|e| Statement::of(e).is_some_and(|s| s.predicate.offline.is_some()))
        .filter_map(Envelope::statement_digest)
        .filter(|d| !arrivals.contains_key(d))
        .collect();
    if !unreceipted.is_empty() {
        let receipt = forge
            .create_comment(&repo, number, &records_on_forge::receipt_body(&unreceipted))
            .await?;
        let at = receipt
            .created_at
            .unwrap_or_else(chrono::Utc::now)
            .fixed_offset();
        for d in unreceipted {
            arrivals.insert(d, at);
        }
    }

    let evaluation = snapshot::evaluate_change(&gathered, forge.host(), &all, &arrivals);
    let (state, line) = match &evaluation {
        Err(why) => (StatusState::Failure, review::blocked_line(&why.to_string())),
        Ok(e) => (
            match e.verdict {
                Verdict::Approved => StatusState::Success,
                Verdict::Pending => StatusState::Pending,
                Verdict::Rejected | Verdict::Failed | Verdict::Blocked(_) => StatusState::Failure,
            },
            e.status_line(),
        ),
    };

    let body = comment_body(&all, &line, number);
    // One comment per change request: ours if we made one, else the one
    // another signer made (write access lets us keep it current), else a new one.
    let marked: Vec<_> = forge
        .comments(&repo, number)
        .await?
        .into_iter()
        .filter(|c| c.body.contains(COMMENT_MARKER))
        .collect();
    let existing = marked
        .iter()
        .find(|c| c.author == me)
        .or_else(|| marked.first())
        .cloned();
    let comment = match existing {
        Some(c) if c.body == body => c,
        Some(c) => match forge.update_comment(&repo, c.id, &body).await {
            Ok(updated) => updated,
            Err(ForgeError::Forbidden(_) | ForgeError::NotFound(_)) if c.author != me => {
                forge.create_comment(&repo, number, &body).await?
            }
            Err(e) => return Err(e.into()),
        },
        None => forge.create_comment(&repo, number, &body).await?,
    };

    let head = gathered.detail.item.head_sha.clone();
    let wanted = CommitStatus {
        context: STATUS_CONTEXT.to_owned(),
        state,
        description: Some(line),
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
    Ok((comment.web_url, held))
}

/// Keep the records in `refs/countersign/pr-<n>` so they travel with the
/// repository even if the comment is edited or deleted. Without contents
/// write permission the comment alone carries them, and the log says so.
async fn store_in_ref(
    forge: &dyn Forge,
    repo: &RepoId,
    number: u64,
    envelopes: &[Envelope],
) -> Result<(), ApiError> {
    let name = records_on_forge::records_ref(number);
    let bytes = serde_json::to_vec_pretty(&Bundle::new(envelopes.to_vec()))
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let current = forge.read_ref_file(repo, &name, RECORDS_FILE).await?;
    if current.as_ref().map(|(_, b)| b) == Some(&bytes) {
        return Ok(());
    }
    let message = format!("Countersign records for #{number}");
    match forge
        .write_ref_file(repo, &name, RECORDS_FILE, &bytes, &message)
        .await
    {
        Ok(_) => Ok(()),
        Err(ForgeError::Forbidden(why)) => {
            tracing::warn!(%why, "no permission to write refs/{name}: the records live in the comment only");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
