//! Where the records of a change request live on the forge — the
//! `refs/countersign/pr-<n>` ref and the comment that carries our marker —
//! and reading them back.

use std::collections::BTreeSet;

use countersign_forge::{Forge, RepoId};
use countersign_signing::dsse::Envelope;
use countersign_signing::verify::Bundle;

use crate::ApiError;
use crate::ErrorCode;

/// Marks our comment; only a comment by the signer's own account that carries
/// it is ever updated.
pub const COMMENT_MARKER: &str = "<!-- countersign:records v1 -->";

/// The file in the records ref.
pub const RECORDS_FILE: &str = "records.json";
/// `refs/countersign/pr-<n>`: one ref per change request, in its repository.
pub fn records_ref(number: u64) -> String {
    format!("countersign/pr-{number}")
}

/// Envelopes from a bundle in a comment: the last fenced JSON block that
/// parses as a bundle. Text around it may be edited without harm; an edited
/// envelope fails verification later.
pub fn bundle_in_comment(body: &str) -> Option<Bundle> {
    let mut found = None;
    let mut rest = body;
    while let Some(start) = rest.find("```json") {
        let after = &rest[start + "```json".len()..];
        let Some(end) = after.find("```") else { break };
        if let Ok(bundle) = Bundle::parse(after[..end].trim().as_bytes()) {
            found = Some(bundle);
        }
        rest = &after[end + 3..];
    }
    found
}

/// Records of a change request on the forge: the ref first; the comments
/// that carry our marker when the ref is missing.
pub async fn forge_records(
    forge: &dyn Forge,
    repo: &RepoId,
    number: u64,
) -> Result<(Vec<Envelope>, &'static str), ApiError> {
    if let Some((_, bytes)) = forge
        .read_ref_file(repo, &records_ref(number), RECORDS_FILE)
        .await?
    {
        let bundle = Bundle::parse(&bytes).map_err(|e| {
            ApiError::new(
                ErrorCode::RecordsMalformed,
                format!("refs/{} holds no readable bundle: {e}", records_ref(number)),
            )
        })?;
        return Ok((bundle.envelopes, "ref"));
    }
    let mut envelopes = Vec::new();
    let mut found = false;
    for c in forge.comments(repo, number).await? {
        if c.body.contains(COMMENT_MARKER) {
            if let Some(bundle) = bundle_in_comment(&c.body) {
                found = true;
                envelopes.extend(bundle.envelopes);
            }
        }
    }
    Ok((envelopes, if found { "comment" } else { "none" }))
}

/// The envelopes that parse as approval statements and are not provably
/// forged (a bad signature by a key `policy`'s roster holds), and why each
/// other one was left out. Stale, refused and unknown-key records stay:
/// whether they count is the gate's to judge, a record made under an earlier
/// roster may be genuine, and a rejection must never be lost.
pub fn verified_only(
    envelopes: Vec<Envelope>,
    policy: Option<&countersign_policy::Policy>,
) -> (Vec<Envelope>, Vec<String>) {
    use countersign_signing::verify::{verify_envelope, Expectations, Finding};
    let keys = policy.map(|p| p.trusted_keys()).unwrap_or_default();
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for e in envelopes {
        let broken: Vec<String> = verify_envelope(&e, &keys, &Expectations::default())
            .into_iter()
            .flat_map(|report| report.findings)
            .filter(|f| {
                matches!(
                    f,
                    Finding::NoSignature
                        | Finding::PayloadNotBase64
                        | Finding::WrongPayloadType(_)
                        | Finding::StatementMalformed(_)
                        | Finding::WrongStatementType(_)
                        | Finding::WrongPredicateType(_)
                        | Finding::BadSignature(_)
                        | Finding::KeyIdMismatch { .. }
                        | Finding::SignerIsNotKeyOwner { .. }
                )
            })
            .map(|f| f.to_string())
            .collect();
        if broken.is_empty() {
            kept.push(e);
        } else {
            dropped.push(broken.join(", "));
        }
    }
    (kept, dropped)
}

/// Union of record sets, each envelope once.
pub fn merge(sets: impl IntoIterator<Item = Vec<Envelope>>) -> Vec<Envelope> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for set in sets {
        for e in set {
            let key = serde_json::to_string(&e).unwrap_or_default();
            if seen.insert(key) {
                out.push(e);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_found_in_an_edited_comment() {
        let bundle = Bundle::new(Vec::new());
        let json = serde_json::to_string_pretty(&bundle).unwrap();
        let body = format!(
            "Edited intro by a maintainer.\n```json\n{{\"not\": \"a bundle\"}}\n```\n<details>\n\n```json\n{json}\n```\n</details>\nP.S. more text\n{COMMENT_MARKER}\n"
        );
        assert_eq!(bundle_in_comment(&body), Some(bundle));
        assert_eq!(bundle_in_comment("no records here"), None);
    }
}
