// Generated from crates/api/src/contract.rs by `cargo test -p countersign-api`
// with UPDATE_CONTRACT=1. Do not edit by hand.

export type AddSigner = { text: string, role: string, 
/**
 * The signer's exported enrolment record (JSON), pasted.
 */
record_json: string, };

export type ApiError = { code: ErrorCode, message: string, };

export type AppInfo = { version: string, 
/**
 * e.g. `Sandbox` or `github.com`.
 */
forge_label: string, forge_url: string, 
/**
 * True when the forge is the built-in sandbox: the UI must say so plainly.
 */
sandbox: boolean, };

export type AssessmentView = { hazard: string, hazardous_situation: string, harm: string, severity: string, probability_before: string, probability_after: string, risk_before: string, risk_after: string, risk_controls: Array<string>, verification: Array<string>, digest: string, };

export type AuditCheck = { holds: boolean, size: number, head: string, problem: string | null, };

export type AuditFilter = { 
/**
 * Part of the object, e.g. `#42` or a repository name.
 */
object: string | null, 
/**
 * Part of the actor (e.g. a login) or of their printed name.
 */
actor: string | null, 
/**
 * An event kind such as `sign` or `auth_failed`.
 */
kind: string | null, 
/**
 * RFC 3339: only entries at or after this time.
 */
since: string | null, };

export type AuditRow = { seq: number, kind: string, actor: string, 
/**
 * The actor's printed name, as the trail last recorded it.
 */
printed_name: string | null, at_utc: string, local_offset: string, 
/**
 * The forge's time when the entry was made, when it was known.
 */
forge_time: string | null, object: string, old_value: string | null, new_value: string | null, reason: string | null, detail: string | null, };

export type AuditTrail = { rows: Array<AuditRow>, check: AuditCheck, };

export type AuthorizeReset = { repo: string, 
/**
 * The member's forge login, as the roster lists it.
 */
login: string, reason: string, 
/**
 * The administrator's own signing password: the authorization is signed.
 */
password: string, };

export type ChangeRequestDetail = { item: QueueItem, body: string, web_url: string, base_ref: string, base_sha: string, files: Array<ChangedFile>, 
/**
 * The whole unified diff: as the forge sent it, with any file the forge
 * left out rebuilt from its contents at the base and head commits.
 * Empty in the window's answer (`open_change`), which shows `diff_files`.
 */
diff: string, 
/**
 * The same diff parsed into files, hunks and lines for the viewer.
 */
diff_files: Array<DiffFile>, 
/**
 * Files whose diff was rebuilt from their contents.
 */
reconstructed: Array<string>, 
/**
 * What could not be fetched, said exactly; empty when the diff is whole.
 */
missing: Array<string>, 
/**
 * RFC 3339, UTC: when this was fetched from the forge.
 */
synced_at: string, 
/**
 * True when this is the copy kept for offline reading.
 */
offline: boolean, additions: number, deletions: number, 
/**
 * How many commits the forge counts in the change (its list may hold fewer).
 */
commits: number, 
/**
 * The forge's numeric id of the repository, when it says.
 */
repo_id: number | null, };

export type ChangeRequestRef = { repo: string, number: number, };

export type ChangedFile = { path: string, previous_path: string | null, status: string, additions: number, deletions: number, 
/**
 * False when the forge left this file's patch out: the UI must say the
 * diff is incomplete rather than show the file as unchanged.
 */
patch_available: boolean, };

export type ChangedLinesCoverage = { changed: number, covered: number, };

export type CheckState = "success" | "pending" | "failure" | "neutral";

export type CheckView = { name: string, state: CheckState, 
/**
 * Who reported it: `check run by github-actions`, `commit status`…
 */
reported_by: string, };

export type CommitView = { sha: string, message: string, 
/**
 * The forge account the author's e-mail is linked to, else the e-mail written in the commit.
 */
author: string, author_linked: boolean, committer: string, committer_linked: boolean, };

