//! Each format summarised from a realistic file, malformed files refused with
//! their name, and hostile archives (`../`, absolute, symlink, bomb, too many
//! entries, duplicates) rejected before anything is used.

use std::io::Write;

use countersign_evidence::{
    extract_zip, read, read_artifact, Kind, Limits, Overview, Problem, Summary, TestOutcome,
};
use zip::write::SimpleFileOptions;

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="firmware" tests="5" failures="1" errors="1" skipped="1">
  <testsuite name="dosing::rate" tests="5">
    <testcase classname="dosing::rate" name="clamps_to_interlock_max" time="0.01"/>
    <testcase classname="dosing::rate" name="refuses_zero_duration" time="0.01"/>
    <testcase classname="dosing::rate" name="syringe_change_recalculates">
      <failure message="expected 12.5, got 25.0" type="assert">left: 12.5 right: 25.0</failure>
    </testcase>
    <testcase classname="dosing::scheduler" name="hil_timeout"><error message="bench unreachable"/></testcase>
    <testcase classname="dosing::scheduler" name="slow_path"><skipped/></testcase>
  </testsuite>
</testsuites>
"#;

const COBERTURA: &str = r#"<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.865" branch-rate="0.7" lines-covered="173" lines-valid="200" version="2.0" timestamp="1700000000">
  <sources><source>firmware/src</source></sources>
  <packages><package name="dosing" line-rate="0.865"><classes/></package></packages>
</coverage>
"#;

const LCOV: &str = "TN:\nSF:firmware/src/dosing/rate.rs\nDA:1,1\nDA:2,0\nLF:40\nLH:30\nend_of_record\nSF:firmware/src/dosing/scheduler.rs\nLF:60\nLH:57\nend_of_record\n";

const SARIF: &str = r#"{
  "version": "2.1.0",
  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
  "runs": [{
    "tool": {"driver": {"name": "clippy"}},
    "results": [
      {"ruleId": "a", "level": "error", "message": {"text": "x"}},
      {"ruleId": "b", "level": "warning", "message": {"text": "y"}},
      {"ruleId": "c", "message": {"text": "default level is warning"}},
      {"ruleId": "d", "level": "note", "message": {"text": "z"}}
    ]
  }]
}"#;

#[test]
fn junit_counts_and_names_failures() {
    let f = read("test-results/junit.xml", JUNIT.as_bytes()).unwrap();
    assert_eq!(f.kind, Kind::JUnit);
    assert_eq!(f.sha256.len(), 64);
    let Summary::Tests(t) = &f.summary else {
        panic!("{:?}", f.summary)
    };
    assert_eq!((t.passed, t.failed, t.errored, t.skipped), (2, 1, 1, 1));
    assert_eq!(
        t.failing,
        [
            "dosing::rate::syringe_change_recalculates",
            "dosing::scheduler::hil_timeout"
        ]
    );
}

#[test]
fn coverage_from_cobertura_and_lcov() {
    let c = read("coverage.xml", COBERTURA.as_bytes()).unwrap();
    assert_eq!(c.kind, Kind::Cobertura);
    let l = read("lcov.info", LCOV.as_bytes()).unwrap();
    assert_eq!(l.kind, Kind::Lcov);
    let Summary::Coverage(cs) = &c.summary else {
        panic!()
    };
    assert_eq!(cs.percent(), Some(86.5));
    let Summary::Coverage(ls) = &l.summary else {
        panic!()
    };
    assert_eq!((ls.lines_valid, ls.lines_covered), (100, 87));
    let all = Overview::of([&c.summary, &l.summary]);
    assert_eq!(all.coverage.unwrap().percent(), Some(260.0 / 300.0 * 100.0));
}

#[test]
fn sarif_findings_by_level() {
    let s = read("clippy.sarif", SARIF.as_bytes()).unwrap();
    let Summary::Findings(f) = &s.summary else {
        panic!()
    };
    assert_eq!(f.by_level.get("error"), Some(&1));
    assert_eq!(f.by_level.get("warning"), Some(&2));
    assert_eq!(f.by_level.get("note"), Some(&1));
    // Found by content too.
    assert_eq!(
        read("results.json", SARIF.as_bytes()).unwrap().kind,
        Kind::Sarif
    );
}

