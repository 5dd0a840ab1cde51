//! One snapshot of a change request: everything a signature covers or the
//! policy asks about — the change and its whole diff, the policy at the base
//! (restricted by the protected branch's tip), the risk assessment, the
//! evidence (checks, CI artifacts), the commits' people — read once from the
//! forge and judged by sign, push, the review and the gate alike.

use countersign_evidence::{Limits, Overview};
use countersign_forge::{Check, CheckSource, CheckState, CommitInfo, Forge, ForgeReview, RepoId};
use countersign_policy::evaluate::{
    CheckFact, CheckState as PolicyCheck, EvidenceFacts, TestTotals,
};
use countersign_policy::risk::{find_assessment, AssessmentError, FoundAssessment};
use countersign_policy::{evaluate, Change, Evaluation, Policy};
use countersign_signing::dsse::Envelope;
use countersign_signing::EvidenceFile;

use serde::{Deserialize, Serialize};

use crate::contract::{ChangeRequestDetail, ChangeRequestRef};
use crate::digest::sha256_hex;
use crate::ErrorCode;
use crate::{queue, ApiError};

pub const POLICY_PATH: &str = ".countersign/policy.toml";
/// CI artifacts above this are refused before download.
const MAX_ARTIFACT_BYTES: u64 = 256 * 1024 * 1024;

/// Where a policy file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Where {
    /// The change's base commit (abbreviated).
    BaseCommit(String),
    /// The current tip of a branch.
    TipOf(String),
}

impl std::fmt::Display for Where {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BaseCommit(sha) => write!(f, "the base commit {sha}"),
            Self::TipOf(branch) => write!(f, "the tip of {branch}"),
        }
    }
}

/// Why the policy cannot be applied to a change: it is then blocked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyUnavailable {
    /// There is no policy file there.
    #[error("{POLICY_PATH} does not exist at {0}{why}", why = if matches!(.0, Where::TipOf(_)) { ", so revocations made there cannot be known" } else { "" })]
    Missing(Where),
    /// The file is not UTF-8 text.
    #[error("{POLICY_PATH} at {0} is not UTF-8 text")]
    NotText(Where),
    /// The file does not parse or validate.
    #[error("{}{error}", if matches!(at, Where::TipOf(_)) { format!("at {at}, ") } else { String::new() })]
    Invalid {
        at: Where,
        error: countersign_policy::PolicyError,
    },
    /// The change targets a branch the policy does not protect.
    #[error("{branch} is not a branch the policy protects ([gate] protected_branches on {default_branch})")]
    Unprotected {
        branch: String,
        default_branch: String,
    },
}

fn read_policy(bytes: Option<&[u8]>, at: &Where) -> Result<Policy, PolicyUnavailable> {
    let bytes = bytes.ok_or_else(|| PolicyUnavailable::Missing(at.clone()))?;
    let text = std::str::from_utf8(bytes).map_err(|_| PolicyUnavailable::NotText(at.clone()))?;
    countersign_policy::parse(text).map_err(|error| PolicyUnavailable::Invalid {
        at: at.clone(),
        error,
    })
}

