//! The whole diff of a change parsed for the viewer: files (git's
//! `diff --git` sections, read here), hunks and lines with both line numbers
//! (`unidiff`), and the changed words of each modified line pair (`similar`),
//! so the window renders typed rows and never parses forge text itself.
//!
//! The diff is written by the change's author: a section `unidiff` cannot
//! read (or would panic on: it unwraps hunk numbers) is shown as one block of
//! its raw lines, marked, never dropped.

use similar::{ChangeTag, TextDiff};

use crate::contract::{
    ChangedFile, DiffFile, DiffFileStatus, DiffHunk, DiffLine, DiffOrigin, LineKind,
};

/// `[start, end)` offsets, in UTF-16 code units.
type Ranges = Vec<[u32; 2]>;

/// Longer lines get no word highlights: the cost grows with their length.
const MAX_EMPHASIS_CHARS: usize = 2_000;

/// Parse `diff`, naming each file as the forge listed it in `changed`;
/// files listed but absent from the diff are kept, marked left out.
pub fn files(diff: &str, changed: &[ChangedFile], reconstructed: &[String]) -> Vec<DiffFile> {
    let mut out: Vec<DiffFile> = sections(diff)
        .into_iter()
        .map(|s| file_of(s, changed, reconstructed))
        .collect();
    for c in changed {
        if !out.iter().any(|f| f.path == c.path) {
            out.push(DiffFile {
                path: c.path.clone(),
                previous_path: c.previous_path.clone(),
                status: status_named(&c.status),
                additions: c.additions,
                deletions: c.deletions,
                binary: false,
                generated: is_generated_path(&c.path),
                whitespace_only: false,
                origin: DiffOrigin::LeftOut,
                hunks: Vec::new(),
                rows: 0,
                loaded: true,
            });
        }
    }
    out
}

/// The text of each `diff --git` section.
fn sections(diff: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for line in diff.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            starts.push(at);
        }
        at += line.len();
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &s)| &diff[s..starts.get(i + 1).copied().unwrap_or(diff.len())])
        .collect()
}

fn status_named(s: &str) -> DiffFileStatus {
    match s {
        "added" => DiffFileStatus::Added,
        "removed" => DiffFileStatus::Removed,
        "renamed" => DiffFileStatus::Renamed,
        _ => DiffFileStatus::Modified,
    }
}

fn file_of(section: &str, changed: &[ChangedFile], reconstructed: &[String]) -> DiffFile {
    let mut lines = section.lines();
    let first = lines.next().unwrap_or_default();
    // `diff --git a/<old> b/<new>`; names may hold spaces, so split at the last ` b/`.
    let (mut old, mut new) = first
        .strip_prefix("diff --git a/")
        .and_then(|rest| rest.rsplit_once(" b/"))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap_or_default();
    let mut status = DiffFileStatus::Modified;
    let mut binary = false;
    for line in section.lines().skip(1).take_while(|l| !l.starts_with("@@")) {
        if let Some(p) = line.strip_prefix("rename from ") {
            old = p.to_owned();
            status = DiffFileStatus::Renamed;
        } else if let Some(p) = line.strip_prefix("rename to ") {
            new = p.to_owned();
            status = DiffFileStatus::Renamed;
        } else if line.starts_with("new file mode") || line == "--- /dev/null" {
            status = DiffFileStatus::Added;
        } else if line.starts_with("deleted file mode") || line == "+++ /dev/null" {
            status = DiffFileStatus::Removed;
        } else if line.starts_with("Binary files ") || line == "GIT binary patch" {
            binary = true;
        }
    }
    let listed = changed.iter().find(|c| c.path == new);
    if let Some(c) = listed {
        status = status_named(&c.status);
    }
    let hunks = if binary {
        Vec::new()
    } else {
        hunks_of(section)
    };
    let count = |kind: LineKind| {
        hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.kind == kind)
            .count() as u32
    };
    let generated = is_generated_path(&new)
        || hunks
            .iter()
            .flat_map(|h| h.lines.iter().take(10))
            .any(|l| l.text.contains("@generated") || l.text.contains("DO NOT EDIT"));
    DiffFile {
        additions: listed.map_or_else(|| count(LineKind::Added), |c| c.additions),
        deletions: listed.map_or_else(|| count(LineKind::Removed), |c| c.deletions),
        whitespace_only: whitespace_only(&hunks),
        previous_path: (old != new && !old.is_empty()).then_some(old),
        origin: if reconstructed.contains(&new) {
            DiffOrigin::Rebuilt
        } else {
            DiffOrigin::Forge
        },
        rows: hunks.iter().map(|h| 1 + h.lines.len() as u32).sum(),
        path: new,
        status,
        binary,
        generated,
        hunks,
        loaded: true,
    }
}

/// Rows of hunks sent with a change request; the rest follow on demand.
pub const FIRST_PAGE_ROWS: u32 = 5_000;