/// What a reviewer needs beyond totals: each test that did not pass with
/// its message, each file's line hits, each finding with its place.
#[test]
fn details_name_tests_lines_and_places() {
    let Summary::Tests(t) = read("junit.xml", JUNIT.as_bytes()).unwrap().summary else {
        panic!()
    };
    let failed = t
        .problems
        .iter()
        .find(|p| p.outcome == TestOutcome::Failed)
        .unwrap();
    assert_eq!(failed.name, "dosing::rate::syringe_change_recalculates");
    assert_eq!(failed.message, "expected 12.5, got 25.0");
    assert!(t
        .problems
        .iter()
        .any(|p| p.outcome == TestOutcome::Errored && p.message == "bench unreachable"));
    assert!(t.problems.iter().any(|p| p.outcome == TestOutcome::Skipped));

    let Summary::Coverage(c) = read("lcov.info", LCOV.as_bytes()).unwrap().summary else {
        panic!()
    };
    let rate = &c.files["firmware/src/dosing/rate.rs"];
    assert_eq!((rate.get(&1), rate.get(&2)), (Some(&1), Some(&0)));

    let cobertura = r#"<?xml version="1.0" ?>
<coverage line-rate="0.5" lines-covered="1" lines-valid="2" version="2.0" timestamp="1">
  <packages><package name="dosing"><classes>
    <class name="rate" filename="dosing/rate.rs"><lines><line number="7" hits="3"/><line number="8" hits="0"/></lines></class>
  </classes></package></packages>
</coverage>"#;
    let Summary::Coverage(c) = read("coverage.xml", cobertura.as_bytes()).unwrap().summary else {
        panic!()
    };
    assert_eq!(c.files["dosing/rate.rs"].get(&7), Some(&3));
    assert_eq!(c.files["dosing/rate.rs"].get(&8), Some(&0));

    let sarif = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "clippy"}}, "results": [
      {"ruleId": "clippy::unwrap_used", "level": "error", "message": {"text": "unwrap on a dose"},
       "locations": [{"physicalLocation": {"artifactLocation": {"uri": "firmware/src/dosing/rate.rs"}, "region": {"startLine": 12}}}]}]}]}"#;
    let Summary::Findings(f) = read("clippy.sarif", sarif.as_bytes()).unwrap().summary else {
        panic!()
    };
    let only = &f.findings[0];
    assert_eq!(
        (
            only.rule.as_str(),
            only.level.as_str(),
            only.message.as_str()
        ),
        ("clippy::unwrap_used", "error", "unwrap on a dose")
    );
    assert_eq!(only.path.as_deref(), Some("firmware/src/dosing/rate.rs"));
    assert_eq!(only.line, Some(12));
}

#[test]
fn malformed_reports_are_errors_naming_the_file() {
    for (name, text, format) in [
        ("junit.xml", "<testsuite><testcase name=\"x\">", "JUnit XML"),
        ("empty-junit.xml", "<testsuites/>", "JUnit XML"),
        (
            "coverage.xml",
            "<coverage line-rate=\"1.7\"/>",
            "Cobertura XML",
        ),
        (
            "coverage-lies.xml",
            "<coverage line-rate=\"0.5\" lines-covered=\"9\" lines-valid=\"3\"/>",
            "Cobertura XML",
        ),
        ("lcov.info", "SF:x\nDA:one,two\n", "LCOV"),
        (
            "scan.sarif",
            "{\"version\": \"2.1.0\", \"runs\": 7}",
            "SARIF",
        ),
    ] {
        let e = read(name, text.as_bytes()).expect_err(name);
        assert_eq!(e.file, name);
        assert!(
            matches!(&e.problem, Problem::Malformed { format: f, .. } if *f == format),
            "{name}: {e}"
        );
        assert_eq!(e.code(), "evidence.malformed");
    }
    // Anything else is hashed, not parsed.
    assert_eq!(
        read("notes.txt", b"hello").unwrap().summary,
        Summary::Opaque
    );
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_real_artifact_is_read_file_by_file() {
    let zip = zip_of(&[
        ("junit.xml", JUNIT.as_bytes()),
        ("coverage/lcov.info", LCOV.as_bytes()),
    ]);
    let files = read_artifact("test-reports.zip", &zip, &Limits::default()).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "test-reports.zip/junit.xml",
            "test-reports.zip/coverage/lcov.info"
        ]
    );
    let inner_digest = read("x", JUNIT.as_bytes()).unwrap().sha256;
    assert_eq!(
        files[0].sha256, inner_digest,
        "the digest is of the file, not the archive"
    );
}

