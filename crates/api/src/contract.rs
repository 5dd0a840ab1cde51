//! The IPC contract, declared once: request and response types, and the list
//! of commands that pair them. `ui/src/ipc/contract.ts` is generated from this
//! module by [`typescript`]; a test fails when the committed file is stale.

use serde::{Deserialize, Serialize};
use ts_rs::{Config, TS};

use crate::ApiError;

/// What the window shows in its title bar and status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// e.g. `Sandbox` or `github.com`.
    pub forge_label: String,
    pub forge_url: String,
    /// True when the forge is the built-in sandbox: the UI must say so plainly.
    pub sandbox: bool,
}

/// Closed sets print as their wire names (`not_needed`, `high`), so what
/// the CLI prints and what the window receives are the same words.
macro_rules! display_as_wire_name {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match serde_json::to_value(self) {
                    Ok(serde_json::Value::String(name)) => f.write_str(&name),
                    _ => Err(std::fmt::Error),
                }
            }
        }
    )*};
}

display_as_wire_name!(
    RiskClass,
    Verdict,
    Standing,
    CheckState,
    DevicePollState,
    OutboxState,
    Meaning
);

/// A change's risk class: in the queue from its `risk:*` label until a
/// policy computes it; in a review as the policy's risk classes computed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RiskClass {
    High,
    Medium,
    Low,
    Unassessed,
}

impl From<countersign_policy::risk::RiskClass> for RiskClass {
    fn from(r: countersign_policy::risk::RiskClass) -> Self {
        use countersign_policy::risk::RiskClass as P;
        match r {
            P::High => Self::High,
            P::Medium => Self::Medium,
            P::Low => Self::Low,
            P::Unassessed => Self::Unassessed,
        }
    }
}

/// What the policy decides for a change request. The gate passes on
/// `Approved` and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approved,
    Pending,
    Rejected,
    /// A record does not verify.
    Failed,
    /// The policy cannot be applied (missing, unreadable, no assessment, …).
    Blocked,
}

impl From<&countersign_policy::Verdict> for Verdict {
    fn from(v: &countersign_policy::Verdict) -> Self {
        use countersign_policy::Verdict as P;
        match v {
            P::Approved => Self::Approved,
            P::Pending => Self::Pending,
            P::Rejected => Self::Rejected,
            P::Failed => Self::Failed,
            P::Blocked(_) => Self::Blocked,
        }
    }
}

/// How one signature stands under the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Counts toward its role's quorum.
    Counted,
    /// A current rejection: the change is rejected.
    Rejects,
    /// Valid and current, but no requirement needs it.
    NotNeeded,
    /// Made on an earlier commit, diff or evidence.
    Stale,
    /// Verifies, but the policy does not accept it.
    Refused,
    /// Does not verify.
    Invalid,
    /// Taken back by its signer's later withdrawal.
    Withdrawn,
    /// A withdrawal that took back the signer's own earlier record.
    Withdraws,
}

/// A check or commit status on the head commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    Success,
    Pending,
    Failure,
    /// Neutral or skipped: neither green nor red.
    Neutral,
}

impl From<countersign_forge::CheckState> for CheckState {
    fn from(c: countersign_forge::CheckState) -> Self {
        use countersign_forge::CheckState as F;
        match c {
            F::Success => Self::Success,
            F::Pending => Self::Pending,
            F::Failure => Self::Failure,
            F::Neutral => Self::Neutral,
        }
    }
}

/// Where a device sign-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DevicePollState {
    /// Not yet confirmed in the browser: poll again.
    Pending,
    /// Confirmed; the token is in the keychain.
    Approved,
    Denied,
    Expired,
}

/// Whether a signed record has reached its target on the forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Pending,
    Pushed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Person {
    /// The forge's numeric user id: what identifies a person (logins can be renamed).
    #[ts(type = "number")]
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QueueItem {
    /// `owner/name`.
    pub repo: String,
    pub number: u32,
    pub title: String,
    pub author: Person,
    pub risk: RiskClass,
    pub labels: Vec<String>,
    pub draft: bool,
    pub head_sha: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Whether it waits for one of my roles, as of the last review of this
    /// head on this device.
    #[serde(default)]
    pub for_me: ForMe,
}

/// Whether a change request waits for the signed-in user's signature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ForMe {
    /// A requirement one of my roles may meet now is open.
    Waiting,
    NotWaiting,
    /// Not reviewed on this device at its current head: not known.
    #[default]
    NotJudged,
}

