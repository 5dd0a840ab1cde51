//! Review: everything about one change request that a signature covers or the
//! policy asks about — the policy at the base SHA, the risk assessment, the
//! evidence (checks, CI artifacts), the commits' people — and the records
//! gathered from this device, the `refs/countersign/` ref and the comment.

use std::collections::BTreeSet;

use countersign_evidence::{Limits, Overview, Summary};
use countersign_forge::{Check, CheckSource, CheckState, CommitInfo, Forge, ForgeReview, RepoId};
use countersign_policy::evaluate::{
    CheckFact, CheckState as PolicyCheck, EvidenceFacts, Standing, TestTotals,
};
use countersign_policy::risk::{find_assessment, AssessmentError, FoundAssessment};
use countersign_policy::{evaluate, Change, Evaluation, Policy};
use countersign_signing::dsse::Envelope;
use countersign_signing::verify::Bundle;
use countersign_signing::EvidenceFile;

use crate::contract::{
    AssessmentView, ChangeRequestDetail, ChangeRequestRef, CheckView, EvidenceCheckView,
    EvidenceView, ForgeReviewView, PolicyView, RequirementView, Review, RiskClass, SignatureView,
    Standing as StandingView, TestsView, Verdict,
};
use crate::push::COMMENT_MARKER;
use crate::verification::sha256_hex;
use crate::ErrorCode;
use crate::{queue, ApiError};

pub const POLICY_PATH: &str = ".countersign/policy.toml";
/// The file in the records ref.
pub const RECORDS_FILE: &str = "records.json";
/// CI artifacts above this are refused before download.
const MAX_ARTIFACT_BYTES: u64 = 256 * 1024 * 1024;

/// `refs/countersign/pr-<n>`: one ref per change request, in its repository.
pub fn records_ref(number: u64) -> String {
    format!("countersign/pr-{number}")
}

/// What was read from the forge for one change request.
pub struct Gathered {
    pub detail: ChangeRequestDetail,
    pub repo: RepoId,
    pub policy_digest: Option<String>,
    pub policy: Result<Policy, String>,
    pub assessment: Result<Option<FoundAssessment>, AssessmentError>,
    pub evidence: Vec<countersign_evidence::EvidenceFile>,
    pub evidence_problems: Vec<String>,
    /// CI artifacts that do not count, and why.
    pub evidence_ignored: Vec<String>,
    pub checks: Vec<Check>,
    pub commits: Vec<CommitInfo>,
    pub reviews: Vec<ForgeReview>,
}

impl Gathered {
    /// The evidence digests a signature made now must cover.
    pub fn evidence_digests(&self) -> Vec<EvidenceFile> {
        self.evidence
            .iter()
            .map(|e| EvidenceFile {
                name: e.name.clone(),
                sha256: e.sha256.clone(),
            })
            .collect()
    }

    pub fn diff_sha256(&self) -> String {
        sha256_hex(self.detail.diff.as_bytes())
    }
}

