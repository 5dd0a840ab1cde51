//! The local audit trail checked against the forge: every record this
//! device signed carries the head of the trail at that moment, and the
//! forge keeps the record where the signer's machine cannot rewrite it. A
//! trail shorter than, or diverging from, a head one of its records signed
//! was cut or replaced.

use serde::Serialize;

/// One record of this device on the forge and what it says of the trail.
#[derive(Debug, Clone, Serialize)]
pub struct Witness {
    /// `owner/repo#n`, meaning and signing time.
    pub record: String,
    /// `size:hash` of the trail when the record was signed.
    pub head: String,
    /// Why the trail does not hold against this head; `None` when it does.
    pub problem: Option<String>,
}

/// The outcome of `countersign audit verify --forge …`.
#[derive(Debug, Clone, Serialize)]
pub struct WitnessReport {
    pub holds: bool,
    /// Entries in the local trail.
    pub trail_size: u64,
    /// The local trail's own check (chain and checkpoints), when it fails.
    pub trail_problem: Option<String>,
    pub witnesses: Vec<Witness>,
}

/// Not yet built (issue 12 §5): the test comes first.
pub(crate) async fn check() -> Result<WitnessReport, crate::ApiError> {
    Err(crate::ApiError::new(
        crate::ErrorCode::Internal,
        "audit verification against the forge is not built yet",
    ))
}