/// A repository whose change requests could not be loaded; the others still show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RepoProblem {
    pub repo: String,
    pub error: ApiError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Queue {
    pub items: Vec<QueueItem>,
    pub problems: Vec<RepoProblem>,
    /// RFC 3339, UTC: when this list was fetched.
    pub synced_at: String,
    /// True when the forge could not be reached and this is the copy kept at `synced_at`.
    #[serde(default)]
    pub offline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangeRequestRef {
    pub repo: String,
    pub number: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangedFile {
    pub path: String,
    pub previous_path: Option<String>,
    pub status: String,
    pub additions: u32,
    pub deletions: u32,
    /// False when the forge left this file's patch out: the UI must say the
    /// diff is incomplete rather than show the file as unchanged.
    pub patch_available: bool,
}

/// How a file changed, as the diff viewer shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DiffFileStatus {
    Added,
    Removed,
    Modified,
    Renamed,
}

/// Where a file's section of the diff came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DiffOrigin {
    /// As the forge sent it.
    Forge,
    /// Rebuilt from the file's contents at the base and head commits.
    Rebuilt,
    /// The forge left it out and it could not be rebuilt: not shown, not whole.
    LeftOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`
    NoNewline,
}

/// One line of a hunk. `emphasis` are the changed words, as `[start, end)`
/// offsets in UTF-16 code units of `text` (what a JavaScript string counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DiffLine {
    pub kind: LineKind,
    pub old: Option<u32>,
    pub new: Option<u32>,
    pub text: String,
    pub emphasis: Vec<[u32; 2]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DiffHunk {
    /// The `@@ -a,b +c,d @@ section` line.
    pub header: String,
    pub lines: Vec<DiffLine>,
}

/// One file of the diff, parsed for the viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DiffFile {
    pub path: String,
    pub previous_path: Option<String>,
    pub status: DiffFileStatus,
    pub additions: u32,
    pub deletions: u32,
    /// Git said `Binary files … differ`: no lines to show.
    pub binary: bool,
    /// Made by a tool (lock files, `@generated`, `DO NOT EDIT`): shown as such.
    pub generated: bool,
    /// Every change in the file is in whitespace only.
    pub whitespace_only: bool,
    pub origin: DiffOrigin,
    pub hunks: Vec<DiffHunk>,
    /// Rows the hunks make (a header each, then their lines): the viewer
    /// places a file before its hunks arrive.
    #[serde(default)]
    pub rows: u32,
    /// False when `hunks` were left out of this answer, to be asked for with
    /// `diff_files` as the file scrolls into view (large changes).
    #[serde(default = "loaded")]
    pub loaded: bool,
}

fn loaded() -> bool {
    true
}

/// A link from forge text the reader asked to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LinkRequest {
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LinkOpened {
    /// The address handed to the browser, as the URL parser wrote it.
    pub url: String,
}

/// Files `from`.. `from + count` of a change's diff, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DiffPage {
    pub change_request: ChangeRequestRef,
    pub from: u32,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DiffFiles {
    pub from: u32,
    pub files: Vec<DiffFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangeRequestDetail {
    pub item: QueueItem,
    pub body: String,
    pub web_url: String,
    pub base_ref: String,
    pub base_sha: String,
    pub files: Vec<ChangedFile>,
    /// The whole unified diff: as the forge sent it, with any file the forge
    /// left out rebuilt from its contents at the base and head commits.
    /// Empty in the window's answer (`open_change`), which shows `diff_files`.
    pub diff: String,
    /// The same diff parsed into files, hunks and lines for the viewer.
    #[serde(default)]
    pub diff_files: Vec<DiffFile>,
    /// Files whose diff was rebuilt from their contents.
    pub reconstructed: Vec<String>,
    /// What could not be fetched, said exactly; empty when the diff is whole.
    pub missing: Vec<String>,
    /// RFC 3339, UTC: when this was fetched from the forge.
    pub synced_at: String,
    /// True when this is the copy kept for offline reading.
    #[serde(default)]
    pub offline: bool,
    pub additions: u32,
    pub deletions: u32,
    /// How many commits the forge counts in the change (its list may hold fewer).
    #[serde(default)]
    pub commits: u32,
    /// The forge's numeric id of the repository, when it says.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub repo_id: Option<u64>,
}

/// The policy at the base commit, as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyView {
    /// `sha256:<hex>` of `.countersign/policy.toml` at the base SHA.
    pub digest: Option<String>,
    /// Why the policy cannot be applied (missing, or an error with line and column).
    pub error: Option<String>,
}

/// The ISO 14971-style assessment from the change request's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AssessmentView {
    pub hazard: String,
    pub hazardous_situation: String,
    pub harm: String,
    pub severity: String,
    pub probability_before: String,
    pub probability_after: String,
    pub risk_before: String,
    pub risk_after: String,
    pub risk_controls: Vec<String>,
    pub verification: Vec<String>,
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EvidenceView {
    pub name: String,
    pub sha256: String,
    /// `JUnit XML`, `Cobertura XML`, `LCOV`, `SARIF` or `file`.
    pub kind: String,
    /// One line for people, e.g. `12 passed, 1 failed, 0 skipped`.
    pub summary: String,
    /// The workflow file and run the file came from, e.g. `.github/workflows/ci.yml, run 30042`.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    Failed,
    Errored,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TestProblemView {
    /// The evidence file (report) that says so.
    pub file: String,
    pub name: String,
    pub outcome: TestOutcome,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FileCoverageView {
    /// The changed file's path when the report's matches one, else the report's.
    pub path: String,
    pub lines_valid: u32,
    pub lines_covered: u32,
    /// Lines this change adds or modifies that coverage instruments, and how many ran.
    pub changed_lines: u32,
    pub changed_covered: u32,
    /// New line numbers of changed lines that never ran.
    pub uncovered_changed: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangedLinesCoverage {
    pub changed: u32,
    pub covered: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FindingView {
    /// The evidence file (SARIF log) it comes from.
    pub file: String,
    pub rule: String,
    pub level: String,
    pub message: String,
    /// The changed file's path when the finding's matches one, else the finding's.
    pub path: Option<String>,
    pub line: Option<u32>,
    /// On a line this change adds or modifies.
    pub on_changed_line: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TestsView {
    #[ts(type = "number")]
    pub passed: u64,
    #[ts(type = "number")]
    pub failed: u64,
    #[ts(type = "number")]
    pub skipped: u64,
    pub failing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CheckView {
    pub name: String,
    pub state: CheckState,
    /// Who reported it: `check run by github-actions`, `commit status`…
    #[serde(default)]
    pub reported_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RequirementView {
    pub rule: String,
    pub role: String,
    pub role_title: String,
    pub needed: u32,
    pub meanings: Vec<Meaning>,
    pub signed_by: Vec<String>,
    pub met: bool,
    /// The rule's order lets this role sign now.
    pub may_sign_now: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignatureView {
    pub printed_name: String,
    pub role: String,
    pub meaning: Option<Meaning>,
    pub signed_at: String,
    /// The reason given, as signed.
    #[serde(default)]
    pub reason: String,
    /// The signer's clock minus the forge's when signing, in seconds.
    #[serde(default)]
    pub clock_skew_seconds: Option<i64>,
    pub standing: Standing,
    pub why: Option<String>,
    /// `sha256:<hex>` of the signed statement: what a withdrawal names.
    #[serde(default)]
    pub record: Option<String>,
    /// Signed by the signed-in user: theirs to withdraw.
    #[serde(default)]
    pub mine: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EvidenceCheckView {
    pub what: String,
    pub met: bool,
    pub detail: String,
}

/// One commit of the change, as the forge lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CommitView {
    pub sha: String,
    pub message: String,
    /// The forge account the author's e-mail is linked to, else the e-mail written in the commit.
    pub author: String,
    pub author_linked: bool,
    pub committer: String,
    pub committer_linked: bool,
}

/// Whether a conversation entry is a review or a plain comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Comment,
    Review,
}

/// A review's verdict on the forge: context for the reader, never a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ForgeReviewState {
    Approved,
    ChangesRequested,
    Commented,
    Dismissed,
    Pending,
    /// A state this version does not know; shown as such, never as approval.
    Other,
}

impl ForgeReviewState {
    pub fn from_forge(state: &str) -> Self {
        match state {
            "APPROVED" => Self::Approved,
            "CHANGES_REQUESTED" => Self::ChangesRequested,
            "COMMENTED" => Self::Commented,
            "DISMISSED" => Self::Dismissed,
            "PENDING" => Self::Pending,
            _ => Self::Other,
        }
    }
}

/// One review or comment on the change request (the records comment left
/// out), as the forge wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConversationEntry {
    pub kind: ConversationKind,
    pub author: String,
    pub body: String,
    /// Set for reviews.
    pub review_state: Option<ForgeReviewState>,
    /// A review left on an earlier commit than the current head.
    pub earlier_commit: bool,
    /// RFC 3339, UTC, as the forge said; `None` when it did not say.
    pub at: Option<String>,
}

/// Everything the policy says about one change request right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Review {
    pub change_request: ChangeRequestRef,
    pub head_sha: String,
    pub policy: PolicyView,
    /// Computed by the policy's risk classes; `unassessed` when it cannot be applied.
    pub risk_class: RiskClass,
    pub assessment: Option<AssessmentView>,
    pub assessment_error: Option<String>,
    pub evidence: Vec<EvidenceView>,
    /// Evidence that was refused (unsafe archive, malformed report), naming the file.
    pub evidence_problems: Vec<String>,
    /// CI artifacts that do not count as evidence, and why (not from a
    /// workflow the policy names, a workflow the change edits, superseded).
    #[serde(default)]
    pub evidence_ignored: Vec<String>,
    /// Commit authors, committers and co-authors that neither the forge nor
    /// the roster can name (e-mail, part, commit).
    #[serde(default)]
    pub unknown_contributors: Vec<String>,
    pub tests: Option<TestsView>,
    pub coverage_percent: Option<f64>,
    /// SARIF findings as `[level, count]`.
    pub findings: Vec<(String, u32)>,
    pub checks: Vec<CheckView>,
    pub rules: Vec<String>,
    pub requirements: Vec<RequirementView>,
    pub signatures: Vec<SignatureView>,
    pub evidence_checks: Vec<EvidenceCheckView>,
    pub verdict: Verdict,
    /// Exactly what the forge status says (at most 140 characters).
    pub status_line: String,
    /// Roles the signed-in user is a member of in the base policy.
    pub my_roles: Vec<String>,
    /// A requirement one of those roles could meet now is still open, and
    /// this user's own signatures do not already count for it.
    #[serde(default)]
    pub waiting_for_me: bool,
    /// Every test that did not pass, with its message and report.
    #[serde(default)]
    pub test_problems: Vec<TestProblemView>,
    /// Coverage per source file, with the lines this change adds or modifies.
    #[serde(default)]
    pub coverage_files: Vec<FileCoverageView>,
    /// Of the lines this change adds or modifies that coverage instruments,
    /// how many ran: `None` without line-level coverage data.
    #[serde(default)]
    pub changed_lines_coverage: Option<ChangedLinesCoverage>,
    /// Every SARIF finding, with where it is.
    #[serde(default)]
    pub finding_list: Vec<FindingView>,
    /// The change's commits, oldest first.
    #[serde(default)]
    pub commits: Vec<CommitView>,
    /// Reviews and comments on the forge in the order they were made
    /// (entries the forge gave no time come last).
    #[serde(default)]
    pub conversation: Vec<ConversationEntry>,
    /// RFC 3339, UTC: when this was computed from the forge.
    pub synced_at: String,
    /// True when this is the copy kept for offline reading.
    #[serde(default)]
    pub offline: bool,
}

/// The change request the window was launched onto (a desktop link or the
/// change's web address on the command line), once: taken by the first ask.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RequestedChange {
    pub change: Option<ChangeRequestRef>,
    /// Why a link given was not opened (another forge, not a change).
    pub refused: Option<String>,
}

/// A dossier written for an inspector, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DossierWritten {
    /// The folder: `index.html`, `dossier.pdf`, the records, the evidence.
    pub dir: String,
    /// The same files in one archive beside it.
    pub zip: String,
    pub files: u32,
}

/// A repository, by `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RepoRef {
    pub repo: String,
}

/// Where a policy text is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyProblem {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RosterMember {
    pub printed_name: String,
    pub login: String,
    #[ts(type = "number")]
    pub user_id: u64,
    pub keys: u32,
    /// Each signing key, as the roster lists it.
    #[serde(default)]
    pub key_list: Vec<RosterKey>,
}

