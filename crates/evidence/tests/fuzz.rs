//! Generated-input tests of every evidence parser and of the zip reader
//! (issue 12 §6), over mutations of real reports and a real artifact and
//! over random bytes: a summary or an error naming the file, never a panic,
//! a hang or an unbounded allocation; and whatever is read, its digest is of
//! exactly the bytes given. See `countersign-mutation` for why these run
//! under proptest.

use std::io::Write;

use countersign_evidence::{read, read_artifact, Limits};
use countersign_mutation::{apply, config, edits};
use proptest::prelude::*;
use sha2::Digest;

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="firmware" tests="3" failures="1">
  <testsuite name="dosing::rate" tests="3">
    <testcase classname="dosing::rate" name="clamps_to_interlock_max" time="0.01"/>
    <testcase classname="dosing::rate" name="recalculates"><failure message="expected 12.5">left: 12.5</failure></testcase>
    <testcase classname="dosing::scheduler" name="slow_path"><skipped/></testcase>
  </testsuite>
</testsuites>
"#;

const COBERTURA: &str = r#"<?xml version="1.0" ?>
<coverage line-rate="0.865" branch-rate="0.7" lines-covered="173" lines-valid="200" version="2.0" timestamp="1700000000">
  <packages><package name="dosing" line-rate="0.865"><classes/></package></packages>
</coverage>
"#;

const LCOV: &str =
    "TN:\nSF:firmware/src/dosing/rate.rs\nDA:1,1\nDA:2,0\nLF:40\nLH:30\nend_of_record\n";

const SARIF: &str = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "clippy"}},
  "results": [{"ruleId": "a", "level": "error", "message": {"text": "x"}}]}]}"#;

/// Each format under the name that makes it be read as that format.
const SEEDS: [(&str, &str); 4] = [
    ("junit.xml", JUNIT),
    ("coverage.xml", COBERTURA),
    ("lcov.info", LCOV),
    ("results.sarif", SARIF),
];

fn artifact() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in SEEDS {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn the_seeds_are_read() {
    for (name, text) in SEEDS {
        read(name, text.as_bytes()).unwrap();
    }
    assert_eq!(
        read_artifact("reports.zip", &artifact(), &Limits::default())
            .unwrap()
            .len(),
        4
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_mutated_report_is_summarised_or_refused_by_name(which in 0..SEEDS.len(), e in edits()) {
        let (name, text) = SEEDS[which];
        let bytes = apply(text.as_bytes(), &e);
        match read(name, &bytes) {
            Ok(file) => prop_assert_eq!(file.sha256, sha256_hex(&bytes)),
            Err(err) => prop_assert!(err.to_string().contains(name), "{err}"),
        }
    }

    #[test]
    fn random_bytes_under_any_name_never_panic(which in 0..SEEDS.len(), bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read(SEEDS[which].0, &bytes);
    }

    #[test]
    fn a_mutated_artifact_is_read_or_refused_never_a_panic(e in edits()) {
        let bytes = apply(&artifact(), &e);
        if let Ok(files) = read_artifact("reports.zip", &bytes, &Limits::default()) {
            for f in files {
                prop_assert!(f.name.starts_with("reports.zip/"), "{}", f.name);
                prop_assert_eq!(f.sha256, sha256_hex(&f.content));
            }
        }
    }

    #[test]
    fn random_bytes_are_never_an_artifact_by_accident(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        prop_assume!(!bytes.windows(4).any(|w| w == b"PK\x05\x06"));
        prop_assert!(read_artifact("reports.zip", &bytes, &Limits::default()).is_err());
    }
}