export type ConversationEntry = { kind: ConversationKind, author: string, body: string, 
/**
 * Set for reviews.
 */
review_state: ForgeReviewState | null, 
/**
 * A review left on an earlier commit than the current head.
 */
earlier_commit: boolean, 
/**
 * RFC 3339, UTC, as the forge said; `None` when it did not say.
 */
at: string | null, };

export type ConversationKind = "comment" | "review";

export type DeviceFlowRequest = { 
/**
 * GitHub or GitLab (the forges with a device grant).
 */
kind: ForgeKind, web_url: string, api_url: string, client_id: string, };

export type DevicePoll = { state: DevicePollState, person: Person | null, 
/**
 * Wait this long before the next poll.
 */
interval_seconds: number, };

export type DevicePollState = "pending" | "approved" | "denied" | "expired";

export type DeviceStart = { user_code: string, verification_uri: string, interval_seconds: number, expires_in_seconds: number, };

export type DiffFile = { path: string, previous_path: string | null, status: DiffFileStatus, additions: number, deletions: number, 
/**
 * Git said `Binary files … differ`: no lines to show.
 */
binary: boolean, 
/**
 * Made by a tool (lock files, `@generated`, `DO NOT EDIT`): shown as such.
 */
generated: boolean, 
/**
 * Every change in the file is in whitespace only.
 */
whitespace_only: boolean, origin: DiffOrigin, hunks: Array<DiffHunk>, 
/**
 * Rows the hunks make (a header each, then their lines): the viewer
 * places a file before its hunks arrive.
 */
rows: number, 
/**
 * False when `hunks` were left out of this answer, to be asked for with
 * `diff_files` as the file scrolls into view (large changes).
 */
loaded: boolean, };

export type DiffFileStatus = "added" | "removed" | "modified" | "renamed";

export type DiffFiles = { from: number, files: Array<DiffFile>, };

export type DiffHunk = { 
/**
 * The `@@ -a,b +c,d @@ section` line.
 */
header: string, lines: Array<DiffLine>, };

export type DiffLine = { kind: LineKind, old: number | null, new: number | null, text: string, emphasis: Array<[number, number]>, };

export type DiffOrigin = "forge" | "rebuilt" | "left_out";

export type DiffPage = { change_request: ChangeRequestRef, from: number, count: number, };

export type DigestEntry = { name: string, sha256: string, };

export type DossierWritten = { 
/**
 * The folder: `index.html`, `dossier.pdf`, the records, the evidence.
 */
dir: string, 
/**
 * The same files in one archive beside it.
 */
zip: string, files: number, };

export type EnrolRequest = { printed_name: string, password: string, 
/**
 * The signer accepted the acknowledgement text shown to them.
 */
acknowledged: boolean, };

export type Enrolment = { fingerprint: string, key_id: string, acknowledgement: string, 
/**
 * The public enrolment record, to hand to an administrator for the policy roster.
 */
record_json: string, };

export type EvidenceCheckView = { what: string, met: boolean, detail: string, };

export type EvidenceView = { name: string, sha256: string, 
/**
 * `JUnit XML`, `Cobertura XML`, `LCOV`, `SARIF` or `file`.
 */
kind: string, 
/**
 * One line for people, e.g. `12 passed, 1 failed, 0 skipped`.
 */
summary: string, 
/**
 * The workflow file and run the file came from, e.g. `.github/workflows/ci.yml, run 30042`.
 */
source: string | null, };

export type FileCoverageView = { 
/**
 * The changed file's path when the report's matches one, else the report's.
 */
path: string, lines_valid: number, lines_covered: number, 
/**
 * Lines this change adds or modifies that coverage instruments, and how many ran.
 */
changed_lines: number, changed_covered: number, 
/**
 * New line numbers of changed lines that never ran.
 */
uncovered_changed: Array<number>, };

export type FindingView = { 
/**
 * The evidence file (SARIF log) it comes from.
 */
file: string, rule: string, level: string, message: string, 
/**
 * The changed file's path when the finding's matches one, else the finding's.
 */
path: string | null, line: number | null, 
/**
 * On a line this change adds or modifies.
 */
on_changed_line: boolean, };

export type ForMe = "waiting" | "not_waiting" | "not_judged";