/// A member's signing key in the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RosterKey {
    /// Base64 of the raw public key, as the policy file writes it.
    pub public_key: String,
    pub fingerprint: String,
    /// RFC 3339, when set.
    pub valid_until: Option<String>,
    pub revoked_at: Option<String>,
}

/// Revoke a member's signing key (lost laptop, leaver): the roster edit and
/// the signed revocation record, proposed together as a pull request.
#[derive(Debug, Deserialize, TS)]
pub struct RevokeKey {
    pub repo: String,
    /// The key as the roster lists it ([`RosterKey::public_key`]).
    pub public_key: String,
    pub reason: String,
    /// The administrator's own signing password: the revocation is signed.
    #[ts(type = "string")]
    pub password: countersign_secret::Secret<String>,
}

/// Move this device's signer to a new key: the old key ends, the new one
/// joins the same roles, by a record signed with the old key.
#[derive(Debug, Deserialize, TS)]
pub struct RotateKey {
    pub repo: String,
    pub reason: String,
    /// The current signing password (it unseals the old key, which signs).
    #[ts(type = "string")]
    pub password: countersign_secret::Secret<String>,
    /// The new key's signing password.
    #[ts(type = "string")]
    pub new_password: countersign_secret::Secret<String>,
}

/// One administrator's authorization for a member who forgot their signing
/// password to enrol a new key (the policy's `reset_by` role; two needed).
#[derive(Debug, Deserialize, TS)]
pub struct AuthorizeReset {
    pub repo: String,
    /// The member's forge login, as the roster lists it.
    pub login: String,
    pub reason: String,
    /// The administrator's own signing password: the authorization is signed.
    #[ts(type = "string")]
    pub password: countersign_secret::Secret<String>,
}

