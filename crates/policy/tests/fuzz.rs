//! Generated-input tests of the policy parser and the risk-assessment block
//! (issue 12 §6), over mutations of a real policy and a real pull-request
//! description, and over random text: an error or a value, never a panic;
//! and an assessment that parses has its digest over the block's own lines.
//! See `countersign-mutation` for why these run under proptest.

mod fixture;

use countersign_mutation::{apply, config, edits};
use countersign_policy::risk::find_assessment;
use proptest::prelude::*;

fn description() -> String {
    format!(
        "Clamp the infusion rate to the interlock maximum.\n\n{}\nTested on the bench.\n",
        fixture::ASSESSMENT
    )
}

#[test]
fn the_seeds_parse() {
    countersign_policy::parse(&fixture::policy_text(&[])).unwrap();
    assert!(find_assessment(&description()).unwrap().is_some());
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_mutated_policy_is_parsed_or_refused_never_a_panic(e in edits()) {
        let bytes = apply(fixture::policy_text(&[fixture::EVE]).as_bytes(), &e);
        let text = String::from_utf8_lossy(&bytes);
        let _ = countersign_policy::parse(&text);
    }

    #[test]
    fn random_text_is_never_a_policy_by_accident(text in "\\PC{0,400}") {
        // Version 1 is required, so a policy cannot be made of noise.
        prop_assume!(!text.contains("version"));
        prop_assert!(countersign_policy::parse(&text).is_err());
    }

    #[test]
    fn a_mutated_assessment_is_read_or_refused_never_a_panic(e in edits()) {
        let bytes = apply(description().as_bytes(), &e);
        let body = String::from_utf8_lossy(&bytes);
        if let Ok(Some(found)) = find_assessment(&body) {
            let digest = format!(
                "sha256:{}",
                sha256_hex(found.text.as_bytes())
            );
            prop_assert_eq!(found.digest, digest);
            // The block's lines, with CRLF read as LF (the fuzzer's first
            // finding: browsers send CRLF, and the same block must keep its
            // digest whichever line ends a description was saved with).
            prop_assert!(body.replace("\r\n", "\n").contains(&found.text));
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