/// `files` as the first answer carries them: every file, the hunks of the
/// first ones up to [`FIRST_PAGE_ROWS`] rows, the others' left for later.
pub fn first_page(files: &[DiffFile]) -> Vec<DiffFile> {
    let mut rows = 0u32;
    files
        .iter()
        .map(|f| {
            rows = rows.saturating_add(f.rows);
            if rows <= FIRST_PAGE_ROWS || f.hunks.is_empty() {
                f.clone()
            } else {
                DiffFile {
                    hunks: Vec::new(),
                    loaded: false,
                    ..f.clone()
                }
            }
        })
        .collect()
}

/// Hunk headers whose numbers fit: `unidiff` unwraps them.
fn headers_fit(section: &str) -> bool {
    section.lines().filter(|l| l.starts_with("@@")).all(|l| {
        l.split(' ')
            .skip(1)
            .take(2)
            .flat_map(|range| range.get(1..).unwrap_or_default().split(','))
            .all(|n| n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn hunks_of(section: &str) -> Vec<DiffHunk> {
    let parsed = headers_fit(section)
        .then(|| {
            // A second guard: whatever else the library unwraps must not take
            // the window down with it.
            std::panic::catch_unwind(|| {
                let mut set = unidiff::PatchSet::new();
                set.parse(section).ok().map(|()| set)
            })
            .ok()
            .flatten()
        })
        .flatten();
    let Some(set) = parsed else {
        return vec![unreadable(section)];
    };
    let Some(file) = set.files().first() else {
        return Vec::new();
    };
    file.hunks()
        .iter()
        .map(|h| {
            let mut lines: Vec<DiffLine> = h
                .lines()
                .iter()
                .map(|l| DiffLine {
                    kind: match l.line_type.as_str() {
                        unidiff::LINE_TYPE_ADDED => LineKind::Added,
                        unidiff::LINE_TYPE_REMOVED => LineKind::Removed,
                        "\\" => LineKind::NoNewline,
                        _ => LineKind::Context,
                    },
                    old: l.source_line_no.and_then(|n| u32::try_from(n).ok()),
                    new: l.target_line_no.and_then(|n| u32::try_from(n).ok()),
                    text: l.value.clone(),
                    emphasis: Vec::new(),
                })
                .collect();
            emphasise(&mut lines);
            DiffHunk {
                header: format!(
                    "@@ -{},{} +{},{} @@{}",
                    h.source_start,
                    h.source_length,
                    h.target_start,
                    h.target_length,
                    if h.section_header.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", h.section_header)
                    }
                ),
                lines,
            }
        })
        .collect()
}

/// A section that cannot be parsed: its lines as they are, in one block.
fn unreadable(section: &str) -> DiffHunk {
    DiffHunk {
        header: "(this part of the diff could not be parsed: shown as sent)".to_owned(),
        lines: section
            .lines()
            .map(|l| DiffLine {
                kind: LineKind::Context,
                old: None,
                new: None,
                text: l.to_owned(),
                emphasis: Vec::new(),
            })
            .collect(),
    }
}

/// Lock files and other files tools write.
fn is_generated_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "Cargo.lock" | "package-lock.json" | "yarn.lock" | "pnpm-lock.yaml" | "poetry.lock"
    ) || name.ends_with(".min.js")
        || name.ends_with(".min.css")
        || path.split('/').any(|d| d == "generated")
}

/// True when the removed and the added lines differ in whitespace alone.
fn whitespace_only(hunks: &[DiffHunk]) -> bool {
    let squeezed = |kind: LineKind| -> String {
        hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.kind == kind)
            .flat_map(|l| l.text.chars().filter(|c| !c.is_whitespace()))
            .collect()
    };
    let changed = hunks
        .iter()
        .flat_map(|h| &h.lines)
        .any(|l| matches!(l.kind, LineKind::Added | LineKind::Removed));
    changed && squeezed(LineKind::Added) == squeezed(LineKind::Removed)
}

/// Pair each run of removed lines with the added run after it, line by
/// line, and mark the words that differ in each pair.
fn emphasise(lines: &mut [DiffLine]) {
    let mut i = 0;
    while i < lines.len() {
        let removed_start = i;
        while i < lines.len() && lines[i].kind == LineKind::Removed {
            i += 1;
        }
        let added_start = i;
        while i < lines.len() && lines[i].kind == LineKind::Added {
            i += 1;
        }
        let pairs = (added_start - removed_start).min(i - added_start);
        for k in 0..pairs {
            let (old, new) = (removed_start + k, added_start + k);
            if let Some((a, b)) = changed_words(&lines[old].text, &lines[new].text) {
                lines[old].emphasis = a;
                lines[new].emphasis = b;
            }
        }
        if i == removed_start {
            i += 1;
        }
    }
}

