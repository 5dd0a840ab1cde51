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

export type Person = { 
/**
 * The forge's numeric user id: what identifies a person (logins can be renamed).
 */
id: number, login: string, name: string | null, };

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

/** Each command's `[request, response]`; `null` means it takes nothing. */
export type Commands = {
  app_info: [null, AppInfo];
  load_queue: [null, Queue];
  open_change_request: [ChangeRequestRef, ChangeRequestDetail];
};