/// Enrol a new key after a forgotten password, on two administrators'
/// authorizations merged into the base branch; the old key is revoked.
#[derive(Debug, Deserialize, TS)]
pub struct ResetEnrolment {
    pub repo: String,
    /// Paths of the authorization records on the base branch
    /// ([`KeyChange::record_path`] of each administrator's).
    pub authorizations: Vec<String>,
    /// The new key's signing password.
    #[ts(type = "string")]
    pub password: countersign_secret::Secret<String>,
    /// The signer acknowledges again that the signature is legally binding.
    pub acknowledged: bool,
}

/// A key revoked or rotated: the pull request that carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KeyChange {
    pub number: u32,
    pub branch: String,
    /// Where the signed record is in the pull request.
    pub record_path: String,
    /// Whose key it was, and the roles it was listed in.
    pub holder: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RosterRole {
    pub name: String,
    pub description: String,
    pub members: Vec<RosterMember>,
}

/// A policy text checked: its problem, or what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyCheck {
    pub text: String,
    pub problem: Option<PolicyProblem>,
    pub roles: Vec<RosterRole>,
    pub rules: Vec<String>,
}

/// The policy on the tip of the default branch, for an administrator to edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyDraft {
    pub repo: String,
    pub base_branch: String,
    /// `sha256:<hex>` of the current file; `None` when there is none yet.
    pub digest: Option<String>,
    pub check: PolicyCheck,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyText {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AddSigner {
    pub text: String,
    pub role: String,
    /// The signer's exported enrolment record (JSON), pasted.
    pub record_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProposePolicy {
    pub repo: String,
    pub text: String,
    /// Why the policy changes: the pull request's description and the audit reason.
    pub reason: String,
}

/// The pull request that now carries the policy change, governed by the current policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProposedPolicy {
    pub number: u32,
    pub branch: String,
}

/// What the settings screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SettingsView {
    pub settings: ForgeSettings,
    /// A token for `api_url` is in the OS keychain (never shown).
    pub token_stored: bool,
    /// The forge this window is connected to now.
    pub connected_to: String,
}

