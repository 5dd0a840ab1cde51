//! An inspector's dossier for one change: a folder that says who approved
//! it, what they saw and why, readable by a person (`index.html`) and
//! checkable by a machine (the DSSE bundle, the roster, the policy and the
//! evidence files, each listed with its SHA-256 in `MANIFEST.sha256`), with
//! `VERIFY.md` saying how to check it without Countersign's help.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use countersign_signing::verify::Bundle;
use serde::Serialize;

use crate::contract::Review;
use crate::digest::sha256_hex;
use crate::{ApiError, ErrorCode};

pub const MANIFEST: &str = "MANIFEST.sha256";
pub const BUNDLE: &str = "records.bundle.json";
pub const ROSTER: &str = "roster.json";
pub const POLICY: &str = "policy.toml";

/// What went into a dossier.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub dir: PathBuf,
    /// Every file, relative to `dir`, as the manifest lists it.
    pub files: Vec<String>,
    /// The same files in one archive, beside the folder (`<dir>.zip`).
    pub zip: PathBuf,
}

/// What a dossier's manifest says against its files.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub holds: bool,
    /// Files whose bytes are not the ones the manifest lists.
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    /// Files in the folder the manifest does not list.
    pub unlisted: Vec<String>,
}

/// Everything a dossier holds, gathered by the use case.
pub struct Contents<'a> {
    pub review: &'a Review,
    pub title: &'a str,
    pub base_sha: &'a str,
    pub bundle: &'a Bundle,
    pub roster_json: Vec<u8>,
    pub policy: Option<Vec<u8>>,
    pub evidence: Vec<(String, Vec<u8>)>,
    /// Audit-trail rows about this change: (time UTC, kind, actor, detail).
    pub trail: Vec<(String, String, String, String)>,
}

fn io(path: &Path, e: std::io::Error) -> ApiError {
    ApiError::new(
        ErrorCode::Io,
        format!("cannot write {}: {e}", path.display()),
    )
}

