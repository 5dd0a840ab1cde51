//! A change request against its policy, evidence and records: what is met,
//! what is missing, who may still sign in which role, and the one-line status
//! the forge shows.
//!
//! Every record is first verified with the signature verifier against the
//! roster of the policy at the base SHA, so a change that adds its author to a
//! role gains nothing. What then counts is decided here, in signing order.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use countersign_signing::dsse::Envelope;
use countersign_signing::statement::{AuthMethod, Statement};
use countersign_signing::verify::{forge_anchored_time, verify_envelope, Expectations, Finding};
use countersign_signing::{EvidenceFile, Meaning};

use crate::contributors::Contributor;
use crate::risk::{AssessmentError, FoundAssessment, RiskClass};
use crate::{CheckFrom, Policy};

/// GitHub cuts a commit status description at 140 characters.
pub const STATUS_MAX_CHARS: usize = 140;

/// What is known about the change, gathered from the forge by the caller.
#[derive(Debug, Clone)]
pub struct Change {
    /// The change request judged: forge, repository, number, base branch and
    /// commit, head. A record signed for any other does not count.
    pub change_request: countersign_signing::statement::ChangeRequestRef,
    /// Who opened the change request.
    pub author_id: u64,
    /// Every commit's author and committer, and every co-author a trailer names.
    pub contributors: Vec<Contributor>,
    pub changed_paths: Vec<String>,
    pub labels: Vec<String>,
    pub diff_sha256: String,
    /// The evidence files and digests a current signature must cover.
    pub evidence_files: Vec<EvidenceFile>,
    pub evidence: EvidenceFacts,
    /// Evidence files that were refused (unsafe or malformed), each naming the file.
    pub evidence_problems: Vec<String>,
    /// What of the change the forge did not deliver (files past its list
    /// cap, patches that could not be rebuilt): rules cannot see it, so the
    /// change cannot be approved.
    pub incomplete: Vec<String>,
    pub assessment: Result<Option<FoundAssessment>, AssessmentError>,
    /// When each record (by statement digest) is known to have reached the
    /// forge, by the forge's own clock: bounds records signed offline.
    pub arrivals: std::collections::BTreeMap<String, DateTime<FixedOffset>>,
}

impl Change {
    fn paths(&self) -> Vec<&str> {
        self.changed_paths.iter().map(String::as_str).collect()
    }

    fn label_names(&self) -> Vec<&str> {
        self.labels.iter().map(String::as_str).collect()
    }

    /// What the rules see of the change under `policy`, and so what a
    /// signature made now binds: the class its paths and labels give it
    /// (before any floor other records set) and the labels the policy reads.
    pub fn rules_basis(&self, policy: &Policy) -> (RiskClass, Vec<String>) {
        let labels = self.label_names();
        (
            policy.risk_class(&self.paths(), &labels),
            policy.labels_read(&labels),
        )
    }
}

/// Evidence as parsed by the caller, reduced to what the policy asks about.
#[derive(Debug, Clone, Default)]
pub struct EvidenceFacts {
    /// Check runs and statuses of the head SHA, each with who reported it.
    pub checks: Vec<CheckFact>,
    /// Summed over every JUnit file; `None` when there is none.
    pub junit: Option<TestTotals>,
    /// Line coverage over every coverage file; `None` when there is none.
    pub coverage_percent: Option<f64>,
}

/// One check run or commit status of the head commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFact {
    pub name: String,
    /// The app that created a check run; `None` for a status or an app-less run.
    pub app: Option<String>,
    /// A commit status rather than a check run.
    pub is_status: bool,
    /// Reported by the forge's own CI, as the forge attests it (GitHub's
    /// Actions app, Gitea's and Forgejo's Actions user, a GitLab pipeline).
    pub forge_ci: bool,
    pub state: CheckState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    Success,
    Pending,
    Failure,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestTotals {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub failing: Vec<String>,
}

/// Where one signature stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Counts toward the named role's quorum.
    Counted,
    /// A current rejection by a member: the change is rejected.
    Rejects,
    /// Valid and current, but no requirement needs it (quorum already met).
    NotNeeded,
    /// Made on an earlier commit, diff or evidence: shown, not counted.
    Stale(String),
    /// Verifies, but the policy does not accept it (roster, key validity,
    /// meaning, separation of duties, order).
    Refused(String),
    /// Does not verify: altered, malformed or signed by someone else.
    Invalid(String),
    /// Taken back by its signer's later withdrawal (by whom, when, why).
    Withdrawn(String),
    /// A withdrawal that took back the signer's own earlier record.
    Withdraws,
}

