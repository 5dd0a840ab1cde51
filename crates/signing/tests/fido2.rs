//! Security keys with the software authenticator: registration, a record
//! confirmed by an assertion over its own digest, and every way an assertion
//! can be wrong — another record's, replayed, without user verification,
//! tampered, from an unknown key, a counter going backwards.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use countersign_secret::Secret;
use countersign_signing::dsse::Envelope;
use countersign_signing::fido2::{self, SecurityKey};
use countersign_signing::keys::SignerKey;
use countersign_signing::reauth::{FreshAuth, Reauthenticator, VerifiedIdentity};
use countersign_signing::statement::{AuthMethod, Fido2Assertion};
use countersign_signing::vault::{seal, KdfParams};
use countersign_signing::verify::{verify_bundle, Bundle, Expectations, Finding};
use countersign_signing::{sign, ApprovalDraft, ApprovalRequest};
use countersign_signing_kit::{bob as identity, PASSWORD};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::Url;

fn origin() -> Url {
    Url::parse(fido2::ORIGIN).unwrap()
}

fn register(authenticator: &mut SoftPasskey) -> SecurityKey {
    let (ccr, state) = fido2::start_registration(5002, "bob-qa", "Bob Okafor").unwrap();
    let response = authenticator.do_registration(origin(), ccr).unwrap();
    fido2::finish_registration(&response, &state).unwrap()
}

fn at(minute: i64) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .unwrap()
        + Duration::minutes(minute)
}

fn request(key: &SignerKey, sk: &SecurityKey, reason: &str, minute: i64) -> ApprovalRequest {
    ApprovalRequest::validate(ApprovalDraft {
        role: "qa".into(),
        reason: reason.into(),
        signed_at: at(minute),
        evidence: Vec::new(),
        authentication: AuthMethod::Fido2 {
            assertion: Fido2Assertion {
                credential_id: sk.credential_id.clone(),
                authenticator_data: String::new(),
                client_data_json: String::new(),
                signature: String::new(),
            },
        },
        ..countersign_signing_kit::draft(&key.public())
    })
    .unwrap()
}

fn assert_for(
    authenticator: &mut SoftPasskey,
    sk: &SecurityKey,
    challenge: &[u8; 32],
) -> Fido2Assertion {
    let options = fido2::request(challenge, sk).unwrap();
    let credential = authenticator.do_authentication(origin(), options).unwrap();
    fido2::assertion_of(&credential)
}

/// Password re-authentication as usual, for this very record.
fn reauthenticated(key: &SignerKey, request: &ApprovalRequest) -> FreshAuth {
    let sealed = seal(key, &Secret::from(PASSWORD), KdfParams::default()).unwrap();
    let (proof, _) = Reauthenticator::default().with_password(
        Utc::now(),
        Some(&VerifiedIdentity {
            host: "github.com".into(),
            user_id: 5002,
            login: "bob-qa".into(),
        }),
        5002,
        &sealed,
        &Secret::from(PASSWORD),
        request.preview().digest,
    );
    proof.unwrap()
}

/// Then the ed25519 signature over the record that now carries the assertion.
fn finish(key: &SignerKey, request: &ApprovalRequest) -> Envelope {
    sign(request, reauthenticated(key, request)).unwrap()
}

fn confirmed(
    authenticator: &mut SoftPasskey,
    key: &SignerKey,
    sk: &SecurityKey,
    reason: &str,
    minute: i64,
) -> Envelope {
    let req = request(key, sk, reason, minute);
    let challenge = req.fido2_challenge().unwrap();
    let assertion = assert_for(authenticator, sk, &challenge);
    finish(key, &req.with_assertion(assertion).unwrap())
}

fn verify(envelopes: Vec<Envelope>, key: &SignerKey, sks: Vec<SecurityKey>) -> Vec<Vec<Finding>> {
    let mut trusted = countersign_signing::enrolment::EnrolmentRecord::new(
        "Bob Okafor",
        identity(),
        key,
        Utc::now() - Duration::days(400),
    )
    .trusted_key();
    trusted.security_keys = sks;
    verify_bundle(
        &Bundle::new(envelopes),
        &[trusted],
        &Expectations::default(),
    )
    .signatures
    .into_iter()
    .map(|s| s.findings)
    .collect()
}

