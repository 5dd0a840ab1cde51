//! The audit trail as use cases: verify (a ledger or an export), export, and
//! the rows the desktop's audit viewer shows.

use std::path::Path;

use countersign_ledger::{
    export, html_report, verify_export, AuditEvent, EventKind, Export, Ledger,
};
use serde::Serialize;

use crate::ApiError;

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
            "ledger.not_found",
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
    Ok(verdict(ledger.verify()?))
}

/// `countersign audit verify --export FILE`: needs nothing but the file.
pub fn verify_export_file(bytes: &[u8]) -> Result<AuditVerdict, ApiError> {
    let export: Export = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            "audit.bad_export",
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
                "io",
                format!("cannot write the export to {}: {e}", out_dir.display()),
            )
        })?;
    Ok(verdict(result))
}
