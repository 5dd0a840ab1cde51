//! Test evidence as a signature covers it: every file hashed (SHA-256), the
//! formats reviewers rely on summarised (JUnit XML, Cobertura and LCOV
//! coverage, SARIF findings), and CI artifact zips opened without trusting
//! their names, their sizes or their compression.
//!
//! Everything that goes wrong names the file it went wrong in.

mod archive;
mod error;
mod formats;
mod summary;

pub use archive::{extract_zip, Limits};
pub use error::{EvidenceError, Problem};
pub use formats::{detect, Kind};
pub use summary::{
    CoverageSummary, Finding, FindingSummary, Overview, Summary, TestOutcome, TestProblem,
    TestSummary,
};

use sha2::{Digest, Sha256};

/// One evidence file: its name, digest and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceFile {
    /// Path-like name, e.g. `test-results/junit.xml` or `coverage.zip/lcov.info`.
    pub name: String,
    /// Lowercase hex SHA-256 of the exact bytes.
    pub sha256: String,
    pub size: u64,
    pub kind: Kind,
    pub summary: Summary,
    /// The exact bytes, kept for offline reading and independent re-checking.
    pub content: Vec<u8>,
}

/// Hash and summarise one file. A file that claims a format and does not
/// parse is an error, not an empty summary: a broken report is not a pass.
pub fn read(name: &str, bytes: &[u8]) -> Result<EvidenceFile, EvidenceError> {
    let kind = detect(name, bytes);
    let summary = formats::summarise(kind, bytes).map_err(|p| EvidenceError::new(name, p))?;
    Ok(EvidenceFile {
        name: name.to_owned(),
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
        kind,
        summary,
        content: bytes.to_vec(),
    })
}

/// Every file of a CI artifact zip, named `<archive>/<path>`.
pub fn read_artifact(
    archive_name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<EvidenceFile>, EvidenceError> {
    extract_zip(archive_name, bytes, limits)?
        .into_iter()
        .map(|(path, data)| read(&format!("{archive_name}/{path}"), &data))
        .collect()
}