/// A token to check with the forge and keep in the keychain.
#[derive(Debug, Deserialize, TS)]
pub struct TokenRequest {
    /// Which kind of forge the token is for (each checks it its own way).
    pub kind: ForgeKind,
    pub api_url: String,
    #[ts(type = "string")]
    pub token: countersign_secret::Secret<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeviceFlowRequest {
    /// GitHub or GitLab (the forges with a device grant).
    pub kind: ForgeKind,
    pub web_url: String,
    pub api_url: String,
    pub client_id: String,
}

/// Show the user this code and where to enter it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeviceStart {
    pub user_code: String,
    pub verification_uri: String,
    pub interval_seconds: u32,
    pub expires_in_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DevicePoll {
    pub state: DevicePollState,
    pub person: Option<Person>,
    /// Wait this long before the next poll.
    pub interval_seconds: u32,
}

/// What a sync for offline reading fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncOutcome {
    pub change_requests: u32,
    /// `owner/name#n: why` for each that could not be fetched.
    pub problems: Vec<String>,
    pub synced_at: String,
}

/// One IPC command: its name and the TypeScript names of what it takes and gives.
pub struct Command {
    pub name: &'static str,
    request: fn(&Config) -> String,
    response: fn(&Config) -> String,
}

macro_rules! contract_commands {
    ($($name:ident $(($req:ty))? => $res:ty $([$after:ident])?;)*) => {
        /// Every command the desktop shell registers, from [`crate::for_each_command`].
        pub const COMMANDS: &[Command] = &[
            $(Command {
                name: stringify!($name),
                request: request_name!($($req)?),
                response: <$res as TS>::name,
            },)*
        ];

        fn declarations(cfg: &Config) -> Vec<String> {
            [$($(declaration::<$req>(cfg),)? declaration::<$res>(cfg),)*].into_iter().flatten().collect()
        }
    };
}

