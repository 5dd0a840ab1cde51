//! The review as the window and the gate show it: the verdict, what each
//! rule requires and who signed, the evidence, the assessment, made from one
//! [`Snapshot`](crate::snapshot::Gathered) of the change and its records.

use countersign_evidence::{Overview, Summary};
use countersign_policy::evaluate::Standing;
use countersign_signing::dsse::Envelope;

use crate::contract::{
    AssessmentView, ChangeRequestRef, CheckView, CommitView, ConversationEntry, ConversationKind,
    EvidenceCheckView, EvidenceView, ForgeReviewState, PolicyView, RequirementView, Review,
    RiskClass, SignatureView, Standing as StandingView, TestsView, Verdict,
};
use crate::snapshot::{evaluate_change, Gathered};
use countersign_forge::CheckSource;

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
        countersign_signing::Meaning::Withdrawal => M::Withdrawal,
    }
}

/// The review as the UI and the gate print it.
pub fn view(
    g: &Gathered,
    forge_host: &str,
    me: Option<u64>,
    records: &[Envelope],
    arrivals: &crate::records_on_forge::Arrivals,
) -> Review {
    let evaluation = evaluate_change(g, forge_host, records, arrivals);
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
                blocked_line(&why.to_string()),
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
                            Standing::Withdrawn(w) => (StandingView::Withdrawn, Some(w.clone())),
                            Standing::Withdraws => (StandingView::Withdraws, None),
                        };
                        SignatureView {
                            printed_name: s.printed_name.clone(),
                            role: s.role.clone(),
                            meaning: s.meaning.map(meaning_view),
                            signed_at: s.signed_at.clone(),
                            reason: s.reason.clone(),
                            clock_skew_seconds: s.clock_skew_seconds,
                            standing,
                            why,
                            record: s.record.clone(),
                            mine: me.is_some() && s.user_id == me,
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
    let waiting_for_me = match (&evaluation, &g.policy, me) {
        (Ok(e), Ok(policy), Some(me)) => waits_for(e, policy, me, &my_roles),
        _ => false,
    };
    let details = crate::evidence_details::details(&g.evidence, &g.detail.diff_files);
    Review {
        waiting_for_me,
        test_problems: details.test_problems,
        coverage_files: details.coverage_files,
        changed_lines_coverage: details.changed_lines_coverage,
        finding_list: details.finding_list,
        commits: g
            .commits
            .iter()
            .map(|c| {
                let who =
                    |user: &Option<countersign_forge::ForgeUser>, email: &Option<String>| match (
                        user, email,
                    ) {
                        (Some(u), _) => (format!("@{}", u.login), true),
                        (None, Some(e)) => (e.clone(), false),
                        (None, None) => ("unknown".to_owned(), false),
                    };
                let (author, author_linked) = who(&c.author, &c.author_email);
                let (committer, committer_linked) = who(&c.committer, &c.committer_email);
                CommitView {
                    sha: c.sha.clone(),
                    message: c.message.clone(),
                    author,
                    author_linked,
                    committer,
                    committer_linked,
                }
            })
            .collect(),
        change_request: ChangeRequestRef {
            repo: g.detail.item.repo.clone(),
            number: g.detail.item.number,
        },
        head_sha: g.detail.item.head_sha.clone(),
        policy: PolicyView {
            digest: g.policy_digest.clone(),
            error: g.policy.as_ref().err().map(ToString::to_string),
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
                source: e
                    .name
                    .split_once('/')
                    .and_then(|(archive, _)| g.evidence_sources.get(archive).cloned()),
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
                    CheckSource::ForgeCi { app } | CheckSource::CheckRun { app: Some(app) } => {
                        format!("check run by {app}")
                    }
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
        conversation: conversation(&g.reviews, &[], &g.detail.item.head_sha),
        synced_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        offline: false,
    }
}

/// "Blocked by policy: …" within the status limit.
pub fn blocked_line(why: &str) -> String {
    use countersign_policy::evaluate::{cut, STATUS_MAX_CHARS};
    cut(&format!("Blocked by policy: {why}"), STATUS_MAX_CHARS)
}

/// The records on the forge disagree (one place lost a valid record): the
/// review is blocked, saying which, until a push repairs them.
pub fn block_on_disagreement(review: &mut Review, disagreements: &[String]) {
    use countersign_policy::evaluate::{cut, STATUS_MAX_CHARS};
    let Some(first) = disagreements.first() else {
        return;
    };
    let more = match disagreements.len() - 1 {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    };
    review.verdict = Verdict::Blocked;
    review.status_line = cut(
        &format!("Blocked: records disagree: {first}{more}"),
        STATUS_MAX_CHARS,
    );
}

/// A requirement that this user's role could meet now, and that their own
/// counted signatures have not met already.
fn waits_for(
    e: &countersign_policy::evaluate::Evaluation,
    policy: &countersign_policy::Policy,
    me: u64,
    my_roles: &[String],
) -> bool {
    let mine = |s: &&countersign_policy::evaluate::SignatureState| {
        s.standing == Standing::Counted && s.user_id == Some(me)
    };
    if policy.one_role_per_person && e.signatures.iter().any(|s| mine(&s)) {
        return false;
    }
    e.requirements.iter().any(|r| {
        !r.met()
            && r.may_sign_now
            && my_roles.contains(&r.role)
            && !e.signatures.iter().any(|s| mine(&s) && s.role == r.role)
    })
}

/// The forge's reviews and comments as one thread, in the order they were
/// made; an entry without a time keeps its place after the timed ones.
pub(crate) fn conversation(
    reviews: &[countersign_forge::ForgeReview],
    comments: &[countersign_forge::Comment],
    head_sha: &str,
) -> Vec<ConversationEntry> {
    let stamp = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let mut entries: Vec<(Option<chrono::DateTime<chrono::Utc>>, ConversationEntry)> = reviews
        .iter()
        .map(|r| {
            (
                r.submitted_at,
                ConversationEntry {
                    kind: ConversationKind::Review,
                    author: r.reviewer.login.clone(),
                    body: r.body.clone(),
                    review_state: Some(ForgeReviewState::from_forge(&r.state)),
                    earlier_commit: r.commit.as_deref() != Some(head_sha),
                    at: stamp(r.submitted_at),
                },
            )
        })
        .chain(comments.iter().map(|c| {
            (
                c.created_at,
                ConversationEntry {
                    kind: ConversationKind::Comment,
                    author: c.author.clone(),
                    body: c.body.clone(),
                    review_state: None,
                    earlier_commit: false,
                    at: stamp(c.created_at),
                },
            )
        }))
        .collect();
    // Stable: entries made at the same second keep the forge's own order.
    entries.sort_by_key(|(at, _)| (at.is_none(), *at));
    entries.into_iter().map(|(_, e)| e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_lines_fit_the_status() {
        let long = "x".repeat(500);
        assert_eq!(blocked_line(&long).chars().count(), 140);
        assert_eq!(blocked_line("no policy"), "Blocked by policy: no policy");
    }
}
