//! `verify`: check a bundle of approval records against what the verifier
//! holds — the commit, the diff, the evidence files and the trusted keys.

pub use countersign_signing::verify::BUNDLE_MEDIA_TYPE;
use countersign_signing::verify::{verify_bundle, Bundle, Expectations, TrustedKey};
use countersign_signing::EvidenceFile;
use serde::Serialize;

use countersign_signing::dsse::Envelope;

use crate::digest::sha256_hex;
use crate::ApiError;
use crate::ErrorCode;

/// One signature's outcome, for people and for machines.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureOutcome {
    pub key_id: String,
    pub manifestation: Option<String>,
    /// Empty when the signature holds; otherwise one precise reason per problem.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyOutcome {
    pub holds: bool,
    pub signatures: Vec<SignatureOutcome>,
}

/// What `countersign verify --bundle` was given, already read from disk.
pub struct VerifyInput {
    pub bundle: Vec<u8>,
    /// A JSON array of trusted keys (enrolment records from the policy roster).
    pub keys: Option<Vec<u8>>,
    pub commit: Option<String>,
    pub diff: Option<Vec<u8>>,
    /// `(name, bytes)`; when any is given the evidence set must match exactly.
    pub evidence: Vec<(String, Vec<u8>)>,
}

pub fn verify_offline(input: VerifyInput) -> Result<VerifyOutcome, ApiError> {
    let bundle =
        Bundle::parse(&input.bundle).map_err(|e| ApiError::new(ErrorCode::VerifyBadBundle, e))?;
    let keys: Vec<TrustedKey> = match &input.keys {
        Some(bytes) => serde_json::from_slice(bytes).map_err(|e| {
            ApiError::new(
                ErrorCode::VerifyBadKeys,
                format!("the keys file is not a list of trusted keys: {e}"),
            )
        })?,
        None => Vec::new(),
    };
    let expect = Expectations {
        // Offline, the verifier names only what it holds: commit, diff, evidence.
        change_request: None,
        commit: input.commit.map(|c| c.to_ascii_lowercase()),
        diff_sha256: input.diff.as_deref().map(sha256_hex),
        evidence: (!input.evidence.is_empty()).then(|| {
            input
                .evidence
                .iter()
                .map(|(name, bytes)| EvidenceFile {
                    name: name.clone(),
                    sha256: sha256_hex(bytes),
                })
                .collect()
        }),
    };
    let report = verify_bundle(&bundle, &keys, &expect);
    let no_keys_hint = keys.is_empty();
    Ok(VerifyOutcome {
        holds: report.holds(),
        signatures: report
            .signatures
            .into_iter()
            .map(|s| SignatureOutcome {
                key_id: s.key_id,
                manifestation: s.manifestation,
                problems: s
                    .findings
                    .iter()
                    .map(|f| {
                        let text = f.to_string();
                        if no_keys_hint && matches!(f, countersign_signing::verify::Finding::UnknownKey(_)) {
                            format!("{text} (no trusted keys were given: pass --keys with the policy roster)")
                        } else {
                            text
                        }
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// A Countersign bundle holding one envelope (as `SignedRecord.envelope_json`
/// carries it), serialized through the record types so the file is exactly
/// what `verify --bundle` and other DSSE tools read.
pub fn bundle_of(envelope_json: &str) -> Result<Vec<u8>, ApiError> {
    let envelope: Envelope = serde_json::from_str(envelope_json).map_err(|e| {
        ApiError::new(
            ErrorCode::VerifyBadBundle,
            format!("not a DSSE envelope: {e}"),
        )
    })?;
    serde_json::to_vec_pretty(&Bundle::new(vec![envelope]))
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
}
