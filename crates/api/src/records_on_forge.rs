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
/// What every records ref's name starts with (under `refs/`).
pub const RECORDS_REF_PREFIX: &str = "countersign/pr-";
/// `refs/countersign/pr-<n>`: one ref per change request, in its repository.
pub fn records_ref(number: u64) -> String {
    format!("{RECORDS_REF_PREFIX}{number}")
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

/// Commits of a records ref read before the gate gives up (fails closed):
/// one per push that changed the records, so far more than any change needs.
pub const MAX_REF_COMMITS: usize = 500;

/// When each record (by statement digest) is known to have reached the
/// forge: the earliest receipt comment naming it, by the forge's clock.
pub type Arrivals = std::collections::BTreeMap<String, chrono::DateTime<chrono::FixedOffset>>;

/// Marks a receipt: a comment posted when a record signed offline first
/// reaches the forge. Its `created_at` is the forge's, not the signer's.
pub const RECEIPT_MARKER: &str = "<!-- countersign:receipt -->";

/// A receipt for records (statement digests, `sha256:<hex>`).
pub fn receipt_body(digests: &[String]) -> String {
    let mut body = String::from(
        "Countersign: signed offline, these records reached the forge now (this comment's time dates them):\n\n",
    );
    for d in digests {
        body.push_str(&format!("- `{d}`\n"));
    }
    body.push('\n');
    body.push_str(RECEIPT_MARKER);
    body.push('\n');
    body
}

/// The statement digests a receipt lists.
fn receipt_digests(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("- `"))
        .filter_map(|rest| rest.strip_suffix('`'))
        .filter(|d| {
            d.strip_prefix("sha256:")
                .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .map(str::to_owned)
        .collect()
}

/// The records of a change request as the forge holds them.
#[derive(Debug, Clone, Default)]
pub struct OnForge {
    /// Every record found in the ref's whole history and in the records
    /// comments, each once: a commit or an edit that drops a record does not
    /// erase it.
    pub envelopes: Vec<Envelope>,
    /// `ref`, `comment` (no records ref) or `none`.
    pub source: &'static str,
    /// Valid records missing from the ref's tip or from the comment: the
    /// two places disagree, and the gate fails closed until a push repairs them.
    pub disagreements: Vec<String>,
    /// What was found but is not an approval statement at all, and why; never
    /// counted, never written back.
    pub left_out: Vec<String>,
    /// Of `envelopes`, those not provably forged against the policy's roster
    /// ([`verified_only`]): what a push may write back; `forged` says why
    /// each other one was not.
    pub valid: Vec<Envelope>,
    pub forged: Vec<String>,
    /// The change request's other comments, oldest first (for reading).
    pub other_comments: Vec<countersign_forge::Comment>,
    /// When records signed offline reached the forge, from receipts.
    pub arrivals: Arrivals,
}

/// The digest the records comment lists an envelope by when the bundle does
/// not fit: SHA-256 of its JSON.
pub fn envelope_digest(e: &Envelope) -> String {
    crate::digest::sha256_hex(&serde_json::to_vec(e).unwrap_or_default())
}

/// Envelope digests a compact records comment lists (`` `sha256:<hex>` ``).
fn listed_digests(body: &str) -> BTreeSet<String> {
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("- `sha256:"))
        .filter_map(|rest| rest.strip_suffix('`'))
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

/// Who signed a record and with what meaning, for messages.
fn describe(e: &Envelope) -> String {
    countersign_signing::statement::Statement::of(e)
        .map(|s| {
            format!(
                "the {} by {}",
                s.predicate.meaning, s.predicate.signer.printed_name
            )
        })
        .unwrap_or_else(|| format!("record sha256:{}", &envelope_digest(e)[..12]))
}

/// Records of a change request on the forge: the union of every version of
/// the records ref and of the comments that carry our marker, with where
/// they disagree. `policy` (the base's, restricted by its tip) decides which
/// records are valid enough that their absence from one place matters.
pub async fn read(
    forge: &dyn Forge,
    repo: &RepoId,
    number: u64,
    policy: Option<&countersign_policy::Policy>,
) -> Result<OnForge, ApiError> {
    let name = records_ref(number);
    let history = forge
        .read_ref_file_history(repo, &name, RECORDS_FILE, MAX_REF_COMMITS)
        .await
        .map_err(|e| match e {
            countersign_forge::ForgeError::TooLarge(why) => ApiError::new(
                ErrorCode::RecordsMalformed,
                format!("the records cannot be read whole: {why}"),
            ),
            e => e.into(),
        })?;
    let mut left_out = Vec::new();
    let mut from_ref = Vec::new();
    let mut tip = None;
    if let Some(h) = &history {
        for (commit, bytes) in &h.versions {
            match Bundle::parse(bytes) {
                Ok(bundle) => {
                    if *commit == h.tip {
                        tip = Some(bundle.envelopes.clone());
                    }
                    from_ref.push(bundle.envelopes);
                }
                Err(e) => left_out.push(format!(
                    "refs/{name} at {}: no readable bundle ({e})",
                    &commit[..commit.len().min(12)]
                )),
            }
        }
    }
    let mut from_comment = Vec::new();
    let mut comment_digests = BTreeSet::new();
    let mut comment_found = false;
    let mut other_comments = Vec::new();
    let mut arrivals = Arrivals::new();
    for c in forge.comments(repo, number).await? {
        if c.body.contains(RECEIPT_MARKER) {
            // Whoever wrote it, a receipt can only date a record later than
            // it was first seen: nobody lists a digest before knowing it.
            if let Some(at) = c.created_at {
                for d in receipt_digests(&c.body) {
                    let at = at.fixed_offset();
                    arrivals
                        .entry(d)
                        .and_modify(|t| *t = (*t).min(at))
                        .or_insert(at);
                }
            }
            continue;
        }
        if !c.body.contains(COMMENT_MARKER) {
            other_comments.push(c);
            continue;
        }
        comment_found = true;
        comment_digests.extend(listed_digests(&c.body));
        if let Some(bundle) = bundle_in_comment(&c.body) {
            comment_digests.extend(bundle.envelopes.iter().map(envelope_digest));
            from_comment.push(bundle.envelopes);
        }
    }
    let all = merge(from_ref.into_iter().chain(from_comment));
    let (statements, junk) = statements_only(all);
    left_out.extend(junk);
    let (valid, forged) = verified_only(statements.clone(), policy);

    let mut disagreements = Vec::new();
    if history.is_some() {
        let at_tip: BTreeSet<String> = tip.iter().flatten().map(envelope_digest).collect();
        for e in &valid {
            let d = envelope_digest(e);
            if !at_tip.contains(&d) {
                disagreements.push(format!("{} is missing from refs/{name}", describe(e)));
            }
            if !comment_found {
                continue;
            }
            if !comment_digests.contains(&d) {
                disagreements.push(format!(
                    "{} is missing from the records comment",
                    describe(e)
                ));
            }
        }
        if !comment_found && !valid.is_empty() {
            disagreements.push("the records comment is missing".to_owned());
        }
    }
    if !left_out.is_empty() {
        tracing::warn!(change = number, why = %left_out.join("; "), "records on the forge that are not approval statements were left out");
    }
    Ok(OnForge {
        valid,
        forged,
        envelopes: statements,
        source: match (history.is_some(), comment_found) {
            (true, _) => "ref",
            (false, true) => "comment",
            (false, false) => "none",
        },
        disagreements,
        left_out,
        other_comments,
        arrivals,
    })
}

/// The envelopes whose verification against `keys` reports none of the
/// findings `fatal` picks, and why each other one was left out.
fn sift(
    envelopes: Vec<Envelope>,
    keys: &[countersign_signing::verify::TrustedKey],
    fatal: fn(&countersign_signing::verify::Finding) -> bool,
) -> (Vec<Envelope>, Vec<String>) {
    use countersign_signing::verify::{verify_envelope, Expectations};
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for e in envelopes {
        let broken: Vec<String> = verify_envelope(&e, keys, &Expectations::default())
            .into_iter()
            .flat_map(|report| report.findings)
            .filter(fatal)
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

/// Findings that make an envelope no approval statement at all.
fn not_a_statement(f: &countersign_signing::verify::Finding) -> bool {
    use countersign_signing::verify::Finding;
    matches!(
        f,
        Finding::NoSignature
            | Finding::PayloadNotBase64
            | Finding::WrongPayloadType(_)
            | Finding::StatementMalformed(_)
            | Finding::WrongStatementType(_)
            | Finding::WrongPredicateType(_)
    )
}

/// The envelopes that are approval statements at all (whatever their
/// signatures), and why each other one was left out: what is not a statement
/// is nobody's record, so it neither counts nor fails the gate.
fn statements_only(envelopes: Vec<Envelope>) -> (Vec<Envelope>, Vec<String>) {
    sift(envelopes, &[], not_a_statement)
}

/// The envelopes that parse as approval statements and are not provably
/// forged (a bad signature by a key `policy`'s roster holds), and why each
/// other one was left out. Stale, refused and unknown-key records stay:
/// whether they count is the gate's to judge, a record made under an earlier
/// roster may be genuine, and a rejection must never be lost.
fn verified_only(
    envelopes: Vec<Envelope>,
    policy: Option<&countersign_policy::Policy>,
) -> (Vec<Envelope>, Vec<String>) {
    use countersign_signing::verify::Finding;
    let keys = policy.map(|p| p.trusted_keys()).unwrap_or_default();
    sift(envelopes, &keys, |f| {
        not_a_statement(f)
            || matches!(
                f,
                Finding::BadSignature(_)
                    | Finding::KeyIdMismatch { .. }
                    | Finding::SignerIsNotKeyOwner { .. }
            )
    })
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
