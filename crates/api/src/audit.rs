//! The audit trail as use cases: verify (a ledger or an export), export, and
//! the rows the desktop's audit viewer shows.

use std::path::Path;

use countersign_ledger::{
    export, html_report, verify_export, AuditEvent, EventKind, Export, Ledger,
};
use serde::Serialize;

use crate::contract::{AuditCheck, AuditFilter, AuditRow, AuditTrail};
use crate::ApiError;
use crate::ErrorCode;

#[derive(Debug, Clone, Serialize)]
pub struct AuditVerdict {
    pub holds: bool,
    pub size: u64,
    pub head: String,
    /// The first place the trail does not hold, precisely.
    pub problem: Option<String>,
}

fn verdict(result: Result<(u64, [u8; 32]), countersign_ledger::Break>) -> AuditVerdict {
    match result {
        Ok((size, head)) => AuditVerdict {
            holds: true,
            size,
            head: hex::encode(head),
            problem: None,
        },
        Err(b) => AuditVerdict {
            holds: false,
            size: 0,
            head: String::new(),
            problem: Some(b.to_string()),
        },
    }
}

/// `countersign audit verify --db FILE`.
pub fn verify_db(path: &Path) -> Result<AuditVerdict, ApiError> {
    if !path.exists() {
        return Err(ApiError::new(
            ErrorCode::LedgerNotFound,
            format!("{} does not exist", path.display()),
        ));
    }
    let ledger = Ledger::open(path)?;
    let integrity = ledger.integrity_check()?;
    if integrity != "ok" {
        return Ok(AuditVerdict {
            holds: false,
            size: 0,
            head: String::new(),
            problem: Some(format!("SQLite integrity check: {integrity}")),
        });
    }
    let v = verdict(ledger.verify()?);
    if !v.holds {
        return Ok(v);
    }
    // Checkpoints backed by signed records: the record must name that very head.
    let records = ledger.records()?;
    for cp in ledger.checkpoints()? {
        let Some(id) = cp
            .signature
            .strip_prefix(crate::signatures::RECORD_CHECKPOINT)
        else {
            continue;
        };
        let named = records
            .iter()
            .find(|r| r.id.to_string() == id)
            .and_then(|r| {
                serde_json::from_slice::<countersign_signing::dsse::Envelope>(&r.envelope).ok()
            })
            .and_then(|e| countersign_signing::statement::Statement::of(&e))
            .and_then(|s| s.predicate.audit_head);
        if named.as_deref() != Some(&format!("{}:{}", cp.size, cp.head)) {
            return Ok(AuditVerdict {
                holds: false,
                size: v.size,
                head: v.head,
                problem: Some(format!(
                    "the checkpoint at entry {} is not the one signed record {id} names",
                    cp.size
                )),
            });
        }
    }
    Ok(v)
}

/// `countersign audit verify --export FILE`: needs nothing but the file.
pub fn verify_export_file(bytes: &[u8]) -> Result<AuditVerdict, ApiError> {
    let export: Export = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::AuditBadExport,
            format!("not a Countersign audit export: {e}"),
        )
    })?;
    Ok(verdict(verify_export(&export)))
}

/// Write `audit.json` (machine-readable, verifiable) and `audit.html` (for
/// people) into `out_dir`, recording the export itself in the trail first.
pub fn export_to(
    ledger_path: &Path,
    out_dir: &Path,
    actor: &str,
) -> Result<AuditVerdict, ApiError> {
    let mut ledger = Ledger::open(ledger_path)?;
    ledger.append(&AuditEvent::now(
        EventKind::Export,
        actor,
        out_dir.display().to_string(),
    ))?;
    let exported = export(&ledger)?;
    let result = verify_export(&exported);
    let html = html_report(&exported, &result);
    std::fs::create_dir_all(out_dir)
        .and_then(|()| {
            std::fs::write(
                out_dir.join("audit.json"),
                serde_json::to_vec_pretty(&exported).unwrap_or_default(),
            )
        })
        .and_then(|()| std::fs::write(out_dir.join("audit.html"), html))
        .map_err(|e| {
            ApiError::new(
                ErrorCode::Io,
                format!("cannot write the export to {}: {e}", out_dir.display()),
            )
        })?;
    Ok(verdict(result))
}

/// The audit viewer's rows (newest first, at most `limit`) and a fresh check of the chain.
pub fn trail(ledger: &Ledger, filter: &AuditFilter, limit: usize) -> Result<AuditTrail, ApiError> {
    let contains = |hay: &str, needle: &Option<String>| {
        needle
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .is_none_or(|n| hay.to_lowercase().contains(&n.to_lowercase()))
    };
    let since = filter.since.as_deref().filter(|s| !s.is_empty()).map(|s| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|e| ApiError::invalid_input(format!("since {s:?}: {e}")))
    });
    let since = since.transpose()?;
    let events = ledger.events(usize::MAX >> 1)?;
    let names: std::collections::HashMap<String, String> =
        countersign_ledger::printed_names(events.iter().map(|(_, e)| e))
            .into_iter()
            .map(|(actor, name)| (actor.to_owned(), name.to_owned()))
            .collect();
    let rows = events
        .into_iter()
        .filter(|(_, e)| {
            let kind = e.kind.as_str();
            contains(&e.object, &filter.object)
                && (contains(&e.actor, &filter.actor)
                    || names
                        .get(&e.actor)
                        .is_some_and(|n| contains(n, &filter.actor)))
                && filter
                    .kind
                    .as_deref()
                    .filter(|k| !k.is_empty())
                    .is_none_or(|k| k == kind)
                && since.is_none_or(|t| {
                    chrono::DateTime::parse_from_rfc3339(&e.at_utc).is_ok_and(|at| at >= t)
                })
        })
        .take(limit)
        .map(|(seq, e)| AuditRow {
            seq,
            kind: e.kind.as_str().to_owned(),
            printed_name: names.get(&e.actor).cloned(),
            actor: e.actor,
            at_utc: e.at_utc,
            local_offset: e.local_offset,
            forge_time: e.forge_time,
            object: e.object,
            old_value: e.old_value,
            new_value: e.new_value,
            reason: e.reason,
            detail: e.detail,
        })
        .collect();
    let v = verdict(ledger.verify()?);
    Ok(AuditTrail {
        rows,
        check: AuditCheck {
            holds: v.holds,
            size: v.size,
            head: v.head,
            problem: v.problem,
        },
    })
}