/// Read the change request, its base policy, assessment, evidence and commits.
pub async fn gather(forge: &dyn Forge, request: ChangeRequestRef) -> Result<Gathered, ApiError> {
    let repo: RepoId = request.repo.parse()?;
    let number = u64::from(request.number);
    let detail = queue::open(forge, request).await?;
    let head = detail.item.head_sha.clone();
    let (policy_bytes, tip_policy_bytes, default_branch, checks, commits, artifacts, reviews) = tokio::try_join!(
        forge.file_at(&repo, POLICY_PATH, &detail.base_sha),
        forge.file_at(&repo, POLICY_PATH, &detail.base_ref),
        forge.default_branch(&repo),
        forge.checks(&repo, &head),
        forge.commits(&repo, number),
        forge.artifacts(&repo, &head),
        forge.reviews(&repo, number),
    )?;
    let (policy_digest, policy) = match policy_bytes {
        None => (
            None,
            Err(format!(
                "{POLICY_PATH} does not exist at the base commit {}",
                short(&detail.base_sha)
            )),
        ),
        Some(bytes) => {
            let digest = format!("sha256:{}", sha256_hex(&bytes));
            let parsed = std::str::from_utf8(&bytes)
                .map_err(|_| format!("{POLICY_PATH} is not UTF-8 text"))
                .and_then(|text| countersign_policy::parse(text).map_err(|e| e.to_string()));
            (Some(digest), parsed)
        }
    };
    // What the protected branch has withdrawn since the base (revoked keys,
    // people out of a role) applies to open changes too; if its tip cannot
    // be read, that cannot be known, and the change is blocked.
    let base_ref = &detail.base_ref;
    let tip_policy_bytes_copy = tip_policy_bytes.clone();
    let policy = policy.and_then(|mut policy| {
        let bytes = tip_policy_bytes.ok_or_else(|| {
            format!("{POLICY_PATH} does not exist at the tip of {base_ref}, so revocations made there cannot be known")
        })?;
        let tip = std::str::from_utf8(&bytes)
            .map_err(|_| format!("{POLICY_PATH} at the tip of {base_ref} is not UTF-8 text"))
            .and_then(|text| {
                countersign_policy::parse(text)
                    .map_err(|e| format!("at the tip of {base_ref}, {e}"))
            })?;
        policy.restrict_to_tip(&tip, base_ref);
        Ok(policy)
    });
    // Which branches are protected is read from the default branch's tip,
    // never from the base: anyone who can push a branch can write a policy
    // on it, protecting itself.
    let anchor = if *base_ref == default_branch {
        tip_policy_bytes_copy
    } else {
        forge.file_at(&repo, POLICY_PATH, &default_branch).await?
    };
    let policy = policy.and_then(|policy| {
        let protected = match anchor.as_deref().map(std::str::from_utf8) {
            None => None,
            Some(Ok(text)) => Some(countersign_policy::parse(text).map_err(|e| {
                format!("at the tip of {default_branch}, {e}")
            })?),
            Some(Err(_)) => {
                return Err(format!(
                    "{POLICY_PATH} at the tip of {default_branch} is not UTF-8 text"
                ))
            }
        }
        .map_or_else(
            || *base_ref == default_branch,
            |p| p.protects(base_ref, &default_branch),
        );
        if protected {
            Ok(policy)
        } else {
            Err(format!(
                "{base_ref} is not a branch the policy protects ([gate] protected_branches on {default_branch})"
            ))
        }
    });
    let assessment = find_assessment(&detail.body);
    let mut detail = detail;
    // Separation of duties cannot be judged on commits the forge did not list.
    if (commits.len() as u64) < u64::from(detail.commits) {
        detail.missing.push(format!(
            "the forge listed {} of the {} commits; the others' authors are not known",
            commits.len(),
            detail.commits
        ));
    }

    let chosen = crate::ci_evidence::choose(
        forge,
        &repo,
        &detail.base_sha,
        &head,
        policy.as_ref().ok(),
        artifacts,
    )
    .await?;
    let mut evidence = Vec::new();
    let mut evidence_problems = Vec::new();
    for artifact in chosen.counted {
        let file_name = format!("{}.zip", artifact.name);
        // Unique per download: two reviews at once (or two forges with the
        // same artifact ids) must never share, and so clobber, a file.
        static DOWNLOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = DOWNLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dest = std::env::temp_dir().join(format!(
            "countersign-{}-{n}-{}.zip",
            std::process::id(),
            artifact.id
        ));
        let downloaded = forge
            .download_artifact(&repo, &artifact, &dest, MAX_ARTIFACT_BYTES)
            .await;
        let read = downloaded.map_err(ApiError::from).and_then(|_| {
            std::fs::read(&dest).map_err(|e| {
                ApiError::new(
                    ErrorCode::Io,
                    format!("cannot read {}: {e}", dest.display()),
                )
            })
        });
        let _ = std::fs::remove_file(&dest);
        match read {
            Err(e) => evidence_problems.push(format!("{file_name}: {}", e.message)),
            Ok(bytes) => {
                match countersign_evidence::read_artifact(&file_name, &bytes, &Limits::default()) {
                    Ok(files) => evidence.extend(files),
                    Err(e) => evidence_problems.push(e.to_string()),
                }
            }
        }
    }
    evidence.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Gathered {
        detail,
        repo,
        policy_digest,
        policy,
        assessment,
        evidence,
        evidence_problems,
        evidence_ignored: chosen.ignored,
        checks,
        commits,
        reviews,
    })
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
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

fn facts(g: &Gathered) -> EvidenceFacts {
    let checks = g
        .checks
        .iter()
        .map(|c| CheckFact {
            name: c.name.clone(),
            app: match &c.source {
                CheckSource::CheckRun { app } => app.clone(),
                CheckSource::Status => None,
            },
            is_status: c.source == CheckSource::Status,
            state: match c.state {
                CheckState::Success => PolicyCheck::Success,
                CheckState::Pending => PolicyCheck::Pending,
                CheckState::Failure | CheckState::Neutral => PolicyCheck::Failure,
            },
        })
        .collect();
    let overview = Overview::of(g.evidence.iter().map(|e| &e.summary));
    EvidenceFacts {
        checks,
        junit: overview.tests.map(|t| TestTotals {
            passed: t.passed,
            failed: t.failed + t.errored,
            skipped: t.skipped,
            failing: t.failing,
        }),
        coverage_percent: overview.coverage.and_then(|c| c.percent()),
    }
}