/// A command that takes nothing takes `null` in TypeScript.
macro_rules! request_name {
    () => {
        |_: &Config| "null".to_owned()
    };
    ($req:ty) => {
        <$req as TS>::name
    };
}

crate::for_each_command!(contract_commands);

/// `()` (no request) has no declaration of its own: it is `null` inline.
fn declaration<T: TS>(cfg: &Config) -> Option<String> {
    (T::name(cfg) != "null").then(|| T::decl(cfg))
}

/// Names of the registered commands, for the shell and the capability check.
pub fn command_names() -> Vec<&'static str> {
    COMMANDS.iter().map(|c| c.name).collect()
}

/// The TypeScript module `ui/src/ipc/contract.ts`.
pub fn typescript() -> String {
    let cfg = Config::default();
    let mut decls: Vec<String> = declarations(&cfg)
        .into_iter()
        .chain([
            ApiError::decl(&cfg),
            RiskClass::decl(&cfg),
            Verdict::decl(&cfg),
            Standing::decl(&cfg),
            CheckState::decl(&cfg),
            DevicePollState::decl(&cfg),
            OutboxState::decl(&cfg),
            ForgeKind::decl(&cfg),
            Person::decl(&cfg),
            QueueItem::decl(&cfg),
            RepoProblem::decl(&cfg),
            ChangedFile::decl(&cfg),
            DiffFileStatus::decl(&cfg),
            DiffOrigin::decl(&cfg),
            LineKind::decl(&cfg),
            DiffLine::decl(&cfg),
            DiffHunk::decl(&cfg),
            DiffFile::decl(&cfg),
            DiffPage::decl(&cfg),
            LinkRequest::decl(&cfg),
            PasswordChange::decl(&cfg),
            LinkOpened::decl(&cfg),
            DiffFiles::decl(&cfg),
            Meaning::decl(&cfg),
            DigestEntry::decl(&cfg),
            AuditRow::decl(&cfg),
            SeenContent::decl(&cfg),
            AuditCheck::decl(&cfg),
            OutboxRow::decl(&cfg),
            PolicyView::decl(&cfg),
            AssessmentView::decl(&cfg),
            EvidenceView::decl(&cfg),
            TestsView::decl(&cfg),
            TestOutcome::decl(&cfg),
            TestProblemView::decl(&cfg),
            FileCoverageView::decl(&cfg),
            ChangedLinesCoverage::decl(&cfg),
            FindingView::decl(&cfg),
            CommitView::decl(&cfg),
            ConversationEntry::decl(&cfg),
            ForMe::decl(&cfg),
            DossierWritten::decl(&cfg),
            RequestedChange::decl(&cfg),
            ConversationKind::decl(&cfg),
            ForgeReviewState::decl(&cfg),
            CheckView::decl(&cfg),
            RequirementView::decl(&cfg),
            SignatureView::decl(&cfg),
            EvidenceCheckView::decl(&cfg),
            PolicyProblem::decl(&cfg),
            ForgeSettings::decl(&cfg),
            RosterMember::decl(&cfg),
            RosterRole::decl(&cfg),
            RosterKey::decl(&cfg),
            RevokeKey::decl(&cfg),
            RotateKey::decl(&cfg),
            RemoveSecurityKey::decl(&cfg),
            AuthorizeReset::decl(&cfg),
            ResetEnrolment::decl(&cfg),
            KeyChange::decl(&cfg),
            PolicyCheck::decl(&cfg),
        ])
        .collect();
    decls.sort();
    decls.dedup();
    let mut out = String::from(
        "// Generated from crates/api/src/contract.rs by `cargo test -p countersign-api`\n\
         // with UPDATE_CONTRACT=1. Do not edit by hand.\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(d.trim_end());
        out.push_str("\n\n");
    }
    out.push_str(&crate::ErrorCode::typescript());
    out.push('\n');
    out.push_str("/** Each command's `[request, response]`; `null` means it takes nothing. */\n");
    out.push_str("export type Commands = {\n");
    for c in COMMANDS {
        out.push_str(&format!(
            "  {}: [{}, {}];\n",
            c.name,
            (c.request)(&cfg),
            (c.response)(&cfg)
        ));
    }
    out.push_str("};\n");
    out
}