export type ForgeKind = "sandbox" | "github" | "gitea" | "forgejo" | "gitlab";

export type ForgeReviewState = "approved" | "changes_requested" | "commented" | "dismissed" | "pending" | "other";

export type ForgeSettings = { kind: ForgeKind, 
/**
 * REST root, e.g. `https://api.github.com/` or `https://ghe.example/api/v3/`.
 */
api_url: string, 
/**
 * Web root, for the OAuth device flow: `https://github.com/` or `https://ghe.example/`.
 */
web_url: string, 
/**
 * The OAuth app's client id for the device flow (public; no secret is needed).
 */
oauth_client_id: string, 
/**
 * `owner/name` to watch; empty: the account's most recently pushed repositories.
 */
repos: Array<string>, 
/**
 * Desktop notifications when a change newly needs one of my roles or a
 * signature of mine turned stale (absent in older files: on).
 */
notifications: boolean, };

export type KeyChange = { number: number, branch: string, 
/**
 * Where the signed record is in the pull request.
 */
record_path: string, 
/**
 * Whose key it was, and the roles it was listed in.
 */
holder: string, roles: Array<string>, };

export type LineKind = "context" | "added" | "removed" | "no_newline";

export type LinkOpened = { 
/**
 * The address handed to the browser, as the URL parser wrote it.
 */
url: string, };

export type LinkRequest = { url: string, };

export type Meaning = "authorship" | "review" | "approval" | "responsibility" | "rejection" | "withdrawal";

export type Outbox = { items: Array<OutboxRow>, };

export type OutboxRow = { repo: string, number: number, target: string, state: OutboxState, attempts: number, last_error: string | null, };

export type OutboxState = "pending" | "pushed";

export type PasswordChange = { old_password: string, new_password: string, };

export type Person = { 
/**
 * The forge's numeric user id: what identifies a person (logins can be renamed).
 */
id: number, login: string, name: string | null, };

export type PolicyCheck = { text: string, problem: PolicyProblem | null, roles: Array<RosterRole>, rules: Array<string>, };

export type PolicyDraft = { repo: string, base_branch: string, 
/**
 * `sha256:<hex>` of the current file; `None` when there is none yet.
 */
digest: string | null, check: PolicyCheck, };

export type PolicyProblem = { line: number, column: number, message: string, };

export type PolicyText = { text: string, };

export type PolicyView = { 
/**
 * `sha256:<hex>` of `.countersign/policy.toml` at the base SHA.
 */
digest: string | null, 
/**
 * Why the policy cannot be applied (missing, or an error with line and column).
 */
error: string | null, };

export type ProposePolicy = { repo: string, text: string, 
/**
 * Why the policy changes: the pull request's description and the audit reason.
 */
reason: string, };

export type ProposedPolicy = { number: number, branch: string, };

export type PushOutcome = { pushed: number, failed: number, errors: Array<string>, };

export type Queue = { items: Array<QueueItem>, problems: Array<RepoProblem>, 
/**
 * RFC 3339, UTC: when this list was fetched.
 */
synced_at: string, 
/**
 * True when the forge could not be reached and this is the copy kept at `synced_at`.
 */
offline: boolean, };

export type QueueItem = { 
/**
 * `owner/name`.
 */
repo: string, number: number, title: string, author: Person, risk: RiskClass, labels: Array<string>, draft: boolean, head_sha: string, 
/**
 * RFC 3339, UTC.
 */
created_at: string, 
/**
 * Whether it waits for one of my roles, as of the last review of this
 * head on this device.
 */
for_me: ForMe, };

export type RemoveSecurityKey = { credential_id: string, 
/**
 * Why (a lost key, a replaced one): in the audit trail.
 */
reason: string, };

export type RepoProblem = { repo: string, error: ApiError, };

export type RepoRef = { repo: string, };

export type RequestedChange = { change: ChangeRequestRef | null, 
/**
 * Why a link given was not opened (another forge, not a change).
 */
refused: string | null, };

