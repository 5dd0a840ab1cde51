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

/// The risk class shown in the queue. Until a policy computes it, it comes
/// from the change request's `risk:*` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    High,
    Medium,
    Low,
    Unassessed,
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
    pub risk: Risk,
    pub labels: Vec<String>,
    pub draft: bool,
    pub head_sha: String,
    /// RFC 3339, UTC.
    pub created_at: String,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangeRequestDetail {
    pub item: QueueItem,
    pub body: String,
    pub web_url: String,
    pub base_ref: String,
    pub base_sha: String,
    pub files: Vec<ChangedFile>,
    /// The whole unified diff, exactly as the forge sent it.
    pub diff: String,
    pub additions: u32,
    pub deletions: u32,
}

/// One IPC command: its name and the TypeScript names of what it takes and gives.
pub struct Command {
    pub name: &'static str,
    request: fn(&Config) -> String,
    response: fn(&Config) -> String,
}

macro_rules! commands {
    ($($name:ident: $req:ty => $res:ty;)*) => {
        /// Every command the desktop shell registers, in one reviewed list.
        pub const COMMANDS: &[Command] = &[
            $(Command {
                name: stringify!($name),
                request: <$req as TS>::name,
                response: <$res as TS>::name,
            },)*
        ];

        fn declarations(cfg: &Config) -> Vec<String> {
            [$(declaration::<$req>(cfg), declaration::<$res>(cfg),)*].into_iter().flatten().collect()
        }
    };
}

commands! {
    app_info: () => AppInfo;
    load_queue: () => Queue;
    open_change_request: ChangeRequestRef => ChangeRequestDetail;
}

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
            Risk::decl(&cfg),
            Person::decl(&cfg),
            QueueItem::decl(&cfg),
            RepoProblem::decl(&cfg),
            ChangedFile::decl(&cfg),
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
