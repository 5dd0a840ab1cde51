//! Our DSSE envelopes against securesystemslib (Python), which we did not
//! write: it verifies ours, and ours verifies its.

use std::path::PathBuf;
use std::process::Command;

use chrono::{FixedOffset, TimeZone, Utc};
use countersign_secret::Secret;
use countersign_signing::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use countersign_signing::keys::SignerKey;
use countersign_signing::reauth::{Reauthenticator, VerifiedIdentity};
use countersign_signing::statement::{AuthMethod, ChangeRequestRef, ForgeIdentity};
use countersign_signing::vault::{seal, KdfParams};
use countersign_signing::verify::{verify_bundle, Bundle, Expectations, TrustedKey};
use countersign_signing::{sign, ApprovalDraft, ApprovalRequest, Meaning};
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

fn identity() -> ForgeIdentity {
    ForgeIdentity {
        host: "github.com".into(),
        user_id: 5002,
        login: "bob-qa".into(),
    }
}

fn our_envelope() -> Envelope {
    let key = SignerKey::from_test_seed(SEED);
    let password = Secret::from("correct horse battery staple");
    let sealed = seal(&key, &password, KdfParams::default()).unwrap();
    let request = ApprovalRequest::validate(ApprovalDraft {
        printed_name: "Bob Okafor".into(),
        forge: identity(),
        role: "QA".into(),
        signer_key: key.public(),
        meaning: Meaning::Approval,
        allowed_meanings: None,
        reason: "Interoperability check".into(),
        signed_at: FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .unwrap(),
        forge_clock: None,
        change_request: ChangeRequestRef {
            forge: "github.com".into(),
            repo_id: None,
            repo: "acme-medical/infusion-pump-firmware".into(),
            number: 42,
            base_ref: Some("main".into()),
            base_sha: "1".repeat(40),
            head_sha: "2".repeat(40),
        },
        diff_sha256: "3".repeat(64),
        evidence: Vec::new(),
        policy_digest: None,
        risk_assessment_digest: None,
        risk_class: None,
        labels: None,
        authentication: AuthMethod::Password,
        audit_head: None,
        app_version: "test".into(),
    })
    .unwrap();
    let verified = VerifiedIdentity {
        host: "github.com".into(),
        user_id: 5002,
        login: "bob-qa".into(),
    };
    let (proof, _) = Reauthenticator::default().with_password(
        Utc::now(),
        Some(&verified),
        5002,
        &sealed,
        &password,
        request.preview().digest,
    );
    sign(&request, proof.unwrap()).unwrap()
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
        forge: identity(),
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