export type RequirementView = { rule: string, role: string, role_title: string, needed: number, meanings: Array<Meaning>, signed_by: Array<string>, met: boolean, 
/**
 * The rule's order lets this role sign now.
 */
may_sign_now: boolean, };

export type ResetEnrolment = { repo: string, 
/**
 * Paths of the authorization records on the base branch
 * ([`KeyChange::record_path`] of each administrator's).
 */
authorizations: Array<string>, 
/**
 * The new key's signing password.
 */
password: string, 
/**
 * The signer acknowledges again that the signature is legally binding.
 */
acknowledged: boolean, };

export type Review = { change_request: ChangeRequestRef, head_sha: string, policy: PolicyView, 
/**
 * Computed by the policy's risk classes; `unassessed` when it cannot be applied.
 */
risk_class: RiskClass, assessment: AssessmentView | null, assessment_error: string | null, evidence: Array<EvidenceView>, 
/**
 * Evidence that was refused (unsafe archive, malformed report), naming the file.
 */
evidence_problems: Array<string>, 
/**
 * CI artifacts that do not count as evidence, and why (not from a
 * workflow the policy names, a workflow the change edits, superseded).
 */
evidence_ignored: Array<string>, 
/**
 * Commit authors, committers and co-authors that neither the forge nor
 * the roster can name (e-mail, part, commit).
 */
unknown_contributors: Array<string>, tests: TestsView | null, coverage_percent: number | null, 
/**
 * SARIF findings as `[level, count]`.
 */
findings: Array<[string, number]>, checks: Array<CheckView>, rules: Array<string>, requirements: Array<RequirementView>, signatures: Array<SignatureView>, evidence_checks: Array<EvidenceCheckView>, verdict: Verdict, 
/**
 * Exactly what the forge status says (at most 140 characters).
 */
status_line: string, 
/**
 * Roles the signed-in user is a member of in the base policy.
 */
my_roles: Array<string>, 
/**
 * A requirement one of those roles could meet now is still open, and
 * this user's own signatures do not already count for it.
 */
waiting_for_me: boolean, 
/**
 * Every test that did not pass, with its message and report.
 */
test_problems: Array<TestProblemView>, 
/**
 * Coverage per source file, with the lines this change adds or modifies.
 */
coverage_files: Array<FileCoverageView>, 
/**
 * Of the lines this change adds or modifies that coverage instruments,
 * how many ran: `None` without line-level coverage data.
 */
changed_lines_coverage: ChangedLinesCoverage | null, 
/**
 * Every SARIF finding, with where it is.
 */
finding_list: Array<FindingView>, 
/**
 * The change's commits, oldest first.
 */
commits: Array<CommitView>, 
/**
 * Reviews and comments on the forge in the order they were made
 * (entries the forge gave no time come last).
 */
conversation: Array<ConversationEntry>, 
/**
 * RFC 3339, UTC: when this was computed from the forge.
 */
synced_at: string, 
/**
 * True when this is the copy kept for offline reading.
 */
offline: boolean, };

export type RevokeKey = { repo: string, 
/**
 * The key as the roster lists it ([`RosterKey::public_key`]).
 */
public_key: string, reason: string, 
/**
 * The administrator's own signing password: the revocation is signed.
 */
password: string, };

export type RiskClass = "high" | "medium" | "low" | "unassessed";

export type RosterKey = { 
/**
 * Base64 of the raw public key, as the policy file writes it.
 */
public_key: string, fingerprint: string, 
/**
 * RFC 3339, when set.
 */
valid_until: string | null, revoked_at: string | null, };

export type RosterMember = { printed_name: string, login: string, user_id: number, keys: number, 
/**
 * Each signing key, as the roster lists it.
 */
key_list: Array<RosterKey>, };

export type RosterRole = { name: string, description: string, members: Array<RosterMember>, };

export type RotateKey = { repo: string, reason: string, 
/**
 * The current signing password (it unseals the old key, which signs).
 */
password: string, 
/**
 * The new key's signing password.
 */
new_password: string, };

export type SecurityKeyRequest = { pin: string | null, };

export type SeenContent = { head_sha: string, diff_sha256: string, };

