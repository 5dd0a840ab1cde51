// Generated from crates/api/src/contract.rs by `cargo test -p countersign-api`
// with UPDATE_CONTRACT=1. Do not edit by hand.

export type ApiError = { code: string, message: string, };

export type AppInfo = { version: string, 
/**
 * e.g. `Sandbox` or `github.com`.
 */
forge_label: string, forge_url: string, 
/**
 * True when the forge is the built-in sandbox: the UI must say so plainly.
 */
sandbox: boolean, };

export type AuditCheck = { holds: boolean, size: number, head: string, problem: string | null, };

export type AuditFilter = { 
/**
 * Part of the object, e.g. `#42` or a repository name.
 */
object: string | null, 
/**
 * Part of the actor, e.g. a login.
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

export type AuditRow = { seq: number, kind: string, actor: string, at_utc: string, local_offset: string, object: string, old_value: string | null, new_value: string | null, reason: string | null, detail: string | null, };

export type AuditTrail = { rows: Array<AuditRow>, check: AuditCheck, };

export type ChangeRequestDetail = { item: QueueItem, body: string, web_url: string, base_ref: string, base_sha: string, files: Array<ChangedFile>, 
/**
 * The whole unified diff, exactly as the forge sent it.
 */
diff: string, additions: number, deletions: number, };

export type ChangeRequestRef = { repo: string, number: number, };

export type ChangedFile = { path: string, previous_path: string | null, status: string, additions: number, deletions: number, 
/**
 * False when the forge left this file's patch out: the UI must say the
 * diff is incomplete rather than show the file as unchanged.
 */
patch_available: boolean, };

export type DigestEntry = { name: string, sha256: string, };

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

export type Meaning = "authorship" | "review" | "approval" | "responsibility" | "rejection";

export type Outbox = { items: Array<OutboxRow>, };

export type OutboxRow = { repo: string, number: number, target: string, 
/**
 * `pending` or `pushed`.
 */
state: string, attempts: number, last_error: string | null, };

export type Person = { 
/**
 * The forge's numeric user id: what identifies a person (logins can be renamed).
 */
id: number, login: string, name: string | null, };

export type PushOutcome = { pushed: number, failed: number, errors: Array<string>, };

export type Queue = { items: Array<QueueItem>, problems: Array<RepoProblem>, 
/**
 * RFC 3339, UTC: when this list was fetched.
 */
synced_at: string, };

export type QueueItem = { 
/**
 * `owner/name`.
 */
repo: string, number: number, title: string, author: Person, risk: Risk, labels: Array<string>, draft: boolean, head_sha: string, 
/**
 * RFC 3339, UTC.
 */
created_at: string, };

export type RepoProblem = { repo: string, error: ApiError, };

export type Risk = "high" | "medium" | "low" | "unassessed";

export type SeenContent = { head_sha: string, diff_sha256: string, };

export type SignRequest = { draft: SignatureDraft, 
/**
 * What the preview showed. Signing refuses if the forge now has anything
 * else: what you see is what you sign (11.10(h)).
 */
seen: SeenContent, password: string, };

export type SignatureDraft = { change_request: ChangeRequestRef, meaning: Meaning, reason: string, role: string, };

export type SignaturePreview = { signer: string, head_sha: string, diff_sha256: string, evidence: Array<DigestEntry>, 
/**
 * SHA-256 of the exact bytes that will be signed.
 */
record_digest: string, 
/**
 * The manifestation the record will carry, with the time of signing left to fill.
 */
meaning_statement: string, };

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
locked_until: string | null, };

/** Each command's `[request, response]`; `null` means it takes nothing. */
export type Commands = {
  app_info: [null, AppInfo];
  load_queue: [null, Queue];
  open_change_request: [ChangeRequestRef, ChangeRequestDetail];
  signer_status: [null, SignerStatus];
  enrol: [EnrolRequest, Enrolment];
  preview_signature: [SignatureDraft, SignaturePreview];
  sign_change_request: [SignRequest, SignedRecord];
  audit_trail: [AuditFilter, AuditTrail];
  outbox: [null, Outbox];
  push_outbox: [null, PushOutcome];
};