/// The controlled list of signature meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Meaning {
    Authorship,
    Review,
    Approval,
    Responsibility,
    Rejection,
    /// Takes back the signer's own earlier record (`SignatureDraft::withdraws`).
    Withdrawal,
}

/// Whether this device can sign, and what the next signing will ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignerStatus {
    /// The forge account of the configured credential.
    pub identity: Person,
    pub enrolled: bool,
    pub printed_name: Option<String>,
    pub fingerprint: Option<String>,
    /// The text the signer must accept to enrol; `{name}` stands for the printed name.
    pub acknowledgement_template: String,
    /// RFC 3339 UTC, when signing is locked after repeated failures.
    pub locked_until: Option<String>,
    /// Registered FIDO2 security keys.
    pub security_keys: u32,
    /// A security-key reader is available in this build (USB).
    pub security_key_support: bool,
    /// RFC 3339: when the key was enrolled (its `valid_from`).
    #[serde(default)]
    pub enrolled_at: Option<String>,
    /// RFC 3339: when the signing password was last set.
    #[serde(default)]
    pub password_set_at: Option<String>,
    /// RFC 3339: when the continuous signing session ends unless used;
    /// `None`: the next signing asks for the forge identity and password.
    #[serde(default)]
    pub session_ends_at: Option<String>,
    /// Each registered security key's credential id (base64url).
    #[serde(default)]
    pub security_key_ids: Vec<String>,
    /// The public enrolment record, to hand to an administrator.
    #[serde(default)]
    pub enrolment_record: Option<String>,
}

/// Remove a registered security key from this device's signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RemoveSecurityKey {
    pub credential_id: String,
    /// Why (a lost key, a replaced one): in the audit trail.
    pub reason: String,
}

#[derive(Debug, Deserialize, TS)]
pub struct EnrolRequest {
    pub printed_name: String,
    #[ts(type = "string")]
    pub password: countersign_secret::Secret<String>,
    /// The signer accepted the acknowledgement text shown to them.
    pub acknowledged: bool,
}