export type SettingsView = { settings: ForgeSettings, 
/**
 * A token for `api_url` is in the OS keychain (never shown).
 */
token_stored: boolean, 
/**
 * The forge this window is connected to now.
 */
connected_to: string, };

export type SignRequest = { 
/**
 * The preview being signed ([`SignaturePreview::snapshot_id`]).
 */
snapshot_id: string, 
/**
 * The form as previewed: anything else starts a new preview.
 */
draft: SignatureDraft, 
/**
 * What the preview showed. Signing refuses if the forge now has anything
 * else: what you see is what you sign (11.10(h)).
 */
seen: SeenContent, password: string, 
/**
 * The security key's PIN, when the draft uses one.
 */
security_key_pin: string | null, };

export type SignatureDraft = { change_request: ChangeRequestRef, meaning: Meaning, reason: string, role: string, 
/**
 * Confirm with the registered FIDO2 security key (PIN and touch) as well
 * as the signing password.
 */
use_security_key: boolean, 
/**
 * Which registered security key (its credential id; a backup one);
 * `None`: the first registered.
 */
security_key_id: string | null, 
/**
 * For a withdrawal, and only then: the record it takes back
 * (`SignatureView::record`), which must be the signer's own.
 */
withdraws: string | null, };

export type SignaturePreview = { 
/**
 * Names this preview: signing takes it, and signs exactly this statement.
 */
snapshot_id: string, 
/**
 * The signing time the record will carry, fixed now (RFC 3339).
 */
signed_at: string, 
/**
 * After this the preview must be renewed (RFC 3339, five minutes on).
 */
expires_at: string, signer: string, head_sha: string, diff_sha256: string, evidence: Array<DigestEntry>, 
/**
 * SHA-256 of the exact bytes that will be signed.
 */
record_digest: string, 
/**
 * The manifestation the record will carry, with the time of signing left to fill.
 */
meaning_statement: string, 
/**
 * This computer's clock minus the forge's, as last measured.
 */
clock_skew_seconds: bigint | null, 
/**
 * Said before signing when the skew is over a minute.
 */
clock_warning: string | null, };

export type SignatureView = { printed_name: string, role: string, meaning: Meaning | null, signed_at: string, 
/**
 * The reason given, as signed.
 */
reason: string, 
/**
 * The signer's clock minus the forge's when signing, in seconds.
 */
clock_skew_seconds: bigint | null, standing: Standing, why: string | null, 
/**
 * `sha256:<hex>` of the signed statement: what a withdrawal names.
 */
record: string | null, 
/**
 * Signed by the signed-in user: theirs to withdraw.
 */
mine: boolean, };

export type SignedRecord = { key_id: string, 
/**
 * Printed name, date and time, meaning and reason, derived from the signed record.
 */
manifestation: string, 
/**
 * The DSSE envelope, exactly as signed.
 */
envelope_json: string, };

export type SignerStatus = { 
/**
 * The forge account of the configured credential.
 */
identity: Person, enrolled: boolean, printed_name: string | null, fingerprint: string | null, 
/**
 * The text the signer must accept to enrol; `{name}` stands for the printed name.
 */
acknowledgement_template: string, 
/**
 * RFC 3339 UTC, when signing is locked after repeated failures.
 */
locked_until: string | null, 
/**
 * Registered FIDO2 security keys.
 */
security_keys: number, 
/**
 * A security-key reader is available in this build (USB).
 */
security_key_support: boolean, 
/**
 * RFC 3339: when the key was enrolled (its `valid_from`).
 */
enrolled_at: string | null, 
/**
 * RFC 3339: when the signing password was last set.
 */
password_set_at: string | null, 
/**
 * RFC 3339: when the continuous signing session ends unless used;
 * `None`: the next signing asks for the forge identity and password.
 */
session_ends_at: string | null, 
/**
 * Each registered security key's credential id (base64url).
 */
security_key_ids: Array<string>, 
/**
 * The public enrolment record, to hand to an administrator.
 */
enrolment_record: string | null, };

