//! `docs/requirements.toml` against the code and the regulation: every test
//! it names exists, every clause of the shared Part 11 list has a
//! requirement, and `docs/part11.md` is the table generated from it.

use countersign_tests::requirements::{self, PART11_DOC};
use countersign_tests::workspace_root;

#[test]
fn every_test_a_requirement_names_exists() {
    let root = workspace_root();
    let r = requirements::load(&root).unwrap();
    let missing: Vec<String> = r
        .requirement
        .iter()
        .flat_map(|q| q.tests.iter().map(move |t| format!("{}: {t}", q.id)))
        .filter(|t| !requirements::test_exists(&root, t.split_once(": ").unwrap().1))
        .collect();
    assert!(
        missing.is_empty(),
        "named tests that do not exist: {missing:#?}"
    );
    // The check can fail: a name that is not a test is found missing.
    assert!(!requirements::test_exists(
        &root,
        "countersign-api::gate no_such_test_anywhere"
    ));
    assert!(!requirements::test_exists(
        &root,
        "countersign-ledger::ledger load"
    ));
}

#[test]
fn every_part11_clause_has_a_requirement_and_each_requirement_a_clause() {
    let root = workspace_root();
    let r = requirements::load(&root).unwrap();
    for c in &r.clauses {
        assert!(
            r.requirement.iter().any(|q| &q.clause == c),
            "no requirement serves {c}"
        );
    }
    for q in &r.requirement {
        assert!(
            r.clauses.contains(&q.clause),
            "{}: unknown clause {}",
            q.id,
            q.clause
        );
        assert!(!q.tests.is_empty(), "{} names no test", q.id);
    }
    let mut ids: Vec<&str> = r.requirement.iter().map(|q| q.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "requirement ids repeat");
    // The list of clauses is the shared list's, when it is there to compare
    // (it sits beside the repository on development machines).
    let shared = root.join("../shared/PART11.md");
    if let Ok(text) = std::fs::read_to_string(&shared) {
        assert_eq!(requirements::shared_clauses(&text), r.clauses);
    }
}

#[test]
fn the_part11_table_is_generated_from_the_requirements() {
    let root = workspace_root();
    let r = requirements::load(&root).unwrap();
    let generated = requirements::part11_markdown(&r);
    let path = root.join(PART11_DOC);
    if std::env::var_os("UPDATE_REQUIREMENTS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{PART11_DOC} is stale: run UPDATE_REQUIREMENTS=1 cargo test -p countersign-tests --test tests requirements"
    );
}
