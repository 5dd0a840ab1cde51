//! Our DSSE envelopes against securesystemslib (Python), which we did not
//! write: it verifies ours, and ours verifies its.

use std::path::PathBuf;
use std::process::Command;

use chrono::{FixedOffset, TimeZone};
use countersign_signing::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use countersign_signing::keys::SignerKey;
use countersign_signing::verify::{verify_bundle, Bundle, Expectations, TrustedKey};
use countersign_signing::ApprovalDraft;
use countersign_tests::{target_dir, workspace_root};

const SEED: [u8; 32] = [0x42; 32];

fn python() -> PathBuf {
    let python = target_dir().join("interop-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/test-all.sh creates it (python3 -m venv + pip install -r tests/interop/requirements.txt)",
        python.display()
    );
    python
}

fn script() -> PathBuf {
    workspace_root().join("tests/interop/dsse_interop.py")
}

fn our_envelope() -> Envelope {
    let key = SignerKey::from_test_seed(SEED);
    let draft = ApprovalDraft {
        reason: "Interoperability check".into(),
        signed_at: FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .unwrap(),
        evidence: Vec::new(),
        ..countersign_signing_kit::draft(&key.public())
    };
    countersign_signing_kit::sign_with_password(&key, draft)
}

fn scratch(name: &str) -> PathBuf {
    let dir = target_dir().join("interop");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn securesystemslib_verifies_our_envelopes_and_rejects_altered_ones() {
    let envelope = our_envelope();
    let public = SignerKey::from_test_seed(SEED).public().to_base64();
    let path = scratch("ours.json");
    std::fs::write(&path, serde_json::to_vec(&envelope).unwrap()).unwrap();
    let out = Command::new(python())
        .arg(script())
        .arg("verify")
        .arg(&path)
        .arg(&public)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let mut altered = envelope.clone();
    let mut payload = altered.payload_bytes().unwrap();
    let at = payload.len() / 2;
    payload[at] ^= 1;
    altered.payload = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, payload);
    std::fs::write(&path, serde_json::to_vec(&altered).unwrap()).unwrap();
    let out = Command::new(python())
        .arg(script())
        .arg("verify")
        .arg(&path)
        .arg(&public)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn we_verify_envelopes_that_securesystemslib_signs() {
    let ours = our_envelope();
    let payload = scratch("payload.json");
    std::fs::write(&payload, ours.payload_bytes().unwrap()).unwrap();
    let out = Command::new(python())
        .arg(script())
        .arg("sign")
        .arg(&payload)
        .arg(IN_TOTO_PAYLOAD_TYPE)
        .arg(hex::encode(SEED))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Envelope =
        serde_json::from_slice(&out.stdout).expect("securesystemslib printed an envelope");
    assert_eq!(theirs.payload, ours.payload, "the same payload bytes");

    let key = SignerKey::from_test_seed(SEED).public();
    let trusted = TrustedKey {
        printed_name: "Bob Okafor".into(),
        forge: countersign_signing_kit::bob(),
        public_key: key,
        valid_from: None,
        valid_until: None,
        revoked_at: None,
        security_keys: Vec::new(),
    };
    let report = verify_bundle(
        &Bundle::new(vec![theirs]),
        &[trusted],
        &Expectations::default(),
    );
    assert!(report.holds(), "{:?}", report.signatures[0].findings);
}