export type Standing = "counted" | "rejects" | "not_needed" | "stale" | "refused" | "invalid" | "withdrawn" | "withdraws";

export type SyncOutcome = { change_requests: number, 
/**
 * `owner/name#n: why` for each that could not be fetched.
 */
problems: Array<string>, synced_at: string, };

export type TestOutcome = "failed" | "errored" | "skipped";

export type TestProblemView = { 
/**
 * The evidence file (report) that says so.
 */
file: string, name: string, outcome: TestOutcome, message: string, };

export type TestsView = { passed: number, failed: number, skipped: number, failing: Array<string>, };

export type TokenRequest = { 
/**
 * Which kind of forge the token is for (each checks it its own way).
 */
kind: ForgeKind, api_url: string, token: string, };

export type Verdict = "approved" | "pending" | "rejected" | "failed" | "blocked";

export type ErrorCode = "accounts.no_device_flow" | "admin.already_in_role" | "admin.bad_enrolment_record" | "admin.unknown_role" | "audit.bad_export" | "cache.unavailable" | "link.refused" | "link.unavailable" | "evidence.malformed" | "evidence.too_large" | "evidence.unsafe_entry" | "forge.conflict" | "forge.contract_violation" | "forge.forbidden" | "forge.http_status" | "forge.invalid_input" | "forge.not_found" | "forge.not_signed_in" | "forge.rate_limited" | "forge.too_large" | "forge.unauthorized" | "forge.unreachable" | "internal" | "invalid_input" | "io" | "ipc" | "keychain.error" | "keychain.locked" | "keychain.unavailable" | "ledger.append_only" | "ledger.corrupt" | "ledger.disk_full" | "ledger.invalid" | "ledger.locked" | "ledger.not_found" | "ledger.read_only" | "ledger.sqlite" | "ledger.unavailable" | "policy.invalid" | "push.no_records" | "records.malformed" | "sandbox.roster" | "sandbox.start_failed" | "settings.unreadable" | "settings.unwritable" | "signing.acknowledgement_required" | "signing.already_enrolled" | "signing.bad_key" | "signing.bad_password" | "signing.password_expired" | "signing.changed_since_preview" | "signing.evidence_refused" | "signing.incomplete_change" | "signing.preview_expired" | "signing.invalid_request" | "signing.keychain" | "signing.locked_out" | "signing.no_security_key" | "signing.no_security_key_reader" | "signing.not_enrolled" | "signing.refused_by_policy" | "signing.security_key_required" | "signing.reauth_required" | "signing.security_key" | "verify.bad_bundle" | "verify.bad_keys";