/// Forge text as HTML element content: written as text, never as markup
/// (the dossier puts none of it in an attribute).
fn text(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// A file name inside the dossier for an evidence name (`a.zip/junit.xml`):
/// path segments kept, nothing that climbs out.
fn evidence_path(name: &str) -> String {
    let parts: Vec<String> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .map(|p| p.replace(['\\', '\0'], "_"))
        .collect();
    format!("evidence/{}", parts.join("/"))
}

fn index_html(c: &Contents<'_>) -> String {
    let r = c.review;
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>Dossier: {}#{}</title>",
        text(&r.change_request.repo),
        r.change_request.number
    ));
    h.push_str("<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.2rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}@page{size:A4;margin:15mm}code{overflow-wrap:anywhere}</style></head><body>\n");
    h.push_str(&format!(
        "<h1>{}#{}: {}</h1>\n",
        text(&r.change_request.repo),
        r.change_request.number,
        text(c.title)
    ));
    h.push_str(&format!(
        "<p>Base commit <code>{}</code>, head commit <code>{}</code>.</p>\n",
        text(c.base_sha),
        text(&r.head_sha)
    ));
    h.push_str(&format!(
        "<h2>Verdict</h2><p><strong>{:?}</strong> — <code>{}</code></p>\n",
        r.verdict,
        text(&r.status_line)
    ));
    h.push_str(&format!(
        "<h2>Policy</h2><p>The policy in force at the base commit: <code>{}</code> (<code>{}</code> in this folder). Risk class <strong>{}</strong>{}.</p>\n",
        text(r.policy.digest.as_deref().unwrap_or("none")),
        POLICY,
        r.risk_class,
        if r.rules.is_empty() { String::new() } else { format!(" under the rules: {}", text(&r.rules.join(", "))) }
    ));
    h.push_str("<table><tr><th>Required</th><th>Signatures</th><th>Met</th></tr>\n");
    for q in &r.requirements {
        h.push_str(&format!(
            "<tr><td>{} ({})</td><td>{}/{} {}</td><td>{}</td></tr>\n",
            text(&q.role_title),
            text(&q.rule),
            q.signed_by.len(),
            q.needed,
            text(&q.signed_by.join(", ")),
            if q.met { "yes" } else { "no" }
        ));
    }
    h.push_str("</table>\n");
    h.push_str("<h2>Risk assessment (ISO 14971)</h2>\n");
    match (&r.assessment, &r.assessment_error) {
        (Some(a), _) => h.push_str(&format!(
            "<p>Hazard: {}. Hazardous situation: {}. Harm: {}. Severity {}; risk {} before the controls ({}), {} after. Verification: {}. Digest <code>{}</code>.</p>\n",
            text(&a.hazard), text(&a.hazardous_situation), text(&a.harm), text(&a.severity),
            text(&a.risk_before), text(&a.risk_controls.join("; ")), text(&a.risk_after),
            text(&a.verification.join("; ")), text(&a.digest)
        )),
        (None, Some(e)) => h.push_str(&format!("<p>Unreadable: {}</p>\n", text(e))),
        (None, None) => h.push_str("<p>None in the description.</p>\n"),
    }
    h.push_str("<h2>Evidence</h2><table><tr><th>File</th><th>What it says</th><th>SHA-256</th><th>From</th></tr>\n");
    for e in &r.evidence {
        h.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>\n",
            text(&evidence_path(&e.name)),
            text(&e.summary),
            text(&e.sha256),
            text(e.source.as_deref().unwrap_or(""))
        ));
    }
    h.push_str("</table>\n<h2>Signatures</h2><table><tr><th>Printed name</th><th>Role</th><th>Meaning</th><th>Signed (UTC)</th><th>Reason</th><th>Standing</th></tr>\n");
    for s in &r.signatures {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>\n",
            text(&s.printed_name),
            text(&s.role),
            s.meaning
                .map(|m| format!("{m:?}").to_lowercase())
                .unwrap_or_default(),
            text(&s.signed_at),
            text(&s.reason),
            s.standing,
            s.why
                .as_deref()
                .map(|w| format!(": {}", text(w)))
                .unwrap_or_default()
        ));
    }
    h.push_str("</table>\n<h2>Audit trail entries about this change (this device)</h2><table><tr><th>UTC</th><th>Event</th><th>Actor</th><th>Detail</th></tr>\n");
    for (at, kind, actor, detail) in &c.trail {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            text(at),
            text(kind),
            text(actor),
            text(detail)
        ));
    }
    h.push_str(&format!(
        "</table>\n<h2>How to verify</h2><p>See <code>VERIFY.md</code>: every file is listed with its SHA-256 in <code>{MANIFEST}</code>, and the signatures verify against <code>{ROSTER}</code> with <code>countersign verify</code> or any DSSE implementation.</p>\n</body></html>\n"
    ));
    h
}

fn verify_md(c: &Contents<'_>) -> String {
    format!(
        "# Verifying this dossier\n\n\
         1. The files are the ones listed, byte for byte:\n\n\
         ```sh\nsha256sum -c {MANIFEST}\ncountersign verify --dossier .\n```\n\n\
         Expected: every line `OK`, and `Dossier holds: every file as listed.`\n\n\
         2. The signatures hold over this change's head commit, against the roster of the policy at the base commit:\n\n\
         ```sh\ncountersign verify --bundle {BUNDLE} --keys {ROSTER} --commit {head}\n```\n\n\
         Expected: `All signatures verified.` (exit 0).\n\n\
         3. Without Countersign: each envelope in `{BUNDLE}` is a DSSE envelope (payload type `application/vnd.in-toto+json`) signed with ed25519; its key id is the SHA-256 of the raw public key in `{ROSTER}`. With Python's `securesystemslib`:\n\n\
         ```python\nimport base64, hashlib, json\nfrom securesystemslib.signer import SSlibKey\nfrom securesystemslib.dsse import Envelope\nroster = json.load(open('{ROSTER}'))\nkeys = [SSlibKey(hashlib.sha256(base64.b64decode(k['public_key'])).hexdigest(), 'ed25519', 'ed25519', {{'public': base64.b64decode(k['public_key']).hex()}}) for k in roster]\nfor e in json.load(open('{BUNDLE}'))['envelopes']:\n    env = Envelope.from_dict(e)\n    print(env.verify(keys, 1))\n```\n\n\
         Expected: for each envelope, the key id (and key) that verified it; a `VerificationError` means a signature does not hold.\n",
        head = c.review.head_sha
    )
}

