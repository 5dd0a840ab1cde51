//! The approval every signing test starts from, and signing it the way the
//! app does (seal the key under a password, re-authenticate for this very
//! record, sign).
//!
//! Start from [`draft`] and change only what a test is about:
//!
//! ```
//! use countersign_signing::keys::SignerKey;
//! use countersign_signing::Meaning;
//! use countersign_signing_kit::{draft, sign_with_password};
//!
//! let key = SignerKey::from_test_seed([2; 32]);
//! let rejection = countersign_signing::ApprovalDraft {
//!     meaning: Meaning::Rejection,
//!     ..draft(&key.public())
//! };
//! let envelope = sign_with_password(&key, rejection);
//! assert_eq!(envelope.signatures.len(), 1);
//! ```
//!
//! A dev-dependency only: nothing shipped depends on it.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use countersign_secret::Secret;
use countersign_signing::dsse::Envelope;
use countersign_signing::keys::{PublicKey, SignerKey};
use countersign_signing::reauth::{Reauthenticator, VerifiedIdentity};
use countersign_signing::statement::{AuthMethod, ChangeRequestRef, ForgeIdentity};
use countersign_signing::vault::{seal, KdfParams};
use countersign_signing::{sign, ApprovalDraft, ApprovalRequest, EvidenceFile, Meaning};

/// The head commit of pull request #42 in the fixtures.
pub const HEAD: &str = "3e660899f3d1c0ffee0123456789abcdef012345";
/// Its base commit on `main`.
pub const BASE: &str = "18ef27fdd1c0ffee0123456789abcdef01234567";
/// SHA-256 of its diff.
pub const DIFF: &str = "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
/// SHA-256 of its one evidence file, `junit/dosing.xml`.
pub const JUNIT: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
/// The signing password [`sign_with_password`] seals keys under.
pub const PASSWORD: &str = "infusion-42-safe";

/// Bob Okafor, QA, on github.com.
pub fn bob() -> ForgeIdentity {
    ForgeIdentity {
        host: "github.com".into(),
        user_id: 5002,
        login: "bob-qa".into(),
    }
}

/// `acme-medical/infusion-pump-firmware#42` on `main`, at `head`.
pub fn pr_42(head: &str) -> ChangeRequestRef {
    ChangeRequestRef {
        forge: "github.com".into(),
        repo_id: None,
        repo: "acme-medical/infusion-pump-firmware".into(),
        number: 42,
        base_ref: Some("main".into()),
        base_sha: BASE.into(),
        head_sha: head.into(),
    }
}

/// 2026-11-26 13:05:09 +01:00.
pub fn signed_at() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 13, 5, 9)
        .unwrap()
}

/// Bob's QA approval of #42 at [`HEAD`], with the password, signed with `key`.
pub fn draft(key: &PublicKey) -> ApprovalDraft {
    ApprovalDraft {
        printed_name: "Bob Okafor".into(),
        forge: bob(),
        role: "QA".into(),
        signer_key: *key,
        meaning: Meaning::Approval,
        withdraws: None,
        allowed_meanings: None,
        reason: "Verified RA-042 controls C1 and C2 against HIL-17".into(),
        signed_at: signed_at(),
        forge_clock: None,
        change_request: pr_42(HEAD),
        diff_sha256: DIFF.into(),
        evidence: vec![EvidenceFile {
            name: "junit/dosing.xml".into(),
            sha256: JUNIT.into(),
        }],
        policy_digest: None,
        risk_assessment_digest: None,
        risk_class: None,
        labels: None,
        authentication: AuthMethod::Password,
        audit_head: None,
        app_version: "test".into(),
        offline: None,
    }
}

/// Sign `draft` as the app does: the key sealed under [`PASSWORD`] (at the
/// cheapest parameters the vault accepts), a password re-authentication of
/// the draft's signer bound to this record's digest, then the signature.
pub fn sign_with_password(key: &SignerKey, draft: ApprovalDraft) -> Envelope {
    let identity = draft.forge.clone();
    let request = ApprovalRequest::validate(draft).expect("a valid draft");
    let sealed = seal(key, &Secret::from(PASSWORD), KdfParams::default()).expect("sealed");
    let (proof, _) = Reauthenticator::default().with_password(
        Utc::now(),
        Some(&VerifiedIdentity {
            host: identity.host,
            user_id: identity.user_id,
            login: identity.login,
        }),
        identity.user_id,
        &sealed,
        &Secret::from(PASSWORD),
        request.preview().digest,
    );
    sign(&request, proof.expect("the password re-authenticates")).expect("signed")
}