export const ErrorCodes = {
  AccountsNoDeviceFlow: "accounts.no_device_flow",
  AdminAlreadyInRole: "admin.already_in_role",
  AdminBadEnrolmentRecord: "admin.bad_enrolment_record",
  AdminUnknownRole: "admin.unknown_role",
  AuditBadExport: "audit.bad_export",
  CacheUnavailable: "cache.unavailable",
  LinkRefused: "link.refused",
  LinkUnavailable: "link.unavailable",
  EvidenceMalformed: "evidence.malformed",
  EvidenceTooLarge: "evidence.too_large",
  EvidenceUnsafeEntry: "evidence.unsafe_entry",
  ForgeConflict: "forge.conflict",
  ForgeContractViolation: "forge.contract_violation",
  ForgeForbidden: "forge.forbidden",
  ForgeHttpStatus: "forge.http_status",
  ForgeInvalidInput: "forge.invalid_input",
  ForgeNotFound: "forge.not_found",
  ForgeNotSignedIn: "forge.not_signed_in",
  ForgeRateLimited: "forge.rate_limited",
  ForgeTooLarge: "forge.too_large",
  ForgeUnauthorized: "forge.unauthorized",
  ForgeUnreachable: "forge.unreachable",
  Internal: "internal",
  InvalidInput: "invalid_input",
  Io: "io",
  Ipc: "ipc",
  KeychainError: "keychain.error",
  KeychainLocked: "keychain.locked",
  KeychainUnavailable: "keychain.unavailable",
  LedgerAppendOnly: "ledger.append_only",
  LedgerCorrupt: "ledger.corrupt",
  LedgerDiskFull: "ledger.disk_full",
  LedgerInvalid: "ledger.invalid",
  LedgerLocked: "ledger.locked",
  LedgerNotFound: "ledger.not_found",
  LedgerReadOnly: "ledger.read_only",
  LedgerSqlite: "ledger.sqlite",
  LedgerUnavailable: "ledger.unavailable",
  PolicyInvalid: "policy.invalid",
  PushNoRecords: "push.no_records",
  RecordsMalformed: "records.malformed",
  SandboxRoster: "sandbox.roster",
  SandboxStartFailed: "sandbox.start_failed",
  SettingsUnreadable: "settings.unreadable",
  SettingsUnwritable: "settings.unwritable",
  SigningAcknowledgementRequired: "signing.acknowledgement_required",
  SigningAlreadyEnrolled: "signing.already_enrolled",
  SigningBadKey: "signing.bad_key",
  SigningBadPassword: "signing.bad_password",
  SigningPasswordExpired: "signing.password_expired",
  SigningChangedSincePreview: "signing.changed_since_preview",
  SigningEvidenceRefused: "signing.evidence_refused",
  SigningIncompleteChange: "signing.incomplete_change",
  SigningPreviewExpired: "signing.preview_expired",
  SigningInvalidRequest: "signing.invalid_request",
  SigningKeychain: "signing.keychain",
  SigningLockedOut: "signing.locked_out",
  SigningNoSecurityKey: "signing.no_security_key",
  SigningNoSecurityKeyReader: "signing.no_security_key_reader",
  SigningNotEnrolled: "signing.not_enrolled",
  SigningRefusedByPolicy: "signing.refused_by_policy",
  SigningSecurityKeyRequired: "signing.security_key_required",
  SigningReauthRequired: "signing.reauth_required",
  SigningSecurityKey: "signing.security_key",
  VerifyBadBundle: "verify.bad_bundle",
  VerifyBadKeys: "verify.bad_keys",
} as const satisfies Record<string, ErrorCode>;

/** Each command's `[request, response]`; `null` means it takes nothing. */
export type Commands = {
  app_info: [null, AppInfo];
  load_queue: [null, Queue];
  requested_change: [null, RequestedChange];
  next_requested_change: [null, RequestedChange];
  open_change_request: [ChangeRequestRef, ChangeRequestDetail];
  open_change: [ChangeRequestRef, ChangeRequestDetail];
  diff_files: [DiffPage, DiffFiles];
  open_link: [LinkRequest, LinkOpened];
  review_change_request: [ChangeRequestRef, Review];
  write_dossier: [ChangeRequestRef, DossierWritten];
  signer_status: [null, SignerStatus];
  enrol: [EnrolRequest, Enrolment];
  change_password: [PasswordChange, SignerStatus];
  preview_signature: [SignatureDraft, SignaturePreview];
  sign_change_request: [SignRequest, SignedRecord];
  audit_trail: [AuditFilter, AuditTrail];
  outbox: [null, Outbox];
  push_outbox: [null, PushOutcome];
  admin_policy: [RepoRef, PolicyDraft];
  check_policy: [PolicyText, PolicyCheck];
  add_signer: [AddSigner, PolicyCheck];
  propose_policy: [ProposePolicy, ProposedPolicy];
  revoke_key: [RevokeKey, KeyChange];
  rotate_key: [RotateKey, KeyChange];
  authorize_reset: [AuthorizeReset, KeyChange];
  enrol_after_reset: [ResetEnrolment, KeyChange];
  settings: [null, SettingsView];
  save_settings: [ForgeSettings, SettingsView];
  store_token: [TokenRequest, Person];
  start_device_flow: [DeviceFlowRequest, DeviceStart];
  poll_device_flow: [null, DevicePoll];
  sync_offline: [null, SyncOutcome];
  register_security_key: [SecurityKeyRequest, SignerStatus];
  remove_security_key: [RemoveSecurityKey, SignerStatus];
};