/// A new signing password for this device's key (11.300(b)): the old one
/// proves the signer, the key is re-sealed, nothing else changes.
#[derive(Debug, Deserialize, TS)]
pub struct PasswordChange {
    #[ts(type = "string")]
    pub old_password: countersign_secret::Secret<String>,
    #[ts(type = "string")]
    pub new_password: countersign_secret::Secret<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Enrolment {
    pub fingerprint: String,
    pub key_id: String,
    pub acknowledgement: String,
    /// The public enrolment record, to hand to an administrator for the policy roster.
    pub record_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignatureDraft {
    pub change_request: ChangeRequestRef,
    pub meaning: Meaning,
    pub reason: String,
    pub role: String,
    /// Confirm with the registered FIDO2 security key (PIN and touch) as well
    /// as the signing password.
    #[serde(default)]
    pub use_security_key: bool,
    /// Which registered security key (its credential id; a backup one);
    /// `None`: the first registered.
    #[serde(default)]
    pub security_key_id: Option<String>,
    /// For a withdrawal, and only then: the record it takes back
    /// (`SignatureView::record`), which must be the signer's own.
    #[serde(default)]
    pub withdraws: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DigestEntry {
    pub name: String,
    pub sha256: String,
}

/// "What you are signing": exactly the digests the signature will cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignaturePreview {
    /// Names this preview: signing takes it, and signs exactly this statement.
    pub snapshot_id: String,
    /// The signing time the record will carry, fixed now (RFC 3339).
    pub signed_at: String,
    /// After this the preview must be renewed (RFC 3339, five minutes on).
    pub expires_at: String,
    pub signer: String,
    pub head_sha: String,
    pub diff_sha256: String,
    pub evidence: Vec<DigestEntry>,
    /// SHA-256 of the exact bytes that will be signed.
    pub record_digest: String,
    /// The manifestation the record will carry, with the time of signing left to fill.
    pub meaning_statement: String,
    /// This computer's clock minus the forge's, as last measured.
    pub clock_skew_seconds: Option<i64>,
    /// Said before signing when the skew is over a minute.
    pub clock_warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SeenContent {
    pub head_sha: String,
    pub diff_sha256: String,
}

#[derive(Debug, Deserialize, TS)]
pub struct SignRequest {
    /// The preview being signed ([`SignaturePreview::snapshot_id`]).
    pub snapshot_id: String,
    /// The form as previewed: anything else starts a new preview.
    pub draft: SignatureDraft,
    /// What the preview showed. Signing refuses if the forge now has anything
    /// else: what you see is what you sign (11.10(h)).
    pub seen: SeenContent,
    #[ts(type = "string")]
    pub password: countersign_secret::Secret<String>,
    /// The security key's PIN, when the draft uses one.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub security_key_pin: Option<countersign_secret::Secret<String>>,
}

/// Register a FIDO2 security key for this signer (PIN set on the key).
#[derive(Debug, Deserialize, TS)]
pub struct SecurityKeyRequest {
    #[serde(default)]
    #[ts(type = "string | null")]
    pub pin: Option<countersign_secret::Secret<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignedRecord {
    pub key_id: String,
    /// Printed name, date and time, meaning and reason, derived from the signed record.
    pub manifestation: String,
    /// The DSSE envelope, exactly as signed.
    pub envelope_json: String,
}

/// What the audit viewer asks for; every field narrows the list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct AuditFilter {
    /// Part of the object, e.g. `#42` or a repository name.
    pub object: Option<String>,
    /// Part of the actor (e.g. a login) or of their printed name.
    pub actor: Option<String>,
    /// An event kind such as `sign` or `auth_failed`.
    pub kind: Option<String>,
    /// RFC 3339: only entries at or after this time.
    pub since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditRow {
    #[ts(type = "number")]
    pub seq: u64,
    pub kind: String,
    pub actor: String,
    /// The actor's printed name, as the trail last recorded it.
    #[serde(default)]
    pub printed_name: Option<String>,
    pub at_utc: String,
    pub local_offset: String,
    /// The forge's time when the entry was made, when it was known.
    #[serde(default)]
    pub forge_time: Option<String>,
    pub object: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditCheck {
    pub holds: bool,
    #[ts(type = "number")]
    pub size: u64,
    pub head: String,
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditTrail {
    pub rows: Vec<AuditRow>,
    pub check: AuditCheck,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OutboxRow {
    pub repo: String,
    pub number: u32,
    pub target: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Signed records and where they still have to go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Outbox {
    pub items: Vec<OutboxRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PushOutcome {
    pub pushed: u32,
    pub failed: u32,
    pub errors: Vec<String>,
}

pub const GITHUB_API: &str = "https://api.github.com/";
pub const GITHUB_WEB: &str = "https://github.com/";

/// The kinds of forge the app can work with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ForgeKind {
    /// The built-in demo forge.
    Sandbox,
    /// github.com or GitHub Enterprise Server.
    #[serde(rename = "github")]
    GitHub,
    /// A Gitea server (`https://host/api/v1/`).
    Gitea,
    /// A Forgejo server (`https://host/api/v1/`).
    Forgejo,
    /// GitLab.com or a self-managed GitLab (`https://host/api/v4/`).
    #[serde(rename = "gitlab")]
    GitLab,
}

/// Which forge, where, and which repositories to watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ForgeSettings {
    pub kind: ForgeKind,
    /// REST root, e.g. `https://api.github.com/` or `https://ghe.example/api/v3/`.
    pub api_url: String,
    /// Web root, for the OAuth device flow: `https://github.com/` or `https://ghe.example/`.
    pub web_url: String,
    /// The OAuth app's client id for the device flow (public; no secret is needed).
    pub oauth_client_id: String,
    /// `owner/name` to watch; empty: the account's most recently pushed repositories.
    pub repos: Vec<String>,
    /// Desktop notifications when a change newly needs one of my roles or a
    /// signature of mine turned stale (absent in older files: on).
    #[serde(default = "notifications_on")]
    pub notifications: bool,
}

fn notifications_on() -> bool {
    true
}

impl Default for ForgeSettings {
    fn default() -> Self {
        Self {
            kind: ForgeKind::Sandbox,
            api_url: GITHUB_API.into(),
            web_url: GITHUB_WEB.into(),
            oauth_client_id: String::new(),
            repos: Vec::new(),
            notifications: true,
        }
    }
}
