//! `docs/requirements.toml`: Countersign's requirements, the Part 11 clause
//! each serves and the tests that show it. Read by the requirements test
//! (every named test exists, every clause has a requirement, `docs/part11.md`
//! is generated from it) and by the validation pack (which tests passed in
//! this run).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// Every clause of the shared Part 11 list.
    pub clauses: Vec<String>,
    pub requirement: Vec<Requirement>,
    #[serde(default)]
    pub gap: Vec<Gap>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub clause: String,
    pub text: String,
    /// As cargo-nextest names them: `<binary id> <test path>`.
    pub tests: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    pub clause: String,
    pub text: String,
}

pub const FILE: &str = "docs/requirements.toml";
pub const PART11_DOC: &str = "docs/part11.md";

pub fn load(root: &Path) -> Result<Requirements, String> {
    let text = std::fs::read_to_string(root.join(FILE)).map_err(|e| format!("{FILE}: {e}"))?;
    toml::from_str(&text).map_err(|e| format!("{FILE}: {e}"))
}

/// The clause ids in the first column of the shared list's table:
/// `11.10(a) validation; …` → `11.10(a)`, `Annex 11 §9` kept whole.
pub fn shared_clauses(part11: &str) -> Vec<String> {
    part11
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .filter(|c| *c != "Clause" && !c.starts_with("---"))
        .map(|c| {
            let words: Vec<&str> = c.split_whitespace().collect();
            let n = if words.first() == Some(&"Annex") {
                3
            } else {
                1
            };
            words[..n.min(words.len())].join(" ")
        })
        .collect()
}

