//! Never a partial diff shown as whole. GitHub leaves `patch` out for large
//! files, truncates its file list at 3000 and refuses a unified diff over its
//! limits. Each gap is filled from the file contents at the base and head
//! commits, and whatever still cannot be fetched is named.

use countersign_forge::{ChangedFile, FileStatus, Forge, RepoId};
use similar::TextDiff;

pub struct WholeDiff {
    pub diff: String,
    /// Files whose section was rebuilt from their contents.
    pub reconstructed: Vec<String>,
    /// What could not be fetched at all, said exactly.
    pub missing: Vec<String>,
}

fn sections_in(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter_map(|l| l.strip_prefix("diff --git "))
        .filter_map(|rest| rest.rsplit_once(" b/").map(|(_, b)| b))
        .collect()
}

fn header(f: &ChangedFile) -> String {
    let old = f.previous_path.as_deref().unwrap_or(&f.path);
    format!("diff --git a/{old} b/{}\n", f.path)
}

/// The section of one file from its per-file patch (as the forge sent it).
fn from_patch(f: &ChangedFile, patch: &str) -> String {
    let old = f.previous_path.as_deref().unwrap_or(&f.path);
    let (a, b) = match f.status {
        FileStatus::Added => ("/dev/null".to_owned(), format!("b/{}", f.path)),
        FileStatus::Removed => (format!("a/{old}"), "/dev/null".to_owned()),
        _ => (format!("a/{old}"), format!("b/{}", f.path)),
    };
    let mut s = header(f);
    s.push_str(&format!("--- {a}\n+++ {b}\n{patch}"));
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// One file's section from its contents at `base` and `head`.
async fn rebuild(
    forge: &dyn Forge,
    repo: &RepoId,
    f: &ChangedFile,
    base: &str,
    head: &str,
) -> Result<String, String> {
    let old_path = f.previous_path.as_deref().unwrap_or(&f.path);
    let old = match f.status {
        FileStatus::Added => None,
        _ => Some(
            forge
                .file_at(repo, old_path, base)
                .await
                .map_err(|e| format!("{old_path} at the base commit: {e}"))?
                .ok_or_else(|| format!("{old_path} is not found at the base commit"))?,
        ),
    };
    let new = match f.status {
        FileStatus::Removed => None,
        _ => Some(
            forge
                .file_at(repo, &f.path, head)
                .await
                .map_err(|e| format!("{} at the head commit: {e}", f.path))?
                .ok_or_else(|| format!("{} is not found at the head commit", f.path))?,
        ),
    };
    let text = |b: &Option<Vec<u8>>| match b {
        None => Ok(String::new()),
        Some(bytes) => String::from_utf8(bytes.clone()).map_err(|_| ()),
    };
    let mut s = header(f);
    match (text(&old), text(&new)) {
        (Ok(a), Ok(b)) => {
            let a_name = if old.is_some() {
                format!("a/{old_path}")
            } else {
                "/dev/null".into()
            };
            let b_name = if new.is_some() {
                format!("b/{}", f.path)
            } else {
                "/dev/null".into()
            };
            let d = TextDiff::from_lines(&a, &b);
            s.push_str(
                &d.unified_diff()
                    .context_radius(3)
                    .header(&a_name, &b_name)
                    .to_string(),
            );
        }
        _ => s.push_str(&format!(
            "Binary files a/{old_path} and b/{} differ\n",
            f.path
        )),
    }
    Ok(s)
}

/// Make the diff whole. `forge_diff` is `None` when the forge refused it.
pub async fn complete(
    forge: &dyn Forge,
    repo: &RepoId,
    files: &[ChangedFile],
    listed: u64,
    forge_diff: Option<String>,
    base: &str,
    head: &str,
) -> WholeDiff {
    let mut reconstructed = Vec::new();
    let mut missing = Vec::new();
    if (files.len() as u64) < listed {
        missing.push(format!(
            "the forge listed {} of the {listed} changed files; the others are not shown",
            files.len()
        ));
    }
    let mut diff = forge_diff.clone().unwrap_or_default();
    let present: Vec<String> = sections_in(&diff).into_iter().map(str::to_owned).collect();
    for f in files {
        if forge_diff.is_some() && present.iter().any(|p| p == &f.path) {
            continue;
        }
        let section = match (&f.patch, forge_diff.is_some()) {
            // The unified diff was refused but this file's patch came with the list.
            (Some(patch), false) => Ok(from_patch(f, patch)),
            _ => {
                let rebuilt = rebuild(forge, repo, f, base, head).await;
                if rebuilt.is_ok() {
                    reconstructed.push(f.path.clone());
                }
                rebuilt
            }
        };
        match section {
            Ok(s) => diff.push_str(&s),
            Err(why) => missing.push(format!(
                "the change to {} could not be fetched: {why}",
                f.path
            )),
        }
    }
    WholeDiff {
        diff,
        reconstructed,
        missing,
    }
}
