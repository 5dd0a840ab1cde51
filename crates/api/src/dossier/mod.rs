//! An inspector's dossier for one change: a folder that says who approved
//! it, what they saw and why, readable by a person (`index.html`, and
//! `dossier.pdf` with the same content) and
//! checkable by a machine (the DSSE bundle, the roster, the policy and the
//! evidence files, each listed with its SHA-256 in `MANIFEST.sha256`), with
//! `VERIFY.md` saying how to check it without Countersign's help.

mod document;
mod html;
mod pdf;

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
pub const PDF: &str = "dossier.pdf";

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
    let document = document::build(c);
    files.insert("index.html".into(), html::render(&document).into_bytes());
    files.insert(PDF.into(), pdf::render(&document, chrono::Utc::now())?);
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