/// Where the sources of a nextest binary id live, and whether they are
/// integration tests (`<package>/tests`) or unit tests (`<package>/src`).
fn sources_of(root: &Path, binary_id: &str) -> std::path::PathBuf {
    let (package, target) = binary_id
        .split_once("::")
        .map_or((binary_id, None), |(p, t)| (p, Some(t)));
    let dir = match package {
        "countersign-tests" => root.join("tests"),
        "countersign-desktop" => root.join("src-tauri"),
        p => root
            .join("crates")
            .join(p.trim_start_matches("countersign-")),
    };
    match target {
        Some(t) if !t.starts_with("bin/") => dir.join("tests"),
        _ => dir.join("src"),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Whether `name` (`<binary id> <test path>`) is a test function in the
/// sources of that binary: `fn <last segment>(` under a test attribute.
pub fn test_exists(root: &Path, name: &str) -> bool {
    let Some((binary, path)) = name.split_once(' ') else {
        return false;
    };
    let function = path.rsplit("::").next().unwrap_or(path);
    let mut files = Vec::new();
    rust_files(&sources_of(root, binary), &mut files);
    files.iter().any(|f| {
        let Ok(text) = std::fs::read_to_string(f) else {
            return false;
        };
        let lines: Vec<&str> = text.lines().collect();
        lines.iter().enumerate().any(|(i, l)| {
            l.trim_start()
                .strip_prefix("async fn ")
                .or_else(|| l.trim_start().strip_prefix("fn "))
                .is_some_and(|rest| rest.starts_with(&format!("{function}(")))
                && lines[i.saturating_sub(3)..i]
                    .iter()
                    .any(|a| a.contains("#[test]") || a.contains("#[tokio::test"))
        })
    })
}

/// `docs/part11.md`, generated from the requirements.
pub fn part11_markdown(r: &Requirements) -> String {
    let mut s = String::from(
        "# Part 11 behaviours: what is built and what shows it\n\n\
         Generated from `docs/requirements.toml` by the requirements test\n\
         (`UPDATE_REQUIREMENTS=1 cargo test -p countersign-tests --test tests requirements`);\n\
         edit that file, not this one. The clauses are those of `../shared/PART11.md`.\n\
         `scripts/validation-pack.sh` runs every test named here and reports each\n\
         requirement's result in `target/validation-pack/requirements.html`.\n\n\
         | Clause | Requirement | Shown by |\n|---|---|---|\n",
    );
    for clause in &r.clauses {
        for q in r.requirement.iter().filter(|q| &q.clause == clause) {
            let tests: Vec<String> = q.tests.iter().map(|t| format!("`{t}`")).collect();
            s.push_str(&format!(
                "| {clause} | **{}** {} | {} |\n",
                q.id,
                q.text,
                tests.join("<br>")
            ));
        }
    }
    if !r.gap.is_empty() {
        s.push_str("\n## Not built yet\n\n");
        for g in &r.gap {
            s.push_str(&format!("- {}: {}\n", g.clause, g.text));
        }
    }
    s
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
    /// Named by a requirement, absent from the run's results.
    NotRun,
}

/// Each test's outcome in a JUnit report written by cargo-nextest
/// (suite = binary id, case = test path).
pub fn outcomes(junit: &[u8]) -> Result<BTreeMap<String, Outcome>, String> {
    let suites = junit_parser::from_reader(std::io::Cursor::new(junit))
        .map_err(|e| format!("JUnit report: {e}"))?;
    let mut out = BTreeMap::new();
    for suite in &suites.suites {
        for case in &suite.cases {
            let outcome = if case.status.is_success() {
                Outcome::Passed
            } else if case.status.is_skipped() {
                Outcome::Skipped
            } else {
                Outcome::Failed
            };
            out.insert(format!("{} {}", suite.name, case.original_name), outcome);
        }
    }
    Ok(out)
}

#[derive(Debug, Serialize)]
pub struct Traced {
    #[serde(flatten)]
    pub requirement: Requirement,
    pub results: BTreeMap<String, Outcome>,
    /// At least one named test passed and none failed.
    pub shown: bool,
}

/// Each requirement with its tests' outcomes in this run.
pub fn trace(r: &Requirements, outcomes: &BTreeMap<String, Outcome>) -> Vec<Traced> {
    r.requirement
        .iter()
        .map(|q| {
            let results: BTreeMap<String, Outcome> = q
                .tests
                .iter()
                .map(|t| {
                    (
                        t.clone(),
                        outcomes.get(t).copied().unwrap_or(Outcome::NotRun),
                    )
                })
                .collect();
            let shown = results.values().any(|o| *o == Outcome::Passed)
                && !results.values().any(|o| *o == Outcome::Failed);
            Traced {
                requirement: q.clone(),
                results,
                shown,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nextest_junit_names_tests_as_the_requirements_do() {
        let xml = br#"<testsuites><testsuite name="countersign-api::gate" tests="2">
            <testcase name="a_passes" classname="countersign-api::gate" time="0.1"/>
            <testcase name="b_fails" classname="countersign-api::gate" time="0.1"><failure message="boom"/></testcase>
            </testsuite></testsuites>"#;
        let o = outcomes(xml).unwrap();
        assert_eq!(
            o.get("countersign-api::gate a_passes"),
            Some(&Outcome::Passed)
        );
        assert_eq!(
            o.get("countersign-api::gate b_fails"),
            Some(&Outcome::Failed)
        );
        assert_eq!(o.len(), 2);
    }

    #[test]
    fn a_requirement_is_shown_only_by_a_pass_with_no_failure() {
        let r = Requirements {
            clauses: vec!["11.50".into()],
            requirement: vec![Requirement {
                id: "CS-X".into(),
                clause: "11.50".into(),
                text: "t".into(),
                tests: vec!["b a".into(), "b c".into()],
            }],
            gap: Vec::new(),
        };
        let run = |a: Outcome, c: Option<Outcome>| {
            let mut o = BTreeMap::from([("b a".to_owned(), a)]);
            if let Some(c) = c {
                o.insert("b c".into(), c);
            }
            trace(&r, &o)[0].shown
        };
        assert!(run(Outcome::Passed, None));
        assert!(run(Outcome::Passed, Some(Outcome::Passed)));
        assert!(!run(Outcome::Passed, Some(Outcome::Failed)));
        assert!(!run(Outcome::Skipped, None));
    }
}