/// Write the dossier for `c` into `dir` (created; its previous dossier files replaced).
pub fn write(dir: &Path, c: &Contents<'_>) -> Result<Written, ApiError> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("index.html".into(), index_html(c).into_bytes());
    files.insert("VERIFY.md".into(), verify_md(c).into_bytes());
    files.insert(
        BUNDLE.into(),
        serde_json::to_vec_pretty(c.bundle)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?,
    );
    files.insert(ROSTER.into(), c.roster_json.clone());
    if let Some(policy) = &c.policy {
        files.insert(POLICY.into(), policy.clone());
    }
    for (name, bytes) in &c.evidence {
        files.insert(evidence_path(name), bytes.clone());
    }
    let mut manifest = String::new();
    for (name, bytes) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
        // sha256sum's format: two spaces, then the path.
        manifest.push_str(&format!("{}  {name}\n", sha256_hex(bytes)));
    }
    let path = dir.join(MANIFEST);
    std::fs::write(&path, &manifest).map_err(|e| io(&path, e))?;
    files.insert(MANIFEST.to_owned(), manifest.into_bytes());
    // `<dir>.zip`, whatever dots the folder's name holds.
    let name = dir.file_name().map_or_else(
        || "dossier".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let zip = dir
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(format!("{name}.zip"));
    write_zip(&zip, &files)?;
    Ok(Written {
        dir: dir.to_owned(),
        files: files.into_keys().collect(),
        zip,
    })
}

/// `files` in one zip archive at `path`, under a folder named as the dossier's.
fn write_zip(path: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), ApiError> {
    use std::io::Write;
    let root = path.file_stem().map_or_else(
        || "dossier".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let file = std::fs::File::create(path).map_err(|e| io(path, e))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let failed = |e: &dyn std::fmt::Display| {
        ApiError::new(
            ErrorCode::Io,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    for (name, bytes) in files {
        zip.start_file(format!("{root}/{name}"), options)
            .map_err(|e| failed(&e))?;
        zip.write_all(bytes).map_err(|e| failed(&e))?;
    }
    zip.finish().map_err(|e| failed(&e))?;
    Ok(())
}

/// Every file under `dir`, relative, with `/` separators.
fn files_under(dir: &Path, at: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(at)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            files_under(dir, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(dir) {
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

/// `countersign verify --dossier DIR`: the files against the manifest.
pub fn check(dir: &Path) -> Result<Checked, ApiError> {
    let manifest = std::fs::read_to_string(dir.join(MANIFEST)).map_err(|e| {
        ApiError::new(
            ErrorCode::Io,
            format!("cannot read {}: {e}", dir.join(MANIFEST).display()),
        )
    })?;
    let mut listed = BTreeMap::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let Some((digest, name)) = line.split_once("  ") else {
            return Err(ApiError::invalid_input(format!(
                "{MANIFEST}: not a sha256sum line: {line:?}"
            )));
        };
        listed.insert(name.to_owned(), digest.to_owned());
    }
    let mut present = Vec::new();
    files_under(dir, dir, &mut present).map_err(|e| io(dir, e))?;
    let mut checked = Checked {
        holds: true,
        changed: Vec::new(),
        missing: Vec::new(),
        unlisted: Vec::new(),
    };
    for (name, digest) in &listed {
        match std::fs::read(dir.join(name)) {
            Ok(bytes) if sha256_hex(&bytes) == *digest => {}
            Ok(_) => checked.changed.push(name.clone()),
            Err(_) => checked.missing.push(name.clone()),
        }
    }
    for name in present {
        if name != MANIFEST && !listed.contains_key(&name) {
            checked.unlisted.push(name);
        }
    }
    checked.holds =
        checked.changed.is_empty() && checked.missing.is_empty() && checked.unlisted.is_empty();
    Ok(checked)
}