/// What was read from the forge for one change request.
pub struct Gathered {
    pub detail: ChangeRequestDetail,
    pub repo: RepoId,
    pub policy_digest: Option<String>,
    /// The policy file's bytes at the base commit, as read (`None`: there is none).
    pub policy_text: Option<Vec<u8>>,
    pub policy: Result<Policy, PolicyUnavailable>,
    pub assessment: Result<Option<FoundAssessment>, AssessmentError>,
    pub evidence: Vec<countersign_evidence::EvidenceFile>,
    pub evidence_problems: Vec<String>,
    /// CI artifacts that do not count, and why.
    pub evidence_ignored: Vec<String>,
    pub checks: Vec<Check>,
    pub commits: Vec<CommitInfo>,
    pub reviews: Vec<ForgeReview>,
    /// The CI artifacts the evidence was read from, by id (a new run makes new ids).
    pub counted_artifacts: Vec<u64>,
    /// Where each artifact's files came from, by archive name (`test-reports.zip`):
    /// the workflow file and its run.
    pub evidence_sources: std::collections::BTreeMap<String, String>,
    /// `sha256:` of the policy at the tip of the base branch, which restricts
    /// the base's; `None` when there is none.
    pub tip_policy_digest: Option<String>,
    /// When this snapshot was read.
    pub gathered_at: chrono::DateTime<chrono::Utc>,
    /// The policy file's bytes at the tip of the base branch.
    pub tip_policy_text: Option<Vec<u8>>,
    /// The forge's clock when this was read (server time, and ours then).
    pub clock: Option<countersign_forge::ForgeClock>,
    /// Set on a snapshot restored from the offline cache: what is signed
    /// from it is signed offline, from the forge time it was read at.
    pub offline_from: Option<chrono::DateTime<chrono::Utc>>,
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
    let clock = forge.clock();
    let (policy_bytes, tip_policy_bytes, default_branch, checks, commits, artifacts, reviews) = tokio::try_join!(
        forge.file_at(&repo, POLICY_PATH, &detail.base_sha),
        forge.file_at(&repo, POLICY_PATH, &detail.base_ref),
        forge.default_branch(&repo),
        forge.checks(&repo, &head),
        forge.commits(&repo, number),
        forge.artifacts(&repo, &head),
        forge.reviews(&repo, number),
    )?;
    let base_ref = &detail.base_ref;
    let at_base = Where::BaseCommit(short(&detail.base_sha).to_owned());
    let policy_digest = policy_bytes
        .as_ref()
        .map(|b| format!("sha256:{}", sha256_hex(b)));
    // What the protected branch has withdrawn since the base (revoked keys,
    // people out of a role) applies to open changes too; if its tip cannot
    // be read, that cannot be known, and the change is blocked.
    let tip_policy_digest = tip_policy_bytes
        .as_ref()
        .map(|b| format!("sha256:{}", sha256_hex(b)));
    let at_tip = Where::TipOf(base_ref.clone());
    let policy = read_policy(policy_bytes.as_deref(), &at_base).and_then(|mut policy| {
        let tip = read_policy(tip_policy_bytes.as_deref(), &at_tip)?;
        policy.restrict_to_tip(&tip, base_ref);
        Ok(policy)
    });
    // Which branches are protected is read from the default branch's tip,
    // never from the base: anyone who can push a branch can write a policy
    // on it, protecting itself.
    let anchor = if *base_ref == default_branch {
        tip_policy_bytes.clone()
    } else {
        forge.file_at(&repo, POLICY_PATH, &default_branch).await?
    };
    let policy = policy.and_then(|policy| {
        let protected = match anchor.as_deref() {
            None => *base_ref == default_branch,
            Some(bytes) => read_policy(Some(bytes), &Where::TipOf(default_branch.clone()))?
                .protects(base_ref, &default_branch),
        };
        if protected {
            Ok(policy)
        } else {
            Err(PolicyUnavailable::Unprotected {
                branch: base_ref.clone(),
                default_branch: default_branch.clone(),
            })
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
    let counted_artifacts = chosen.counted.iter().map(|a| a.id).collect();
    let evidence_sources = chosen
        .counted
        .iter()
        .map(|a| {
            (
                format!("{}.zip", a.name),
                format!(
                    "{}, run {}",
                    a.workflow_path.as_deref().unwrap_or("an unknown workflow"),
                    a.run_id
                ),
            )
        })
        .collect();
    let mut evidence = Vec::new();
    let mut evidence_problems: Vec<String> = chosen.refused.into_iter().collect();
    for artifact in chosen.counted {
        let file_name = format!("{}.zip", artifact.name);
        // A random name, created exclusively and removed when dropped: a
        // file or link planted at a name guessed in advance is never written
        // through, and two reviews at once never share a file.
        let read = match tempfile::Builder::new()
            .prefix("countersign-artifact-")
            .suffix(".zip")
            .tempfile()
        {
            Err(e) => Err(ApiError::new(
                ErrorCode::Io,
                format!("cannot make a temporary file: {e}"),
            )),
            Ok(tmp) => {
                let dest = tmp.path();
                let downloaded = forge
                    .download_artifact(&repo, &artifact, dest, MAX_ARTIFACT_BYTES)
                    .await;
                downloaded.map_err(ApiError::from).and_then(|_| {
                    std::fs::read(dest).map_err(|e| {
                        ApiError::new(
                            ErrorCode::Io,
                            format!("cannot read {}: {e}", dest.display()),
                        )
                    })
                })
            }
        };
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
        policy_text: policy_bytes,
        policy,
        assessment,
        evidence,
        evidence_problems,
        evidence_ignored: chosen.ignored,
        checks,
        commits,
        reviews,
        counted_artifacts,
        evidence_sources,
        tip_policy_digest,
        gathered_at: chrono::Utc::now(),
        tip_policy_text: tip_policy_bytes,
        // The reading made by this snapshot's requests, when there was one.
        clock: forge.clock().or(clock),
        offline_from: None,
    })
}

/// How long a snapshot may stand for the change: the preview made from it
/// can be signed this long, and the push that follows can reuse it.
pub const FRESH_FOR: chrono::Duration = chrono::Duration::minutes(5);

/// `kept` while it is younger than [`FRESH_FOR`] and the forge still has
/// what it read (conditional requests); else the change read anew.
pub async fn current(
    forge: &dyn Forge,
    kept: Option<std::sync::Arc<Gathered>>,
    request: ChangeRequestRef,
) -> Result<std::sync::Arc<Gathered>, ApiError> {
    if let Some(g) = kept {
        if chrono::Utc::now() - g.gathered_at <= FRESH_FOR
            && changes_since(forge, &g).await?.is_empty()
        {
            return Ok(g);
        }
    }
    Ok(std::sync::Arc::new(gather(forge, request).await?))
}

/// What the forge no longer has as `g` read it, in words (empty: the
/// snapshot still holds). Each question is a conditional request, answered
/// 304 when nothing moved: the change request (head, base, labels, the
/// description that carries the risk assessment), the policy at the base
/// branch's tip, and which CI artifacts count.
pub async fn changes_since(forge: &dyn Forge, g: &Gathered) -> Result<Vec<String>, ApiError> {
    let number = u64::from(g.detail.item.number);
    let (now, tip_policy) = tokio::try_join!(
        forge.change_request(&g.repo, number),
        forge.file_at(&g.repo, POLICY_PATH, &g.detail.base_ref),
    )?;
    let mut changed = Vec::new();
    let s = &now.summary;
    if s.head_sha != g.detail.item.head_sha {
        changed.push(format!(
            "the head commit ({} → {})",
            short(&g.detail.item.head_sha),
            short(&s.head_sha)
        ));
    }
    if s.base_sha != g.detail.base_sha || s.base_ref != g.detail.base_ref {
        changed.push(format!(
            "the base ({} at {} → {} at {})",
            g.detail.base_ref,
            short(&g.detail.base_sha),
            s.base_ref,
            short(&s.base_sha)
        ));
    }
    let sorted = |labels: &[String]| {
        let mut l = labels.to_vec();
        l.sort();
        l
    };
    if sorted(&s.labels) != sorted(&g.detail.item.labels) {
        changed.push(format!(
            "the labels ({} → {})",
            g.detail.item.labels.join(", "),
            s.labels.join(", ")
        ));
    }
    if now.body != g.detail.body {
        changed.push("the description (where the risk assessment is)".to_owned());
    }
    let tip_digest = tip_policy
        .as_ref()
        .map(|b| format!("sha256:{}", sha256_hex(b)));
    if tip_digest != g.tip_policy_digest {
        changed.push(format!("the policy at the tip of {}", g.detail.base_ref));
    }
    // Only when the head stayed: a new head is already named, and its
    // artifacts are another question.
    if changed.is_empty() {
        let artifacts = forge.artifacts(&g.repo, &g.detail.item.head_sha).await?;
        let chosen = crate::ci_evidence::choose(
            forge,
            &g.repo,
            &g.detail.base_sha,
            &g.detail.item.head_sha,
            g.policy.as_ref().ok(),
            artifacts,
        )
        .await?;
        let mut ids: Vec<u64> = chosen.counted.iter().map(|a| a.id).collect();
        let mut had = g.counted_artifacts.clone();
        ids.sort_unstable();
        had.sort_unstable();
        if ids != had {
            changed.push("the CI evidence (a new run, or artifacts added or removed)".to_owned());
        }
    }
    Ok(changed)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

fn facts(g: &Gathered) -> EvidenceFacts {
    let checks = g
        .checks
        .iter()
        .map(|c| CheckFact {
            name: c.name.clone(),
            app: match &c.source {
                CheckSource::ForgeCi { app } => Some(app.clone()),
                CheckSource::CheckRun { app } => app.clone(),
                CheckSource::Status => None,
            },
            is_status: c.source == CheckSource::Status,
            forge_ci: matches!(c.source, CheckSource::ForgeCi { .. }),
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
        arrivals: Default::default(),
    }
}

/// Evaluate, or say why the policy cannot be applied.
pub fn evaluate_change<'g>(
    g: &'g Gathered,
    forge_host: &str,
    records: &[Envelope],
    arrivals: &crate::records_on_forge::Arrivals,
) -> Result<Evaluation, &'g PolicyUnavailable> {
    let policy = g.policy.as_ref()?;
    let mut change = change_of(g, forge_host);
    change.arrivals = arrivals.clone();
    Ok(evaluate(policy, &change, records))
}

/// A snapshot as kept in the offline cache: what it read, so that the
/// same judgement can be made from it without the forge. Only a snapshot
/// whose policy applied is kept for signing.
#[derive(Serialize, Deserialize)]
pub struct Kept {
    detail: ChangeRequestDetail,
    repo: String,
    policy_digest: Option<String>,
    policy_text: String,
    tip_policy_text: String,
    /// Evidence files: (name, SHA-256). Their bytes are the ones the review
    /// keeps for offline reading under the same key.
    evidence_digests: Vec<(String, String)>,
    evidence_problems: Vec<String>,
    evidence_ignored: Vec<String>,
    checks: Vec<Check>,
    commits: Vec<CommitInfo>,
    reviews: Vec<ForgeReview>,
    counted_artifacts: Vec<u64>,
    evidence_sources: std::collections::BTreeMap<String, String>,
    tip_policy_digest: Option<String>,
    gathered_at: chrono::DateTime<chrono::Utc>,
    server_time: chrono::DateTime<chrono::Utc>,
    local_time: chrono::DateTime<chrono::Utc>,
    /// The records on the forge and on this device when it was read.
    pub records: Vec<Envelope>,
    /// Who read it: the forge account verified then.
    pub reader: countersign_forge::ForgeUser,
    pub forge_host: String,
}

impl Kept {
    pub fn of(
        g: &Gathered,
        records: Vec<Envelope>,
        reader: countersign_forge::ForgeUser,
        forge_host: &str,
    ) -> Option<Self> {
        g.policy.as_ref().ok()?;
        let clock = g.clock.as_ref()?;
        Some(Self {
            detail: g.detail.clone(),
            repo: g.repo.to_string(),
            policy_digest: g.policy_digest.clone(),
            policy_text: String::from_utf8(g.policy_text.clone()?).ok()?,
            tip_policy_text: String::from_utf8(g.tip_policy_text.clone()?).ok()?,
            evidence_digests: g
                .evidence
                .iter()
                .map(|e| (e.name.clone(), e.sha256.clone()))
                .collect(),
            evidence_problems: g.evidence_problems.clone(),
            evidence_ignored: g.evidence_ignored.clone(),
            checks: g.checks.clone(),
            commits: g.commits.clone(),
            reviews: g.reviews.clone(),
            counted_artifacts: g.counted_artifacts.clone(),
            evidence_sources: g.evidence_sources.clone(),
            tip_policy_digest: g.tip_policy_digest.clone(),
            gathered_at: g.gathered_at,
            server_time: clock.server_time,
            local_time: clock.local_time,
            records,
            reader,
            forge_host: forge_host.to_owned(),
        })
    }

    /// The forge time at which this snapshot was read.
    pub fn forge_time(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock().at(self.gathered_at)
    }

    pub fn clock(&self) -> countersign_forge::ForgeClock {
        countersign_forge::ForgeClock {
            server_time: self.server_time,
            local_time: self.local_time,
        }
    }

    /// The snapshot again, judged as it was, with the evidence bytes kept
    /// beside it (`(name, sha256, bytes)`); marked as read offline.
    pub fn restore(&self, kept_files: &[(String, String, Vec<u8>)]) -> Result<Gathered, ApiError> {
        let corrupt = |why: String| {
            ApiError::new(
                ErrorCode::CacheUnavailable,
                format!("the change kept for offline signing cannot be read: {why}"),
            )
        };
        let base_ref = &self.detail.base_ref;
        let policy = read_policy(
            Some(self.policy_text.as_bytes()),
            &Where::BaseCommit(short(&self.detail.base_sha).to_owned()),
        )
        .and_then(|mut policy| {
            let tip = read_policy(
                Some(self.tip_policy_text.as_bytes()),
                &Where::TipOf(base_ref.clone()),
            )?;
            policy.restrict_to_tip(&tip, base_ref);
            Ok(policy)
        });
        let mut evidence = Vec::new();
        for (name, sha256) in &self.evidence_digests {
            let bytes = kept_files
                .iter()
                .find(|(n, s, _)| n == name && s == sha256)
                .map(|(_, _, bytes)| bytes)
                .ok_or_else(|| corrupt(format!("the evidence file {name} was not kept as read")))?;
            let file =
                countersign_evidence::read(name, bytes).map_err(|e| corrupt(e.to_string()))?;
            if file.sha256 != *sha256 {
                return Err(corrupt(format!(
                    "the evidence file {name} changed since it was kept"
                )));
            }
            evidence.push(file);
        }
        Ok(Gathered {
            detail: self.detail.clone(),
            repo: self.repo.parse()?,
            policy_digest: self.policy_digest.clone(),
            policy_text: Some(self.policy_text.clone().into_bytes()),
            policy,
            assessment: find_assessment(&self.detail.body),
            evidence,
            evidence_problems: self.evidence_problems.clone(),
            evidence_ignored: self.evidence_ignored.clone(),
            checks: self.checks.clone(),
            commits: self.commits.clone(),
            reviews: self.reviews.clone(),
            counted_artifacts: self.counted_artifacts.clone(),
            evidence_sources: self.evidence_sources.clone(),
            tip_policy_digest: self.tip_policy_digest.clone(),
            gathered_at: self.gathered_at,
            tip_policy_text: Some(self.tip_policy_text.clone().into_bytes()),
            clock: Some(self.clock()),
            offline_from: Some(self.forge_time()),
        })
    }
}