/// The changed words of `old` and `new`, as UTF-16 ranges; `None` when the
/// lines share nothing but whitespace (all of it changed: nothing to point at).
fn changed_words(old: &str, new: &str) -> Option<(Ranges, Ranges)> {
    if old.len() > MAX_EMPHASIS_CHARS || new.len() > MAX_EMPHASIS_CHARS {
        return None;
    }
    let diff = TextDiff::from_words(old, new);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (mut at_old, mut at_new) = (0usize, 0usize);
    let mut shared = false;
    for change in diff.iter_all_changes() {
        let len = change.value().len();
        match change.tag() {
            ChangeTag::Equal => {
                shared |= !change.value().trim().is_empty();
                at_old += len;
                at_new += len;
            }
            ChangeTag::Delete => {
                push_range(&mut a, old, at_old, at_old + len);
                at_old += len;
            }
            ChangeTag::Insert => {
                push_range(&mut b, new, at_new, at_new + len);
                at_new += len;
            }
        }
    }
    shared.then_some((a, b))
}

/// Add the byte range `[start, end)` of `text` as UTF-16 offsets, joined to
/// the previous range when they touch.
fn push_range(ranges: &mut Ranges, text: &str, start: usize, end: usize) {
    let utf16 = |byte: usize| text[..byte].encode_utf16().count() as u32;
    let (s, e) = (utf16(start), utf16(end));
    match ranges.last_mut() {
        Some(last) if last[1] == s => last[1] = e,
        _ => ranges.push([s, e]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/src/rate.rs b/src/rate.rs\nindex 1..2 100644\n--- a/src/rate.rs\n+++ b/src/rate.rs\n@@ -1,3 +1,3 @@ fn rate()\n let max = 10;\n-let rate = min(x, max);\n+let rate = clamp(x, 0, max);\n done();\n\\ No newline at end of file\ndiff --git a/old name.txt b/new name.txt\nsimilarity index 100%\nrename from old name.txt\nrename to new name.txt\ndiff --git a/logo.png b/logo.png\nBinary files a/logo.png and b/logo.png differ\n";

    #[test]
    fn files_hunks_lines_and_changed_words() {
        let files = files(DIFF, &[], &[]);
        assert_eq!(files.len(), 3);
        let rate = &files[0];
        assert_eq!(rate.path, "src/rate.rs");
        assert_eq!((rate.additions, rate.deletions), (1, 1));
        let lines = &rate.hunks[0].lines;
        assert_eq!(lines[1].kind, LineKind::Removed);
        assert_eq!((lines[1].old, lines[1].new), (Some(2), None));
        assert_eq!((lines[2].old, lines[2].new), (None, Some(2)));
        // `min` → `clamp`, `x, max` → `x, 0, max`: words, not whole lines.
        assert!(!lines[1].emphasis.is_empty() && !lines[2].emphasis.is_empty());
        let shown: String = lines[1]
            .emphasis
            .iter()
            .map(|[s, e]| &lines[1].text[*s as usize..*e as usize])
            .collect();
        assert!(shown.contains("min"), "{shown}");

        let renamed = &files[1];
        assert_eq!(renamed.status, DiffFileStatus::Renamed);
        assert_eq!(renamed.previous_path.as_deref(), Some("old name.txt"));
        assert_eq!(renamed.path, "new name.txt");
        assert!(files[2].binary && files[2].hunks.is_empty());
    }

    #[test]
    fn a_hostile_hunk_header_is_shown_raw_not_a_panic() {
        let diff =
            "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -99999999999999999999999,1 +1,1 @@\n-a\n+b\n";
        let files = files(diff, &[], &[]);
        assert_eq!(files[0].hunks.len(), 1);
        assert!(files[0].hunks[0].header.contains("could not be parsed"));
        assert!(files[0].hunks[0].lines.iter().any(|l| l.text == "+b"));
    }

    #[test]
    fn whitespace_only_files_and_left_out_files_are_marked() {
        let diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-a  b\n+a b\n";
        let listed = ChangedFile {
            path: "big.c".into(),
            previous_path: None,
            status: "modified".into(),
            additions: 9,
            deletions: 0,
            patch_available: false,
        };
        let files = files(diff, &[listed], &[]);
        assert!(files[0].whitespace_only);
        assert_eq!(files[1].origin, DiffOrigin::LeftOut);
    }

    #[test]
    fn a_large_diff_sends_its_first_files_whole_and_the_rest_as_placeholders() {
        let mut diff = String::new();
        for f in 0..3 {
            diff.push_str(&format!(
                "diff --git a/f{f} b/f{f}\n--- /dev/null\n+++ b/f{f}\n@@ -0,0 +1,3000 @@\n"
            ));
            for i in 0..3000 {
                diff.push_str(&format!("+line {i}\n"));
            }
        }
        let all = files(&diff, &[], &[]);
        assert_eq!(all[0].rows, 3001);
        let first = first_page(&all);
        assert!(first[0].loaded && first[0].hunks.len() == 1);
        // 3,001 + 3,001 rows pass the first page: the second waits.
        assert!(!first[1].loaded && first[1].hunks.is_empty());
        assert_eq!(first[1].rows, 3001);
        assert!(!first[2].loaded);
    }

    #[test]
    fn emphasis_counts_utf16_units() {
        let (a, b) = changed_words("naïve 😀 cat", "naïve 😀 dog").unwrap();
        // "naïve 😀 " is 9 UTF-16 units (the emoji is two).
        assert_eq!(a, [[9, 12]]);
        assert_eq!(b, [[9, 12]]);
    }
}