#[test]
fn a_record_confirmed_by_a_security_key_verifies_offline() {
    let mut authenticator = SoftPasskey::new(true);
    let sk = register(&mut authenticator);
    let key = SignerKey::from_test_seed([2; 32]);
    let envelope = confirmed(&mut authenticator, &key, &sk, "Verified RA-042", 0);
    assert_eq!(
        verify(vec![envelope.clone()], &key, vec![sk.clone()]),
        vec![Vec::<Finding>::new()]
    );
    // Without the security key in the roster, the confirmation is not trusted.
    let findings = verify(vec![envelope], &key, Vec::new());
    assert!(
        matches!(findings[0][..], [Finding::SecurityKeyUnknown(_)]),
        "{findings:?}"
    );
}

#[test]
fn an_assertion_for_another_record_or_replayed_is_rejected() {
    let mut authenticator = SoftPasskey::new(true);
    let sk = register(&mut authenticator);
    let key = SignerKey::from_test_seed([2; 32]);
    let first = request(&key, &sk, "Verified RA-042", 0);
    let assertion = assert_for(&mut authenticator, &sk, &first.fido2_challenge().unwrap());
    // The same assertion reused for a record with another reason.
    let other = request(&key, &sk, "Looks fine", 1)
        .with_assertion(assertion)
        .unwrap();
    let findings = verify(vec![finish(&key, &other)], &key, vec![sk.clone()]);
    assert!(
        matches!(&findings[0][..], [Finding::SecurityKey(why)] if why.contains("another record")),
        "{findings:?}"
    );
    // An unconfirmed record cannot be signed at all.
    let blank = request(&key, &sk, "Verified RA-042", 2);
    assert_eq!(
        sign(&blank, reauthenticated(&key, &blank))
            .unwrap_err()
            .code(),
        "signing.security_key"
    );
}

#[test]
fn tampered_assertions_and_missing_user_verification_are_rejected() {
    let mut authenticator = SoftPasskey::new(true);
    let sk = register(&mut authenticator);
    let key = SignerKey::from_test_seed([2; 32]);
    let req = request(&key, &sk, "Verified RA-042", 0);
    let challenge = req.fido2_challenge().unwrap();
    let good = assert_for(&mut authenticator, &sk, &challenge);
    assert!(fido2::check(&good, &sk, &challenge).is_ok());

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut data = URL_SAFE_NO_PAD.decode(&good.authenticator_data).unwrap();
    // Clear the user-verified flag: the signature no longer matches, and even
    // a key that signed such data would be refused for it.
    data[32] &= !0x04;
    let no_uv = Fido2Assertion {
        authenticator_data: URL_SAFE_NO_PAD.encode(&data),
        ..good.clone()
    };
    let why = fido2::check(&no_uv, &sk, &challenge).unwrap_err();
    assert!(why.contains("not verified"), "{why}");
    let mut sig = URL_SAFE_NO_PAD.decode(&good.signature).unwrap();
    let last = sig.len() - 1;
    sig[last] ^= 1;
    let bad_sig = Fido2Assertion {
        signature: URL_SAFE_NO_PAD.encode(&sig),
        ..good.clone()
    };
    assert!(fido2::check(&bad_sig, &sk, &challenge)
        .unwrap_err()
        .contains("does not verify"));

    // An authenticator that cannot verify the user (no PIN, no biometric)
    // cannot even be registered: user verification is required.
    let mut no_pin = SoftPasskey::new(false);
    let (ccr, _state) = fido2::start_registration(5002, "bob-qa", "Bob Okafor").unwrap();
    assert!(no_pin.do_registration(origin(), ccr).is_err());
}

#[test]
fn a_counter_that_goes_back_is_flagged() {
    let mut authenticator = SoftPasskey::new(true);
    let sk = register(&mut authenticator);
    let key = SignerKey::from_test_seed([2; 32]);
    // Confirmed in this order, but the second claims an earlier signing time:
    // the counter then goes backwards in signing order.
    let later = confirmed(&mut authenticator, &key, &sk, "first use", 10);
    let earlier = confirmed(&mut authenticator, &key, &sk, "second use", 5);
    let findings = verify(vec![later, earlier], &key, vec![sk]);
    assert!(
        findings
            .iter()
            .flatten()
            .any(|f| matches!(f, Finding::SecurityKeyCounter { .. })),
        "{findings:?}"
    );
}