/// The change as the policy sees it.
pub fn change_of(g: &Gathered, forge_host: &str) -> Change {
    use countersign_policy::{Contributor, Part};
    let mut contributors = Vec::new();
    for c in &g.commits {
        let mut add = |user_id: Option<u64>, email: Option<&String>, part| {
            contributors.push(Contributor {
                user_id,
                email: email.cloned(),
                part,
                commit: c.sha.clone(),
            })
        };
        add(
            c.author.as_ref().map(|u| u.id),
            c.author_email.as_ref(),
            Part::Author,
        );
        add(
            c.committer.as_ref().map(|u| u.id),
            c.committer_email.as_ref(),
            Part::Committer,
        );
        for email in countersign_policy::contributors::co_authors(&c.message) {
            add(None, Some(&email), Part::CoAuthor);
        }
    }
    Change {
        change_request: countersign_signing::statement::ChangeRequestRef {
            forge: forge_host.to_owned(),
            repo_id: g.detail.repo_id,
            repo: g.detail.item.repo.clone(),
            number: u64::from(g.detail.item.number),
            base_ref: Some(g.detail.base_ref.clone()),
            base_sha: g.detail.base_sha.clone(),
            head_sha: g.detail.item.head_sha.clone(),
        },
        author_id: g.detail.item.author.id,
        contributors,
        // A rename or copy is judged by where the file was as well as where
        // it went: moving dosing code out of its folder keeps its rules.
        changed_paths: g
            .detail
            .files
            .iter()
            .flat_map(|f| std::iter::once(&f.path).chain(f.previous_path.as_ref()))
            .cloned()
            .collect(),
        labels: g.detail.item.labels.clone(),
        diff_sha256: g.diff_sha256(),
        evidence_files: g.evidence_digests(),
        evidence: facts(g),
        evidence_problems: g.evidence_problems.clone(),
        incomplete: g.detail.missing.clone(),
        assessment: g.assessment.clone(),
    }
}

/// Evaluate, or say why the policy cannot be applied.
pub fn evaluate_change(
    g: &Gathered,
    forge_host: &str,
    records: &[Envelope],
) -> Result<Evaluation, String> {
    let policy = g.policy.as_ref().map_err(Clone::clone)?;
    Ok(evaluate(policy, &change_of(g, forge_host), records))
}

