//! Issue 12 §1: one snapshot of the change from preview to push. What the
//! preview shows is exactly what is signed (its digest, its time), the form
//! is bound to the preview, anything that moved on the forge in between is
//! named, and one signature does not gather the change again at each step.

use countersign_api::contract::{Meaning, SeenContent, SignRequest};
use countersign_api::ErrorCode;
use countersign_forge_sandbox::{RunningSandbox, Seed, Served};
use countersign_secret::Secret;

mod kit;
use kit::*;

/// What the sandbox served since the last call, and resets the log.
fn served(sandbox: &RunningSandbox) -> Vec<Served> {
    std::mem::take(&mut sandbox.store().write().unwrap().served)
}

struct Cost {
    requests: usize,
    not_modified: usize,
    bytes: u64,
    artifact_downloads: usize,
}

fn cost(log: &[Served]) -> Cost {
    Cost {
        requests: log.len(),
        not_modified: log.iter().filter(|s| s.status == 304).count(),
        bytes: log.iter().map(|s| s.bytes).sum(),
        artifact_downloads: log
            .iter()
            .filter(|s| s.path.starts_with("/_blobs/artifacts/"))
            .count(),
    }
}

fn sign_request(
    preview: &countersign_api::contract::SignaturePreview,
    draft: countersign_api::contract::SignatureDraft,
) -> SignRequest {
    SignRequest {
        snapshot_id: preview.snapshot_id.clone(),
        draft,
        seen: SeenContent {
            head_sha: preview.head_sha.clone(),
            diff_sha256: preview.diff_sha256.clone(),
        },
        password: Secret::from(PASSWORD),
        security_key_pin: None,
    }
}

/// Bob enrolled, and his preview of a QA approval of #44.
async fn bob_previews_44(
    sandbox: &RunningSandbox,
) -> (
    Device,
    countersign_api::contract::SignatureDraft,
    countersign_api::contract::SignaturePreview,
) {
    let bob = device(sandbox, "bob-qa", "Bob Okafor").await;
    become_(sandbox, bob.login);
    let signing = draft(44, "qa", Meaning::Approval);
    let preview = bob
        .session
        .preview_signature(signing.clone())
        .await
        .unwrap();
    (bob, signing, preview)
}

/// The window's flow for one signature — review, preview, sign, push,
/// review again — with what each step costs on the forge printed; the CI
/// artifacts are downloaded once, by the review, and used to the push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_signature_reads_the_evidence_once_from_review_to_push() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    become_(&sandbox, bob.login);
    served(&sandbox);
    let mut steps = Vec::new();
    bob.session.review_change_request(cr(44)).await.unwrap();
    steps.push(("review", cost(&served(&sandbox))));
    let signing = draft(44, "qa", Meaning::Approval);
    let preview = bob
        .session
        .preview_signature(signing.clone())
        .await
        .unwrap();
    steps.push(("preview", cost(&served(&sandbox))));
    bob.session
        .sign_change_request(sign_request(&preview, signing))
        .await
        .unwrap();
    steps.push(("sign", cost(&served(&sandbox))));
    let pushed = bob.session.push_outbox().await.unwrap();
    assert_eq!(pushed.failed, 0, "{:?}", pushed.errors);
    steps.push(("push", cost(&served(&sandbox))));
    bob.session.review_change_request(cr(44)).await.unwrap();
    steps.push(("review again", cost(&served(&sandbox))));

    println!("step          requests  304s  bytes    artifact downloads");
    for (step, c) in &steps {
        println!(
            "{step:<13} {:>8} {:>5} {:>8} {:>4}",
            c.requests, c.not_modified, c.bytes, c.artifact_downloads
        );
    }
    let signature: Vec<&Cost> = steps[..4].iter().map(|(_, c)| c).collect();
    println!(
        "per signature (review → push): {} requests, {} bytes",
        signature.iter().map(|c| c.requests).sum::<usize>(),
        signature.iter().map(|c| c.bytes).sum::<u64>()
    );
    let downloads: usize = signature.iter().map(|c| c.artifact_downloads).sum();
    assert_eq!(downloads, 1, "the evidence is read once, by the review");
}

/// The preview's record digest is the digest of the record signed: the
/// statement, its `signed_at` included, is fixed at preview time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_shown_at_preview_is_the_digest_signed() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (bob, signing, preview) = bob_previews_44(&sandbox).await;
    // Long enough for a clock that is read again at signing to move on.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let signed = bob
        .session
        .sign_change_request(sign_request(&preview, signing))
        .await
        .unwrap();
    let envelope: countersign_signing::dsse::Envelope =
        serde_json::from_str(&signed.envelope_json).unwrap();
    // The bytes an ed25519 signature covers: DSSE's pre-authentication encoding.
    assert_eq!(
        countersign_api::digest::sha256_hex(&envelope.pae().unwrap()),
        preview.record_digest
    );
    let payload = envelope.payload_bytes().unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["predicate"]["signed_at"],
        preview.signed_at.as_str()
    );
}

/// Signing refuses, naming each, when the forge's labels or risk assessment
/// moved after the preview (not only the head and the diff).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_names_what_changed_on_the_forge_since_the_preview() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (bob, signing, preview) = bob_previews_44(&sandbox).await;
    edit_pull(&sandbox, 44, |pr| {
        pr.labels.retain(|l| l != "docs");
        pr.body.push_str("\n\nEdited after the review.");
    });
    let refused = bob
        .session
        .sign_change_request(sign_request(&preview, signing))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code,
        ErrorCode::SigningChangedSincePreview,
        "{refused:?}"
    );
    assert!(refused.message.contains("labels"), "{}", refused.message);
    assert!(
        refused.message.contains("description"),
        "{}",
        refused.message
    );
}

/// The signature is bound to the preview's form: a different reason, role
/// or meaning, or a preview that is not this session's, starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_edited_after_its_preview_is_not_signed() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (bob, signing, preview) = bob_previews_44(&sandbox).await;
    let mut edited = signing.clone();
    edited.reason = "Something else entirely".into();
    let refused = bob
        .session
        .sign_change_request(sign_request(&preview, edited))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code,
        ErrorCode::SigningChangedSincePreview,
        "{refused:?}"
    );
    let mut unknown = sign_request(&preview, signing);
    unknown.snapshot_id = "not-a-preview".into();
    let refused = bob.session.sign_change_request(unknown).await.unwrap_err();
    assert_eq!(
        refused.code,
        ErrorCode::SigningPreviewExpired,
        "{refused:?}"
    );
}

/// A preview older than five minutes must be renewed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_older_than_five_minutes_must_be_renewed() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (bob, signing, preview) = bob_previews_44(&sandbox).await;
    let expires = chrono::DateTime::parse_from_rfc3339(&preview.expires_at).unwrap();
    let signed_at = chrono::DateTime::parse_from_rfc3339(&preview.signed_at).unwrap();
    assert_eq!((expires - signed_at).num_seconds(), 300);
    bob.session.age_previews(chrono::Duration::minutes(6));
    let refused = bob
        .session
        .sign_change_request(sign_request(&preview, signing.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code,
        ErrorCode::SigningPreviewExpired,
        "{refused:?}"
    );
    // Renewed, it signs.
    let renewed = bob
        .session
        .preview_signature(signing.clone())
        .await
        .unwrap();
    bob.session
        .sign_change_request(sign_request(&renewed, signing))
        .await
        .unwrap();
}