fn refused(zip: &[u8], limits: &Limits) -> Problem {
    let e = extract_zip("artifact.zip", zip, limits).expect_err("the archive should be refused");
    assert_eq!(e.file, "artifact.zip");
    e.problem
}

#[test]
fn hostile_archives_are_refused() {
    let limits = Limits::default();
    for name in [
        "../../etc/cron.d/x",
        "reports/../../x",
        "/etc/passwd",
        "C:\\Windows\\x",
    ] {
        let p = refused(&zip_of(&[("ok.xml", b"<a/>"), (name, b"x")]), &limits);
        assert!(matches!(p, Problem::UnsafePath(_)), "{name}: {p}");
    }

    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.add_symlink("junit.xml", "/etc/shadow", SimpleFileOptions::default())
        .unwrap();
    let symlink = w.finish().unwrap().into_inner();
    assert!(matches!(refused(&symlink, &limits), Problem::Symlink(_)));

    // 8 MiB of zeros deflates to ~8 KiB: a ratio of ~1000:1.
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let bomb = zip_of(&[("junit.xml", &zeros)]);
    assert!(bomb.len() < 40 * 1024, "{}", bomb.len());
    let p = refused(&bomb, &limits);
    assert!(matches!(p, Problem::CompressionRatio { .. }), "{p}");

    let small = Limits {
        max_entry_bytes: 1024,
        ..Limits::default()
    };
    let big = vec![b'x'; 4096];
    assert!(matches!(
        refused(&zip_of(&[("a.txt", &big)]), &small),
        Problem::TooLarge { limit: 1024 }
    ));
    let total = Limits {
        max_total_bytes: 5000,
        ..Limits::default()
    };
    let p = refused(&zip_of(&[("a.txt", &big), ("b.txt", &big)]), &total);
    assert!(matches!(p, Problem::TooLarge { limit: 5000 }), "{p}");

    let few = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    let many: Vec<(String, Vec<u8>)> = (0..4).map(|i| (format!("{i}.txt"), vec![b'a'])).collect();
    let many: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    assert!(matches!(
        refused(&zip_of(&many), &few),
        Problem::TooManyEntries { limit: 3 }
    ));

    assert!(matches!(
        refused(b"PK\x03\x04 but not really", &limits),
        Problem::NotAZip(_)
    ));
}

/// A report nested far deeper than any real one is refused before it is
/// parsed, instead of taking the app down with a stack overflow (issue 12 §6).
#[test]
fn deeply_nested_xml_is_refused_before_parsing() {
    for (name, open, close) in [
        ("junit.xml", "<testsuite name=\"x\">", "</testsuite>"),
        ("coverage.xml", "<packages>", "</packages>"),
    ] {
        let depth = 100_000;
        let mut xml = String::from(if name == "junit.xml" {
            "<testsuites>"
        } else {
            "<coverage line-rate=\"1\">"
        });
        xml.push_str(&open.repeat(depth));
        xml.push_str(&close.repeat(depth));
        xml.push_str(if name == "junit.xml" {
            "</testsuites>"
        } else {
            "</coverage>"
        });
        let zip = zip_of(&[(name, xml.as_bytes())]);
        let Err(e) = read_artifact("test-reports.zip", &zip, &Limits::default()) else {
            panic!("{name} nested {depth} deep was accepted");
        };
        assert!(
            matches!(e.problem, Problem::TooDeep { limit: 64 }),
            "{name}: {e}"
        );
        assert!(e.to_string().contains("nested deeper than 64"), "{e}");
    }
}