fn summary_line(s: &Summary) -> String {
    match s {
        Summary::Tests(t) => format!(
            "{} passed, {} failed, {} skipped",
            t.passed,
            t.failed + t.errored,
            t.skipped
        ),
        Summary::Coverage(c) => c.percent().map_or("no lines".to_owned(), |p| {
            format!("{p:.1}% of lines covered")
        }),
        Summary::Findings(f) => {
            if f.by_level.is_empty() {
                "no findings".to_owned()
            } else {
                f.by_level
                    .iter()
                    .map(|(l, n)| format!("{n} {l}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
        Summary::Opaque => "not summarised".to_owned(),
    }
}

fn meaning_view(m: countersign_signing::Meaning) -> crate::contract::Meaning {
    use crate::contract::Meaning as M;
    match m {
        countersign_signing::Meaning::Authorship => M::Authorship,
        countersign_signing::Meaning::Review => M::Review,
        countersign_signing::Meaning::Approval => M::Approval,
        countersign_signing::Meaning::Responsibility => M::Responsibility,
        countersign_signing::Meaning::Rejection => M::Rejection,
    }
}

/// The review as the UI and the gate print it.
pub fn view(g: &Gathered, forge_host: &str, me: Option<u64>, records: &[Envelope]) -> Review {
    let evaluation = evaluate_change(g, forge_host, records);
    let overview = Overview::of(g.evidence.iter().map(|e| &e.summary));
    let (risk_class, rules, requirements, signatures, evidence_checks, verdict, status_line) =
        match &evaluation {
            Err(why) => (
                RiskClass::Unassessed,
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Verdict::Blocked,
                blocked_line(why),
            ),
            Ok(e) => (
                e.risk_class.into(),
                e.rules.clone(),
                e.requirements
                    .iter()
                    .map(|r| RequirementView {
                        rule: r.rule.clone(),
                        role: r.role.clone(),
                        role_title: r.role_title.clone(),
                        needed: r.needed,
                        meanings: r.meanings.iter().copied().map(meaning_view).collect(),
                        signed_by: r.signed_by.clone(),
                        met: r.met(),
                        may_sign_now: r.may_sign_now,
                    })
                    .collect(),
                e.signatures
                    .iter()
                    .map(|s| {
                        let (standing, why) = match &s.standing {
                            Standing::Counted => (StandingView::Counted, None),
                            Standing::Rejects => (StandingView::Rejects, None),
                            Standing::NotNeeded => (StandingView::NotNeeded, None),
                            Standing::Stale(w) => (StandingView::Stale, Some(w.clone())),
                            Standing::Refused(w) => (StandingView::Refused, Some(w.clone())),
                            Standing::Invalid(w) => (StandingView::Invalid, Some(w.clone())),
                        };
                        SignatureView {
                            printed_name: s.printed_name.clone(),
                            role: s.role.clone(),
                            meaning: s.meaning.map(meaning_view),
                            signed_at: s.signed_at.clone(),
                            clock_skew_seconds: s.clock_skew_seconds,
                            standing,
                            why,
                        }
                    })
                    .collect(),
                e.evidence
                    .iter()
                    .map(|c| EvidenceCheckView {
                        what: c.what.clone(),
                        met: c.met,
                        detail: c.detail.clone(),
                    })
                    .collect(),
                (&e.verdict).into(),
                e.status_line(),
            ),
        };
    let my_roles = match (&g.policy, me) {
        (Ok(policy), Some(me)) => policy
            .roles
            .iter()
            .filter(|r| policy.is_member(&r.name, forge_host, me))
            .map(|r| r.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    Review {
        change_request: ChangeRequestRef {
            repo: g.detail.item.repo.clone(),
            number: g.detail.item.number,
        },
        head_sha: g.detail.item.head_sha.clone(),
        policy: PolicyView {
            digest: g.policy_digest.clone(),
            error: g.policy.as_ref().err().cloned(),
        },
        risk_class,
        assessment: g.assessment.as_ref().ok().and_then(|a| {
            a.as_ref().map(|f| {
                let a = &f.assessment;
                let word = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
                AssessmentView {
                    hazard: a.hazard.clone(),
                    hazardous_situation: a.hazardous_situation.clone(),
                    harm: a.harm.clone(),
                    severity: word(&a.severity),
                    probability_before: word(&a.probability_before),
                    probability_after: word(&a.probability_after),
                    risk_before: a.risk_before().to_string(),
                    risk_after: a.risk_after().to_string(),
                    risk_controls: a.risk_controls.clone(),
                    verification: a.verification.clone(),
                    digest: f.digest.clone(),
                }
            })
        }),
        assessment_error: g.assessment.as_ref().err().map(ToString::to_string),
        evidence: g
            .evidence
            .iter()
            .map(|e| EvidenceView {
                name: e.name.clone(),
                sha256: e.sha256.clone(),
                kind: e.kind.label().to_owned(),
                summary: summary_line(&e.summary),
            })
            .collect(),
        evidence_problems: g.evidence_problems.clone(),
        evidence_ignored: g.evidence_ignored.clone(),
        unknown_contributors: evaluation
            .as_ref()
            .map(|e| e.unknown_contributors.clone())
            .unwrap_or_default(),
        tests: overview.tests.map(|t| TestsView {
            passed: t.passed,
            failed: t.failed + t.errored,
            skipped: t.skipped,
            failing: t.failing,
        }),
        coverage_percent: overview.coverage.and_then(|c| c.percent()),
        findings: overview
            .findings
            .map(|f| {
                f.by_level
                    .into_iter()
                    .map(|(l, n)| (l, u32::try_from(n).unwrap_or(u32::MAX)))
                    .collect()
            })
            .unwrap_or_default(),
        checks: g
            .checks
            .iter()
            .map(|c| CheckView {
                name: c.name.clone(),
                state: c.state.into(),
                reported_by: match &c.source {
                    CheckSource::CheckRun { app: Some(app) } => format!("check run by {app}"),
                    CheckSource::CheckRun { app: None } => "check run".to_owned(),
                    CheckSource::Status => "commit status".to_owned(),
                },
            })
            .collect(),
        rules,
        requirements,
        signatures,
        evidence_checks,
        verdict,
        status_line,
        my_roles,
        forge_reviews: g
            .reviews
            .iter()
            .map(|r| ForgeReviewView {
                reviewer: r.reviewer.login.clone(),
                state: r.state.clone(),
                body: r.body.clone(),
                on_head: r.commit.as_deref() == Some(g.detail.item.head_sha.as_str()),
            })
            .collect(),
        synced_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        offline: false,
    }
}

/// "Blocked by policy: …" within the status limit.
pub fn blocked_line(why: &str) -> String {
    use countersign_policy::evaluate::{cut, STATUS_MAX_CHARS};
    cut(&format!("Blocked by policy: {why}"), STATUS_MAX_CHARS)
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

    #[test]
    fn blocked_lines_fit_the_status() {
        let long = "x".repeat(500);
        assert_eq!(blocked_line(&long).chars().count(), 140);
        assert_eq!(blocked_line("no policy"), "Blocked by policy: no policy");
    }
}
