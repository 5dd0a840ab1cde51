//! A self-contained copy of the trail that verifies on another machine:
//! machine-readable JSON carrying each entry's exact stored bytes, and an HTML
//! rendering for people.

use serde::{Deserialize, Serialize};

use crate::chain::{verify_chain, Break, ChainEntry};
use crate::store::check_checkpoints;
use crate::{AuditEvent, Checkpoint, Ledger, LedgerError};

pub const EXPORT_FORMAT: &str = "countersign-audit-export/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedEntry {
    pub seq: u64,
    /// The stored bytes, which are UTF-8 JSON, verbatim.
    pub entry: String,
    pub prev_hash: String,
    pub hash: String,
}

pub type ExportedCheckpoint = Checkpoint;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub format: String,
    pub exported_at: String,
    pub size: u64,
    pub head: String,
    pub entries: Vec<ExportedEntry>,
    pub checkpoints: Vec<ExportedCheckpoint>,
}

pub fn export(ledger: &Ledger) -> Result<Export, LedgerError> {
    let entries = ledger.entries()?;
    let (size, head) = ledger.head()?;
    let entries = entries
        .into_iter()
        .map(|e| {
            Ok(ExportedEntry {
                seq: e.seq,
                entry: String::from_utf8(e.bytes)
                    .map_err(|_| LedgerError::Corrupt(format!("entry {} is not UTF-8", e.seq)))?,
                prev_hash: hex::encode(e.prev_hash),
                hash: hex::encode(e.hash),
            })
        })
        .collect::<Result<_, LedgerError>>()?;
    Ok(Export {
        format: EXPORT_FORMAT.to_owned(),
        exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        size,
        head: hex::encode(head),
        entries,
        checkpoints: ledger.checkpoints()?,
    })
}

fn hash32(field: &str, seq: u64, text: &str) -> Result<[u8; 32], Break> {
    hex::decode(text)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| Break {
            seq,
            kind: crate::BreakKind::Altered,
            detail: format!("{field} is not 64 hex digits"),
        })
}

/// Verify an export on its own: the chain, its checkpoints, and that the
/// stated size and head are the chain's.
pub fn verify_export(export: &Export) -> Result<(u64, [u8; 32]), Break> {
    let mut entries = Vec::with_capacity(export.entries.len());
    for e in &export.entries {
        entries.push(ChainEntry {
            seq: e.seq,
            bytes: e.entry.as_bytes().to_vec(),
            prev_hash: hash32("prev_hash", e.seq, &e.prev_hash)?,
            hash: hash32("hash", e.seq, &e.hash)?,
        });
    }
    let heads: Vec<[u8; 32]> = entries.iter().map(|e| e.hash).collect();
    let (size, head) = verify_chain(entries)?;
    check_checkpoints(&export.checkpoints, size, |n| {
        heads.get(usize::try_from(n).ok()?.checked_sub(1)?).copied()
    })?;
    if size != export.size || hex::encode(head) != export.head {
        return Err(Break {
            seq: size.min(export.size) + 1,
            kind: crate::BreakKind::Truncated,
            detail: format!(
                "the export states {} entries ending in {}, the chain has {size}",
                export.size, export.head
            ),
        });
    }
    Ok((size, head))
}

/// Text for HTML (text and attribute values): `&`, `<`, `>`, `"` and `'` encoded.
fn escape(s: &str) -> String {
    html_escape::encode_safe(s).into_owned()
}

/// Each actor's printed name, as the trail itself last recorded it.
pub fn printed_names<'a>(
    events: impl Iterator<Item = &'a AuditEvent>,
) -> std::collections::HashMap<&'a str, &'a str> {
    events
        .filter_map(|e| Some((e.actor.as_str(), e.printed_name.as_deref()?)))
        .collect()
}

/// A static, script-free HTML page of the trail, for inspection and printing.
pub fn html_report(export: &Export, verdict: &Result<(u64, [u8; 32]), Break>) -> String {
    let events: Vec<Option<AuditEvent>> = export
        .entries
        .iter()
        .map(|e| serde_json::from_str(&e.entry).ok())
        .collect();
    let names = printed_names(events.iter().flatten());
    let mut rows = String::new();
    for (e, event) in export.entries.iter().zip(&events) {
        let cell = |f: &dyn Fn(&AuditEvent) -> String| event.as_ref().map(f).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=h>{}</td></tr>\n",
            e.seq,
            escape(&cell(&|ev| match &ev.forge_time {
                Some(forge) => format!("{} ({}); forge {forge}", ev.at_utc, ev.local_offset),
                None => format!("{} ({})", ev.at_utc, ev.local_offset),
            })),
            escape(&cell(&|ev| serde_json::to_value(ev.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())),
            escape(&cell(&|ev| match names.get(ev.actor.as_str()) {
                Some(name) => format!("{name} ({})", ev.actor),
                None => ev.actor.clone(),
            })),
            escape(&cell(&|ev| ev.object.clone())),
            escape(&cell(&|ev| match (&ev.old_value, &ev.new_value) {
                (None, None) => String::new(),
                (o, n) => format!("{} → {}", o.as_deref().unwrap_or("—"), n.as_deref().unwrap_or("—")),
            })),
            escape(&cell(&|ev| ev.reason.clone().or_else(|| ev.detail.clone()).unwrap_or_default())),
            &e.hash[..16],
        ));
    }
    let verdict_text = match verdict {
        Ok((size, head)) => format!("Verified: {size} entries, head {}", hex::encode(head)),
        Err(b) => format!("NOT VERIFIED — {b}"),
    };
    format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>\
<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>Countersign audit trail</title><style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:13px}}\
td,th{{border:1px solid #ccc;padding:4px 6px;vertical-align:top}}.h{{font-family:monospace}}</style></head><body>\
<h1>Countersign audit trail</h1><p>Exported {exported}. {verdict}</p>\
<table><thead><tr><th>#</th><th>When (UTC, local offset)</th><th>What</th><th>Who</th><th>Object</th><th>Change</th><th>Reason / detail</th><th>Hash</th></tr></thead>\
<tbody>\n{rows}</tbody></table></body></html>\n",
        exported = escape(&export.exported_at),
        verdict = escape(&verdict_text),
    )
}