#[derive(Debug, Clone)]
pub struct SignatureState {
    pub key_id: String,
    pub printed_name: String,
    pub user_id: Option<u64>,
    pub role: String,
    pub meaning: Option<Meaning>,
    pub signed_at: String,
    /// The reason the signer gave, as signed.
    pub reason: String,
    /// The signer's clock minus the forge's when signing, as the record says.
    pub clock_skew_seconds: Option<i64>,
    pub manifestation: Option<String>,
    pub standing: Standing,
    /// `sha256:<hex>` of the signed statement: how a withdrawal names it.
    pub record: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementState {
    pub rule: String,
    pub role: String,
    pub role_title: String,
    pub needed: u32,
    pub meanings: Vec<Meaning>,
    /// Printed names of the people counted, in signing order.
    pub signed_by: Vec<String>,
    /// True when the rule's order lets this role sign now.
    pub may_sign_now: bool,
}

impl RequirementState {
    pub fn met(&self) -> bool {
        self.signed_by.len() as u32 >= self.needed
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceCheck {
    pub what: String,
    pub met: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Approved,
    Pending,
    Rejected,
    /// A record does not verify.
    Failed,
    /// The policy cannot be applied to this change (e.g. no risk assessment).
    Blocked(String),
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub risk_class: RiskClass,
    pub rules: Vec<String>,
    pub requirements: Vec<RequirementState>,
    pub signatures: Vec<SignatureState>,
    pub evidence: Vec<EvidenceCheck>,
    /// Contributors neither the forge nor the roster can name.
    pub unknown_contributors: Vec<String>,
    pub verdict: Verdict,
}

fn is_stale(f: &Finding) -> bool {
    matches!(
        f,
        Finding::CommitMismatch { .. }
            | Finding::BaseMismatch { .. }
            | Finding::DiffMismatch { .. }
            | Finding::EvidenceMismatch { .. }
            | Finding::EvidenceMissing(_)
            | Finding::EvidenceUnexpected(_)
    )
}

fn is_refusal(f: &Finding) -> bool {
    matches!(f, Finding::UnknownKey(_) | Finding::KeyNotValid { .. })
}

struct Candidate {
    state: SignatureState,
    /// The roster registers a security key with the signing key.
    roster_has_security_key: bool,
    /// Signed with a key the roster does not hold: it may not pin the risk class.
    unknown_key: bool,
    statement: Option<Statement>,
    at: Option<DateTime<FixedOffset>>,
}

/// A withdrawal that verifies takes back the record it names, when that
/// record is the same person's: the record is then shown, never counted.
/// Withdrawals only ever remove, so one that is stale still applies; one
/// that does not verify, or is refused, takes nothing back.
fn apply_withdrawals(candidates: &mut [Candidate]) {
    for i in 0..candidates.len() {
        let Some(p) = candidates[i].statement.as_ref().map(|s| &s.predicate) else {
            continue;
        };
        if p.meaning != Meaning::Withdrawal
            || matches!(
                candidates[i].state.standing,
                Standing::Invalid(_) | Standing::Refused(_)
            )
        {
            continue;
        }
        let (who, target) = (p.signer.forge.clone(), p.withdraws.clone());
        let why = format!(
            "withdrawn by {} on {}: {}",
            candidates[i].state.printed_name, p.signed_at, p.reason
        );
        let found = target.as_ref().and_then(|t| {
            candidates
                .iter()
                .position(|c| c.state.record.as_ref() == Some(t))
        });
        let verdict = match found {
            _ if target.is_none() => Err(Standing::Refused(
                "a withdrawal that names no record".to_owned(),
            )),
            None => Err(Standing::Refused(
                "withdraws a record that is not among this change's records".to_owned(),
            )),
            Some(j) => match candidates[j].statement.as_ref().map(|s| &s.predicate) {
                Some(q)
                    if q.signer.forge.user_id != who.user_id || q.signer.forge.host != who.host =>
                {
                    Err(Standing::Refused(
                        "withdraws a record signed by someone else".to_owned(),
                    ))
                }
                Some(q) if q.meaning == Meaning::Withdrawal => {
                    Err(Standing::Refused("withdraws a withdrawal".to_owned()))
                }
                Some(_) => Ok(j),
                None => Err(Standing::Refused(
                    "withdraws a record that does not verify".to_owned(),
                )),
            },
        };
        match verdict {
            Ok(j) => {
                candidates[j].state.standing = Standing::Withdrawn(why);
                candidates[i].state.standing = Standing::Withdraws;
            }
            Err(standing) => candidates[i].state.standing = standing,
        }
    }
}

/// Evaluate `records` for `change` under `policy`.
pub fn evaluate(policy: &Policy, change: &Change, records: &[Envelope]) -> Evaluation {
    let (paths, labels) = (change.paths(), change.label_names());
    let (computed_class, labels_read) = change.rules_basis(policy);
    let assessment_digest = match &change.assessment {
        Ok(Some(found)) => Some(found.digest.clone()),
        _ => None,
    };

    let people = people_of(policy, change);
    let mut unknown: Vec<String> = people
        .iter()
        .filter(|(ids, _)| ids.is_empty())
        .map(|(_, c)| c.to_string())
        .collect();
    unknown.dedup();

    let keys = policy.trusted_keys();
    let expect = Expectations {
        change_request: Some(change.change_request.clone()),
        commit: Some(change.change_request.head_sha.clone()),
        diff_sha256: Some(change.diff_sha256.clone()),
        evidence: Some(change.evidence_files.clone()),
    };
    let mut candidates: Vec<Candidate> = records
        .iter()
        .flat_map(|e| {
            let digest = e.statement_digest();
            verify_envelope(e, &keys, &expect)
                .into_iter()
                .map(move |report| (digest.clone(), report))
        })
        .map(|(record, report)| {
            let p = report.statement.as_ref().map(|s| &s.predicate);
            let invalid: Vec<String> = report
                .findings
                .iter()
                .filter(|f| !is_stale(f) && !is_refusal(f))
                .map(ToString::to_string)
                .collect();
            // A wrong clock comes first: it is why the key's validity and the
            // signing order cannot be judged on this record's time.
            let refused: Vec<String> = p
                .and_then(|p| clock_refusal(policy, p))
                .into_iter()
                .chain(
                    report
                        .findings
                        .iter()
                        .filter(|f| is_refusal(f))
                        .map(ToString::to_string),
                )
                .collect();
            let stale: Vec<String> = report
                .findings
                .iter()
                .filter(|f| is_stale(f))
                .map(ToString::to_string)
                .collect();
            // Signed offline: the policy must allow it, and the signing time
            // must lie between the snapshot and the record's arrival.
            let (refused, invalid) = match p.and_then(|p| Some((p, p.offline.as_ref()?))) {
                None => (refused, invalid),
                Some((p, offline)) => {
                    let mut refused = refused;
                    let mut invalid = invalid;
                    match offline_problem(policy, p, offline, record.as_ref().and_then(|r| change.arrivals.get(r)), &keys, &report.key_id) {
                        Some(OfflineProblem::NotAllowed) => refused.push(
                            "signed offline, which the policy does not allow (allow_offline_signing)".to_owned(),
                        ),
                        Some(OfflineProblem::Invalid(why)) => invalid.push(why),
                        None => {}
                    }
                    (refused, invalid)
                }
            };
            let standing = if !invalid.is_empty() {
                Standing::Invalid(invalid.join("; "))
            } else if !refused.is_empty() {
                Standing::Refused(refused.join("; "))
            } else if !stale.is_empty() {
                Standing::Stale(stale.join("; "))
            } else {
                Standing::NotNeeded
            };
            // Every rendering names the signer as the roster does; a record
            // whose own name differs is invalid (the verifier says so).
            let roster_key = keys.iter().find(|k| k.public_key.key_id() == report.key_id);
            let roster_name = roster_key.map(|k| k.printed_name.clone());
            Candidate {
                roster_has_security_key: roster_key.is_some_and(|k| !k.security_keys.is_empty()),
                unknown_key: report
                    .findings
                    .iter()
                    .any(|f| matches!(f, Finding::UnknownKey(_))),
                state: SignatureState {
                    key_id: report.key_id.clone(),
                    printed_name: roster_name
                        .or_else(|| p.map(|p| p.signer.printed_name.clone()))
                        .unwrap_or_default(),
                    user_id: p.map(|p| p.signer.forge.user_id),
                    role: p.map(|p| p.signer.role.clone()).unwrap_or_default(),
                    meaning: p.map(|p| p.meaning),
                    signed_at: p.map(|p| p.signed_at.clone()).unwrap_or_default(),
                    reason: p.map(|p| p.reason.clone()).unwrap_or_default(),
                    clock_skew_seconds: p
                        .and_then(|p| p.forge_clock.as_ref())
                        .map(|c| c.skew_seconds),
                    manifestation: report.manifestation.clone(),
                    standing,
                    record,
                },
                at: p.and_then(forge_anchored_time),
                statement: report.statement,
            }
        })
        .collect();
    // Order is judged by the forge-anchored signing time; ties keep the records' order.
    candidates.sort_by_key(|c| c.at);

    // Requirements never drop below those in force when a roster member
    // signed this change: dropping a label cannot lower them.
    let risk_class = candidates
        .iter()
        .filter(|c| !matches!(c.state.standing, Standing::Invalid(_)) && !c.unknown_key)
        .filter_map(|c| {
            c.statement
                .as_ref()?
                .predicate
                .risk_class
                .as_ref()?
                .parse()
                .ok()
        })
        .fold(computed_class, RiskClass::max);
    let rules = policy.rules_for(&paths, &labels, &risk_class.to_string());
    for c in &mut candidates {
        let Some(p) = c.statement.as_ref().map(|s| &s.predicate) else {
            continue;
        };
        let mut stale = Vec::new();
        if p.risk_assessment_digest != assessment_digest {
            stale.push(format!(
                "signed on the risk assessment {}, the description now holds {}",
                p.risk_assessment_digest.as_deref().unwrap_or("(none)"),
                assessment_digest.as_deref().unwrap_or("none")
            ));
        }
        if let Some(signed) = p.labels.as_ref().filter(|l| **l != labels_read) {
            stale.push(format!(
                "signed when the labels the policy reads were [{}], now [{}]",
                signed.join(", "),
                labels_read.join(", ")
            ));
        }
        // Against the class the change itself has now, not the floor other
        // records set: a record's standing depends on it, the change and the
        // policy alone.
        if let Some(signed) = p
            .risk_class
            .as_ref()
            .filter(|c| **c != computed_class.to_string())
        {
            stale.push(format!(
                "signed as a {signed}-risk change, it is now {computed_class}-risk"
            ));
        }
        if stale.is_empty() {
            continue;
        }
        c.state.standing = match &c.state.standing {
            Standing::NotNeeded => Standing::Stale(stale.join("; ")),
            Standing::Stale(why) => Standing::Stale(format!("{why}; {}", stale.join("; "))),
            other => other.clone(),
        };
    }

    apply_withdrawals(&mut candidates);

    let mut requirements: Vec<RequirementState> = rules
        .iter()
        .flat_map(|rule| {
            rule.require.iter().map(|q| RequirementState {
                rule: rule.name.clone(),
                role: q.role.clone(),
                role_title: policy.role_title(&q.role).to_owned(),
                needed: q.signatures,
                meanings: q.meanings.clone(),
                signed_by: Vec::new(),
                may_sign_now: false,
            })
        })
        .collect();
    let order_of = |rule: &str| -> &[String] {
        rules
            .iter()
            .find(|r| r.name == rule)
            .map_or(&[][..], |r| r.order.as_slice())
    };

    let mut role_of_person: HashMap<u64, String> = HashMap::new();
    let mut counted_people: HashMap<(String, String), Vec<u64>> = HashMap::new();
    let mut rejected = false;
    for c in &mut candidates {
        if c.state.standing != Standing::NotNeeded {
            continue;
        }
        let Some(statement) = &c.statement else {
            continue;
        };
        let p = &statement.predicate;
        let user = p.signer.forge.user_id;
        let name = &c.state.printed_name;
        let signer = Signer {
            host: &p.signer.forge.host,
            user_id: user,
            printed_name: name,
            role: &p.signer.role,
            with_security_key: matches!(p.authentication, AuthMethod::Fido2 { .. }),
            roster_has_security_key: c.roster_has_security_key,
        };
        if let Err(why) = refusal_of(policy, change, &people, &signer) {
            c.state.standing = Standing::Refused(why);
            continue;
        }
        if policy.one_role_per_person {
            if let Some(other) = role_of_person.get(&user) {
                if other != &p.signer.role {
                    c.state.standing = Standing::Refused(format!(
                        "{name} already counts as {other}; one person counts for one role"
                    ));
                    continue;
                }
            }
        }
        if p.meaning == Meaning::Rejection {
            c.state.standing = Standing::Rejects;
            rejected = true;
            continue;
        }
        let mut counted = false;
        let mut why_not = None;
        let snapshot: Vec<(String, String, bool)> = requirements
            .iter()
            .map(|r| (r.rule.clone(), r.role.clone(), r.met()))
            .collect();
        for req in requirements.iter_mut().filter(|r| r.role == p.signer.role) {
            if !req.meanings.is_empty() && !req.meanings.contains(&p.meaning) {
                why_not.get_or_insert(format!(
                    "{} may sign as {} only with {}",
                    req.role,
                    req.rule,
                    req.meanings
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
                continue;
            }
            let order = order_of(&req.rule);
            let waiting: Vec<&String> = order
                .iter()
                .take_while(|r| **r != req.role)
                .filter(|earlier| {
                    snapshot
                        .iter()
                        .any(|(rule, role, met)| rule == &req.rule && role == *earlier && !met)
                })
                .collect();
            if order.contains(&req.role) && !waiting.is_empty() {
                why_not.get_or_insert(format!(
                    "signed before {} had signed; the order is {}",
                    waiting
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    order.join(" → ")
                ));
                continue;
            }
            let people = counted_people
                .entry((req.rule.clone(), req.role.clone()))
                .or_default();
            if people.contains(&user) || req.met() {
                continue;
            }
            people.push(user);
            req.signed_by.push(name.clone());
            counted = true;
        }
        if counted {
            role_of_person.insert(user, p.signer.role.clone());
            c.state.standing = Standing::Counted;
        } else if let Some(why) = why_not {
            c.state.standing = Standing::Refused(why);
        }
    }

    // Who may sign now: unmet requirements whose earlier roles are all met.
    let met: Vec<(String, String, bool)> = requirements
        .iter()
        .map(|r| (r.rule.clone(), r.role.clone(), r.met()))
        .collect();
    for req in &mut requirements {
        let order = order_of(&req.rule);
        req.may_sign_now = !req.met()
            && order.iter().take_while(|r| **r != req.role).all(|earlier| {
                met.iter()
                    .any(|(rule, role, ok)| rule == &req.rule && role == earlier && *ok)
            });
    }

    let evidence = evidence_checks(policy, &change.evidence);
    let needs_assessment = rules.iter().any(|r| r.needs_risk_assessment);
    let blocked = match (&change.assessment, needs_assessment) {
        _ if !change.incomplete.is_empty() => Some(format!(
            "the change is incomplete: {}",
            change.incomplete.join("; ")
        )),
        _ if !unknown.is_empty() && policy.blocks_unknown_contributors(risk_class) => {
            Some(format!(
                "contributors nobody can name: {} (unknown_contributors = \"block\"{})",
                unknown.join(", "),
                if policy.unknown_contributors.is_none() {
                    ", the default for high-risk changes"
                } else {
                    ""
                }
            ))
        }
        (Err(e), _) => Some(format!("the risk assessment cannot be read: {e}")),
        (Ok(None), true) => Some(format!(
            "a {risk_class}-risk change needs a risk assessment and has none"
        )),
        _ => change
            .evidence_problems
            .first()
            .map(|p| format!("evidence refused: {p}")),
    };
    let verdict = if candidates
        .iter()
        .any(|c| matches!(c.state.standing, Standing::Invalid(_)))
    {
        Verdict::Failed
    } else if let Some(why) = blocked {
        Verdict::Blocked(why)
    } else if rejected {
        Verdict::Rejected
    } else if requirements.iter().all(RequirementState::met) && evidence.iter().all(|e| e.met) {
        Verdict::Approved
    } else {
        Verdict::Pending
    };
    Evaluation {
        risk_class,
        rules: rules.iter().map(|r| r.name.clone()).collect(),
        requirements,
        signatures: candidates.into_iter().map(|c| c.state).collect(),
        evidence,
        unknown_contributors: unknown,
        verdict,
    }
}

/// Each contributor of `change` with the forge user ids they stand for.
fn people_of<'c>(policy: &Policy, change: &'c Change) -> Vec<(Vec<u64>, &'c Contributor)> {
    let host = change.change_request.forge.as_str();
    change
        .contributors
        .iter()
        .map(|c| (policy.people_behind(host, c), c))
        .collect()
}

/// Who signs, as the checks below need them.
pub struct Signer<'a> {
    pub host: &'a str,
    pub user_id: u64,
    pub printed_name: &'a str,
    pub role: &'a str,
    /// The signature is confirmed by a FIDO2 security key.
    pub with_security_key: bool,
    /// The roster registers a security key with the signing key.
    pub roster_has_security_key: bool,
}

/// Why the policy refuses `signer` for `change` whatever else was signed:
/// removed at the branch tip, not a member of the role, a security key the
/// policy requires left unused, or a contributor to the change. The gate
/// and the sign use case call this one function.
fn refusal_of(
    policy: &Policy,
    change: &Change,
    people: &[(Vec<u64>, &Contributor)],
    s: &Signer<'_>,
) -> Result<(), String> {
    let (name, role, user) = (s.printed_name, s.role, s.user_id);
    if policy.was_removed_at_tip(role, s.host, user) {
        return Err(format!(
            "{name} was removed from {role:?} at the tip of {}",
            policy.tip_of.as_deref().unwrap_or("the base branch")
        ));
    }
    if !policy.is_member(role, s.host, user) {
        return Err(format!(
            "{name} is not a member of {role:?} in the policy at the base commit"
        ));
    }
    if s.roster_has_security_key && policy.requires_security_key(role) && !s.with_security_key {
        return Err(format!(
            "{name} has a registered security key, which the policy requires for {role:?}; this record was signed with the password alone"
        ));
    }
    let part = if user == change.author_id {
        Some("opened it".to_owned())
    } else {
        people
            .iter()
            .find(|(ids, _)| ids.contains(&user))
            .map(|(_, c)| c.to_string())
    };
    if let (true, Some(part)) = (policy.author_cannot_sign, part) {
        return Err(format!(
            "{name} contributed to this change ({part}) and cannot sign it"
        ));
    }
    Ok(())
}

/// Whether the policy lets `signer` sign `change` with `meaning`: the same
/// checks the gate applies to a record ([`refusal_of`]), and the meaning one
/// that a rule matching the change allows for the role. Made before signing,
/// so a record the gate would refuse is never made.
pub fn may_sign(
    policy: &Policy,
    change: &Change,
    signer: &Signer<'_>,
    meaning: Meaning,
) -> Result<(), String> {
    refusal_of(policy, change, &people_of(policy, change), signer)?;
    if matches!(meaning, Meaning::Rejection | Meaning::Withdrawal) {
        return Ok(());
    }
    let (paths, labels) = (change.paths(), change.label_names());
    let (class, _) = change.rules_basis(policy);
    let rules = policy.rules_for(&paths, &labels, &class.to_string());
    let asked: Vec<&crate::Requirement> = rules
        .iter()
        .flat_map(|r| r.require.iter())
        .filter(|q| q.role == signer.role)
        .collect();
    if !asked.is_empty()
        && !asked
            .iter()
            .any(|q| q.meanings.is_empty() || q.meanings.contains(&meaning))
    {
        let allowed: Vec<String> = asked
            .iter()
            .flat_map(|q| q.meanings.iter().map(ToString::to_string))
            .collect();
        return Err(format!(
            "{} may sign this change only with {}",
            signer.role,
            allowed.join(" or ")
        ));
    }
    Ok(())
}

/// Whether a new record by `signer` would count, given what the records
/// already made count for (`current`, the gate's own evaluation of them):
/// one person counts for one role, and a rule's order is kept. With
/// [`may_sign`], the checks signing applies before anything is signed.
pub fn may_sign_after(
    policy: &Policy,
    current: &Evaluation,
    signer: &Signer<'_>,
    meaning: Meaning,
) -> Result<(), String> {
    if matches!(meaning, Meaning::Rejection | Meaning::Withdrawal) {
        return Ok(());
    }
    if policy.one_role_per_person {
        if let Some(other) = current.signatures.iter().find(|s| {
            s.standing == Standing::Counted
                && s.user_id == Some(signer.user_id)
                && s.role != signer.role
        }) {
            return Err(format!(
                "{} already counts as {}; one person counts for one role",
                signer.printed_name, other.role
            ));
        }
    }
    let mine: Vec<&RequirementState> = current
        .requirements
        .iter()
        .filter(|r| r.role == signer.role)
        .collect();
    if mine.is_empty() || mine.iter().any(|r| r.met() || r.may_sign_now) {
        return Ok(());
    }
    // Every requirement for this role waits for earlier roles.
    let req = mine[0];
    let order = policy
        .rules
        .iter()
        .find(|r| r.name == req.rule)
        .map_or(&[][..], |r| r.order.as_slice());
    let waiting: Vec<&str> = order
        .iter()
        .take_while(|r| **r != req.role)
        .filter(|earlier| {
            current
                .requirements
                .iter()
                .any(|q| q.rule == req.rule && q.role == **earlier && !q.met())
        })
        .map(String::as_str)
        .collect();
    Err(format!(
        "{} signs after {} in {}: the order is {}",
        signer.role,
        waiting.join(", "),
        req.rule,
        order.join(" → ")
    ))
}

/// Why a record's signing time cannot be trusted, if it cannot: it carries no
/// measurement of the forge's clock, or the signer's clock was further from
/// the forge's than the policy's `max_clock_skew`.
enum OfflineProblem {
    NotAllowed,
    Invalid(String),
}

/// What is wrong with a record signed offline: the policy does not allow
/// it, or its signing time (on the forge's clock) is not between the forge
/// time of the snapshot it was signed from and its arrival on the forge, or
/// it arrived later than `max_offline_age` after the snapshot, or after its
/// key was revoked. A record whose arrival cannot be dated is invalid.
fn offline_problem(
    policy: &Policy,
    p: &countersign_signing::statement::Approval,
    offline: &countersign_signing::statement::OfflineSigning,
    arrival: Option<&DateTime<FixedOffset>>,
    keys: &[countersign_signing::verify::TrustedKey],
    key_id: &str,
) -> Option<OfflineProblem> {
    let Some(max_age) = policy.gate.max_offline_age else {
        return Some(OfflineProblem::NotAllowed);
    };
    let invalid = |why: String| Some(OfflineProblem::Invalid(why));
    let Ok(snapshot) = DateTime::parse_from_rfc3339(&offline.snapshot_forge_time) else {
        return invalid("signed offline from a snapshot whose time cannot be read".to_owned());
    };
    let Some(arrival) = arrival else {
        return invalid(
            "signed offline, and when it reached the forge cannot be dated (no receipt)".to_owned(),
        );
    };
    let Some(signed) = forge_anchored_time(p) else {
        return invalid("signed offline at a time that cannot be read".to_owned());
    };
    // The forge's times come in whole seconds (its `Date` header, its
    // comments' `created_at`): a second either way is within their reading.
    let resolution = chrono::Duration::seconds(1);
    if signed + resolution < snapshot {
        return invalid(format!(
            "signed offline at {signed}, before the snapshot it was signed from was read ({snapshot})"
        ));
    }
    if signed - resolution > *arrival {
        return invalid(format!(
            "signed offline at {signed}, after it reached the forge ({arrival})"
        ));
    }
    if *arrival - snapshot > max_age {
        return invalid(format!(
            "signed offline from a snapshot of {snapshot} and brought to the forge at {arrival}: more than max_offline_age ({}) later",
            seconds_in_words(max_age.num_seconds().unsigned_abs())
        ));
    }
    let revoked = keys
        .iter()
        .find(|k| k.public_key.key_id() == key_id)
        .and_then(|k| k.revoked_at.as_deref())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    if let Some(revoked) = revoked.filter(|r| r <= arrival) {
        return invalid(format!(
            "signed offline and brought to the forge at {arrival}, after its key was revoked ({revoked})"
        ));
    }
    None
}

fn clock_refusal(policy: &Policy, p: &countersign_signing::statement::Approval) -> Option<String> {
    let max = policy.gate.max_clock_skew.num_seconds();
    match &p.forge_clock {
        None => Some(
            "the record carries no reading of the forge's clock, so its signing time cannot be judged"
                .to_owned(),
        ),
        Some(c) if c.skew_seconds.unsigned_abs() > max.unsigned_abs() => Some(format!(
            "signed on a clock {} {} the forge's; max_clock_skew is {}",
            seconds_in_words(c.skew_seconds.unsigned_abs()),
            if c.skew_seconds > 0 { "ahead of" } else { "behind" },
            seconds_in_words(max.unsigned_abs())
        )),
        Some(_) => None,
    }
}

/// `2 h 0 min`, `5 min`, `42 s`.
pub fn seconds_in_words(s: u64) -> String {
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

fn evidence_checks(policy: &Policy, facts: &EvidenceFacts) -> Vec<EvidenceCheck> {
    let mut out = Vec::new();
    for required in &policy.evidence.checks {
        let reported = facts.checks.iter().find(|c| {
            c.name == required.name
                && match &required.from {
                    CheckFrom::ForgeCi => !c.is_status && c.forge_ci,
                    CheckFrom::App(app) => !c.is_status && c.app.as_deref() == Some(app.as_str()),
                    CheckFrom::Status => c.is_status,
                }
        });
        let (met, detail) = match reported.map(|c| c.state) {
            Some(CheckState::Success) => (true, "green".to_owned()),
            Some(CheckState::Pending) => (false, "still running".to_owned()),
            Some(CheckState::Failure) => (false, "failed".to_owned()),
            None => (false, "has not reported".to_owned()),
        };
        out.push(EvidenceCheck {
            what: required.to_string(),
            met,
            detail,
        });
    }
    if policy.evidence.junit_required {
        let (met, detail) = match &facts.junit {
            None => (false, "no JUnit results".to_owned()),
            Some(t) if t.failed > 0 => (
                false,
                format!("{} failed: {}", t.failed, t.failing.join(", ")),
            ),
            Some(t) => (
                t.passed > 0,
                format!("{} passed, {} skipped", t.passed, t.skipped),
            ),
        };
        out.push(EvidenceCheck {
            what: "JUnit results".into(),
            met,
            detail,
        });
    }
    if let Some(min) = policy.evidence.min_coverage {
        let (met, detail) = match facts.coverage_percent {
            None => (false, "no coverage report".to_owned()),
            Some(c) => (c >= min, format!("{c:.1}% (needs {min:.1}%)")),
        };
        out.push(EvidenceCheck {
            what: "coverage".into(),
            met,
            detail,
        });
    }
    out
}

/// Cut `text` to `max` characters, ending with an ellipsis when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

impl Evaluation {
    /// `Approved 6/6 (release): A. Featherstonehaugh, B. Okafor, +4`: the
    /// count and the rules first, then as many whole names as fit.
    fn approved_line(&self) -> String {
        let needed: u32 = self.requirements.iter().map(|r| r.needed).sum();
        let head = cut(
            &format!("Approved {needed}/{needed} ({}): ", self.rules.join(", ")),
            STATUS_MAX_CHARS / 2,
        );
        let mut names: Vec<&str> = Vec::new();
        for s in &self.signatures {
            if s.standing == Standing::Counted && !names.contains(&s.printed_name.as_str()) {
                names.push(&s.printed_name);
            }
        }
        let width = |shown: usize| {
            let rest = names.len() - shown;
            let listed: usize = names[..shown].iter().map(|n| n.chars().count()).sum();
            let separators = 2 * shown.saturating_sub(1);
            let more = if rest > 0 {
                format!(", +{rest}").chars().count() - usize::from(shown == 0) * 2
            } else {
                0
            };
            head.chars().count() + listed + separators + more
        };
        let shown = (0..=names.len())
            .rev()
            .find(|&n| width(n) <= STATUS_MAX_CHARS)
            .unwrap_or(0);
        let mut line = head + &names[..shown].join(", ");
        match (names.len() - shown, shown) {
            (0, _) => {}
            (rest, 0) => line.push_str(&format!("+{rest}")),
            (rest, _) => line.push_str(&format!(", +{rest}")),
        }
        line
    }

    /// The forge status line, at most [`STATUS_MAX_CHARS`] characters.
    pub fn status_line(&self) -> String {
        let line = match &self.verdict {
            Verdict::Approved => return self.approved_line(),
            Verdict::Failed => {
                let bad = self
                    .signatures
                    .iter()
                    .find_map(|s| match &s.standing {
                        Standing::Invalid(why) => Some(why.as_str()),
                        _ => None,
                    })
                    .unwrap_or_default();
                format!("A record fails verification: {bad}")
            }
            Verdict::Rejected => {
                let by: Vec<&str> = self
                    .signatures
                    .iter()
                    .filter(|s| s.standing == Standing::Rejects)
                    .map(|s| s.printed_name.as_str())
                    .collect();
                format!("Rejected by {}", by.join(", "))
            }
            Verdict::Blocked(why) => format!("Blocked: {why}"),
            Verdict::Pending => {
                let needed: u32 = self.requirements.iter().map(|r| r.needed).sum();
                let have: u32 = self
                    .requirements
                    .iter()
                    .map(|r| (r.signed_by.len() as u32).min(r.needed))
                    .sum();
                let waiting: Vec<&str> = self
                    .requirements
                    .iter()
                    .filter(|r| r.may_sign_now)
                    .map(|r| r.role_title.as_str())
                    .collect();
                let missing_evidence: Vec<String> = self
                    .evidence
                    .iter()
                    .filter(|e| !e.met)
                    .map(|e| format!("{} {}", e.what, e.detail))
                    .collect();
                let mut parts = vec![format!("{have}/{needed}")];
                if !waiting.is_empty() {
                    parts.push(format!("waiting for {}", waiting.join(", ")));
                }
                if !missing_evidence.is_empty() {
                    parts.push(format!("evidence: {}", missing_evidence.join(", ")));
                }
                parts.join(" — ")
            }
        };
        cut(&line, STATUS_MAX_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cutting_counts_characters_not_bytes() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "ab…");
        let long = "Dr. Ç".repeat(50);
        let c = cut(&long, 140);
        assert_eq!(c.chars().count(), 140);
        assert!(c.ends_with('…'));
    }
}
