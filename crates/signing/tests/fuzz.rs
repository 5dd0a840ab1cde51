//! Generated-input tests of what reads records from the forge (issue 12 §6):
//! the bundle and envelope parser and the verifier, over mutations of a real
//! signed record and over random bytes. Never a panic; and a record whose
//! statement was changed never verifies. See `countersign-mutation` for why
//! these run under proptest rather than `cargo fuzz`.

use std::sync::OnceLock;

use base64::Engine;
use countersign_mutation::{apply, config, edits};
use countersign_signing::dsse::Envelope;
use countersign_signing::keys::SignerKey;
use countersign_signing::verify::{
    verify_bundle, verify_envelope, Bundle, Expectations, TrustedKey,
};
use countersign_signing_kit::{bob, draft, sign_with_password};
use proptest::prelude::*;

struct Signed {
    bundle_json: Vec<u8>,
    envelope: Envelope,
    roster: Vec<TrustedKey>,
}

/// One record signed as the app signs, made once for every case.
fn signed() -> &'static Signed {
    static SIGNED: OnceLock<Signed> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let key = SignerKey::from_test_seed([42; 32]);
        let envelope = sign_with_password(&key, draft(&key.public()));
        let roster = vec![TrustedKey {
            printed_name: "Bob Okafor".into(),
            forge: bob(),
            public_key: key.public(),
            valid_from: None,
            valid_until: None,
            revoked_at: None,
            security_keys: Vec::new(),
        }];
        let bundle_json = serde_json::to_vec_pretty(&Bundle::new(vec![envelope.clone()])).unwrap();
        Signed {
            bundle_json,
            envelope,
            roster,
        }
    })
}

#[test]
fn the_seed_verifies() {
    let s = signed();
    let bundle = Bundle::parse(&s.bundle_json).unwrap();
    let report = verify_bundle(&bundle, &s.roster, &Expectations::default());
    assert!(
        report.signatures.iter().all(|r| r.findings.is_empty()),
        "{report:?}"
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_mutated_bundle_never_panics_the_parser_or_the_verifier(e in edits()) {
        let s = signed();
        let bytes = apply(&s.bundle_json, &e);
        if let Ok(bundle) = Bundle::parse(&bytes) {
            let _ = verify_bundle(&bundle, &s.roster, &Expectations::default());
        }
    }

    #[test]
    fn random_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Bundle::parse(&bytes);
        let _ = serde_json::from_slice::<Envelope>(&bytes);
    }

    #[test]
    fn a_changed_statement_never_verifies(e in edits()) {
        let s = signed();
        let payload = s.envelope.payload_bytes().unwrap();
        let changed = apply(&payload, &e);
        prop_assume!(changed != payload);
        let mut envelope = s.envelope.clone();
        envelope.payload = base64::engine::general_purpose::STANDARD.encode(&changed);
        let reports = verify_envelope(&envelope, &s.roster, &Expectations::default());
        prop_assert!(reports.iter().all(|r| !r.findings.is_empty()), "{reports:?}");
    }
}
