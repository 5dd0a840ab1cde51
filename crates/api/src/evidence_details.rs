//! The evidence read against the change itself: which tests did not pass
//! and why, the coverage of the lines this change adds or modifies
//! ("changed-lines coverage"), and which findings sit on those lines. Report
//! paths are matched to the diff's by whole path segments, since reports name
//! files relative to wherever the tool ran.

use std::collections::{BTreeMap, BTreeSet};

use countersign_evidence::{EvidenceFile, Summary};

use crate::contract::{
    ChangedLinesCoverage, DiffFile, FileCoverageView, FindingView, LineKind, TestOutcome,
    TestProblemView,
};

/// The new line numbers each changed file adds or modifies.
fn changed_lines(diff: &[DiffFile]) -> BTreeMap<&str, BTreeSet<u32>> {
    diff.iter()
        .map(|f| {
            let lines = f
                .hunks
                .iter()
                .flat_map(|h| &h.lines)
                .filter(|l| l.kind == LineKind::Added)
                .filter_map(|l| l.new)
                .collect();
            (f.path.as_str(), lines)
        })
        .collect()
}

/// The diff path `reported` names: the same path, or one ending with it (or
/// it ending with the diff's) at a `/`.
fn matching<'d>(reported: &str, diff: &[&'d str]) -> Option<&'d str> {
    let reported = reported
        .trim_start_matches("file://")
        .trim_start_matches("./");
    let ends = |long: &str, short: &str| long == short || long.ends_with(&format!("/{short}"));
    diff.iter()
        .copied()
        .find(|d| ends(reported, d) || ends(d, reported))
}

pub struct Details {
    pub test_problems: Vec<TestProblemView>,
    pub coverage_files: Vec<FileCoverageView>,
    pub changed_lines_coverage: Option<ChangedLinesCoverage>,
    pub finding_list: Vec<FindingView>,
}

pub fn details(evidence: &[EvidenceFile], diff: &[DiffFile]) -> Details {
    let changed = changed_lines(diff);
    let paths: Vec<&str> = changed.keys().copied().collect();
    let mut test_problems = Vec::new();
    let mut finding_list = Vec::new();
    // Line hits per path, summed over every coverage report.
    let mut hits: BTreeMap<String, BTreeMap<u32, u64>> = BTreeMap::new();
    for e in evidence {
        match &e.summary {
            Summary::Tests(t) => test_problems.extend(t.problems.iter().map(|p| TestProblemView {
                file: e.name.clone(),
                name: p.name.clone(),
                outcome: match p.outcome {
                    countersign_evidence::TestOutcome::Failed => TestOutcome::Failed,
                    countersign_evidence::TestOutcome::Errored => TestOutcome::Errored,
                    countersign_evidence::TestOutcome::Skipped => TestOutcome::Skipped,
                },
                message: p.message.clone(),
            })),
            Summary::Coverage(c) => {
                for (path, lines) in &c.files {
                    let key = matching(path, &paths).map_or_else(|| path.clone(), str::to_owned);
                    let into = hits.entry(key).or_default();
                    for (line, n) in lines {
                        *into.entry(*line).or_default() += n;
                    }
                }
            }
            Summary::Findings(f) => finding_list.extend(f.findings.iter().map(|x| {
                let path = x
                    .path
                    .as_deref()
                    .map(|p| matching(p, &paths).map_or_else(|| p.to_owned(), str::to_owned));
                let on_changed_line = match (&path, x.line) {
                    (Some(p), Some(line)) => {
                        changed.get(p.as_str()).is_some_and(|c| c.contains(&line))
                    }
                    _ => false,
                };
                FindingView {
                    file: e.name.clone(),
                    rule: x.rule.clone(),
                    level: x.level.clone(),
                    message: x.message.clone(),
                    path,
                    line: x.line,
                    on_changed_line,
                }
            })),
            Summary::Opaque => {}
        }
    }
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let coverage_files: Vec<FileCoverageView> = hits
        .iter()
        .map(|(path, lines)| {
            let mine = changed.get(path.as_str());
            let instrumented: Vec<(u32, u64)> = mine
                .map(|c| {
                    c.iter()
                        .filter_map(|l| lines.get(l).map(|h| (*l, *h)))
                        .collect()
                })
                .unwrap_or_default();
            FileCoverageView {
                path: path.clone(),
                lines_valid: count(lines.len()),
                lines_covered: count(lines.values().filter(|h| **h > 0).count()),
                changed_lines: count(instrumented.len()),
                changed_covered: count(instrumented.iter().filter(|(_, h)| *h > 0).count()),
                uncovered_changed: instrumented
                    .iter()
                    .filter(|(_, h)| *h == 0)
                    .map(|(l, _)| *l)
                    .collect(),
            }
        })
        .collect();
    let changed_lines_coverage = (!hits.is_empty()).then(|| ChangedLinesCoverage {
        changed: coverage_files.iter().map(|f| f.changed_lines).sum(),
        covered: coverage_files.iter().map(|f| f.changed_covered).sum(),
    });
    Details {
        test_problems,
        coverage_files,
        changed_lines_coverage,
        finding_list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{DiffFileStatus, DiffHunk, DiffLine, DiffOrigin};

    fn diff(path: &str, added: &[u32]) -> DiffFile {
        DiffFile {
            path: path.into(),
            previous_path: None,
            status: DiffFileStatus::Modified,
            additions: added.len() as u32,
            deletions: 0,
            binary: false,
            generated: false,
            whitespace_only: false,
            origin: DiffOrigin::Forge,
            rows: 1 + added.len() as u32,
            loaded: true,
            hunks: vec![DiffHunk {
                header: String::new(),
                lines: added
                    .iter()
                    .map(|n| DiffLine {
                        kind: LineKind::Added,
                        old: None,
                        new: Some(*n),
                        text: String::new(),
                        emphasis: Vec::new(),
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn changed_lines_coverage_and_findings_on_changed_lines() {
        let lcov = "TN:\nSF:/ci/work/firmware/src/dosing/rate.rs\nDA:10,1\nDA:11,0\nDA:12,0\nDA:40,5\nend_of_record\n";
        let sarif = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "clippy"}}, "results": [
          {"ruleId": "r1", "level": "error", "message": {"text": "here"},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "firmware/src/dosing/rate.rs"}, "region": {"startLine": 11}}}]},
          {"ruleId": "r2", "message": {"text": "elsewhere"},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "firmware/src/dosing/rate.rs"}, "region": {"startLine": 40}}}]}]}]}"#;
        let evidence = vec![
            countersign_evidence::read("lcov.info", lcov.as_bytes()).unwrap(),
            countersign_evidence::read("clippy.sarif", sarif.as_bytes()).unwrap(),
        ];
        // Lines 10–12 are new; 13 is new but not instrumented.
        let d = details(
            &evidence,
            &[diff("firmware/src/dosing/rate.rs", &[10, 11, 12, 13])],
        );
        let f = &d.coverage_files[0];
        assert_eq!(f.path, "firmware/src/dosing/rate.rs");
        assert_eq!((f.changed_lines, f.changed_covered), (3, 1));
        assert_eq!(f.uncovered_changed, [11, 12]);
        assert_eq!(
            d.changed_lines_coverage,
            Some(ChangedLinesCoverage {
                changed: 3,
                covered: 1
            })
        );
        let on: Vec<(&str, bool)> = d
            .finding_list
            .iter()
            .map(|f| (f.rule.as_str(), f.on_changed_line))
            .collect();
        assert_eq!(on, [("r1", true), ("r2", false)]);
    }

    #[test]
    fn paths_match_at_segment_boundaries_only() {
        assert_eq!(
            matching("src/a.rs", &["crate/src/a.rs"]),
            Some("crate/src/a.rs")
        );
        assert_eq!(
            matching("/ci/crate/src/a.rs", &["crate/src/a.rs"]),
            Some("crate/src/a.rs")
        );
        assert_eq!(matching("xsrc/a.rs", &["src/a.rs"]), None);
    }
}
