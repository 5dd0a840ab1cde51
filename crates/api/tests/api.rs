//! The use cases, headless, against the sandbox forge over real HTTP.

use countersign_api::contract::{self, ChangeRequestRef, RiskClass};
use countersign_api::{ForgeTarget, Session};
use countersign_forge_sandbox::{RunningSandbox, Seed};
use url::Url;

async fn session_for(sandbox: &RunningSandbox) -> Session {
    let api_base = Url::parse(&sandbox.api_base()).unwrap();
    Session::start(ForgeTarget::Sandbox { api_base })
        .await
        .unwrap()
}

#[tokio::test]
async fn the_queue_lists_the_sandbox_pull_requests_newest_first() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let session = session_for(&sandbox).await;
    assert!(session.app_info().await.unwrap().sandbox);
    assert_eq!(session.app_info().await.unwrap().forge_label, "Sandbox");

    let queue = session.load_queue().await.unwrap();
    assert!(queue.problems.is_empty(), "{:?}", queue.problems);
    let numbers: Vec<u32> = queue.items.iter().map(|i| i.number).collect();
    assert_eq!(numbers, vec![45, 43, 42, 44]);
    let rate = queue.items.iter().find(|i| i.number == 42).unwrap();
    assert_eq!(rate.risk, RiskClass::High);
    assert_eq!(rate.repo, "acme-medical/infusion-pump-firmware");
    assert_eq!(rate.author.login, "alice-dev");
    assert_eq!(rate.author.id, 5001);
}

#[tokio::test]
async fn the_first_queue_load_takes_the_prefetched_fetch_and_later_ones_fetch_afresh() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let session = session_for(&sandbox).await;
    let requests = || sandbox.store().read().unwrap().requests;
    let before = requests();
    session.prefetch_queue();
    let first = session.load_queue().await.unwrap();
    let by_prefetch = requests() - before;
    assert!(by_prefetch > 0, "the prefetch reached the forge");
    let second = session.load_queue().await.unwrap();
    assert_eq!(
        requests() - before,
        2 * by_prefetch,
        "the first load added no requests of its own; the second made its own"
    );
    assert_eq!(first.items.len(), second.items.len());
}

#[tokio::test]
async fn opening_a_change_request_gives_its_whole_diff() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let session = session_for(&sandbox).await;
    let detail = session
        .open_change_request(ChangeRequestRef {
            repo: "acme-medical/infusion-pump-firmware".into(),
            number: 42,
        })
        .await
        .unwrap();
    assert_eq!(detail.files.len(), 3);
    assert!(detail.files.iter().all(|f| f.patch_available));
    for f in &detail.files {
        assert!(
            detail.diff.contains(&format!("+++ b/{}", f.path)),
            "diff lacks {}",
            f.path
        );
    }
    assert!(detail
        .diff
        .contains("+pub const MAX_RATE_ML_H: f64 = 1200.0;"));
    assert!(detail.diff.contains("new file mode 100644"));
    let added: u32 = detail.files.iter().map(|f| f.additions).sum();
    assert_eq!(added, detail.additions);
    assert!(detail.body.contains("```countersign-risk"));
}

#[tokio::test]
async fn an_empty_forge_gives_an_empty_queue() {
    let sandbox = RunningSandbox::start(0, Seed::NoPullRequests)
        .await
        .unwrap();
    let session = session_for(&sandbox).await;
    let queue = session.load_queue().await.unwrap();
    assert!(queue.items.is_empty());
    assert!(queue.problems.is_empty());
}

#[tokio::test]
async fn an_unreachable_forge_is_an_error_with_a_stable_code() {
    // Bind and drop to get a port that nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api_base = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let session = Session::start(ForgeTarget::Sandbox { api_base })
        .await
        .unwrap();
    let err = session.load_queue().await.unwrap_err();
    assert_eq!(err.code, "forge.unreachable", "{err:?}");
}

#[tokio::test]
async fn a_missing_change_request_is_not_found() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let session = session_for(&sandbox).await;
    let err = session
        .open_change_request(ChangeRequestRef {
            repo: "acme-medical/infusion-pump-firmware".into(),
            number: 9999,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, "forge.not_found");
    let err = session
        .open_change_request(ChangeRequestRef {
            repo: "../etc".into(),
            number: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, "forge.invalid_input");
}

/// Issue 17: a second launch hands its link to the running window, which is
/// waiting for it; a link taken once is not handed out again.
#[tokio::test]
async fn a_link_from_a_later_launch_reaches_the_window_waiting_for_it() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let session = std::sync::Arc::new(session_for(&sandbox).await);
    assert_eq!(
        session.requested_change().await.unwrap(),
        contract::RequestedChange::default()
    );
    let waiting = tokio::spawn({
        let session = session.clone();
        async move { session.next_requested_change().await.unwrap() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "it waits while no link came");
    session.request_change("countersign://review/127.0.0.1/acme-medical/infusion-pump-firmware/43");
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("the waiting window is answered at once")
        .unwrap();
    assert_eq!(
        got.change,
        Some(ChangeRequestRef {
            repo: "acme-medical/infusion-pump-firmware".into(),
            number: 43
        })
    );
    // Taken: neither ask hands it out again.
    assert_eq!(session.requested_change().await.unwrap().change, None);
    // A link that came before the window asked is not lost either.
    session.request_change("countersign://review/evil.example/a/b/1");
    let got = session.next_requested_change().await.unwrap();
    assert!(got.refused.unwrap().contains("127.0.0.1"));
}

/// A committed file must be what the Rust declarations generate.
/// `UPDATE_CONTRACT=1 cargo test -p countersign-api` rewrites it.
fn assert_generated_file_is_current(relative: &str, generated: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("UPDATE_CONTRACT").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{relative} is stale: run UPDATE_CONTRACT=1 cargo test -p countersign-api"
    );
}

#[test]
fn the_committed_typescript_contract_is_current() {
    assert_generated_file_is_current("../../ui/src/ipc/contract.ts", &contract::typescript());
}

#[test]
fn the_committed_error_codes_are_current() {
    assert_generated_file_is_current(
        "../../docs/errors.md",
        &countersign_api::ErrorCode::markdown(),
    );
}

mod signing {
    use std::sync::Arc;

    use countersign_api::contract::{
        ChangeRequestRef, EnrolRequest, Meaning, SeenContent, SignRequest, SignatureDraft,
    };
    use countersign_api::signatures::KeychainSource;
    use countersign_api::{ForgeTarget, LocalStores, Session};
    use countersign_forge_sandbox::{RunningSandbox, Seed};
    use countersign_keychain::{KeychainError, MemoryStore};
    use countersign_ledger::{EventKind, Ledger};
    use countersign_secret::Secret;
    use url::Url;

    const PASSWORD: &str = "correct horse battery staple";

    fn base64_decode(text: &str) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap()
    }

    fn ledger_path(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("countersign-api-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("ledger.sqlite")
    }

    async fn session(
        sandbox: &RunningSandbox,
        store: &MemoryStore,
        ledger: &std::path::Path,
    ) -> Session {
        let api_base = Url::parse(&sandbox.api_base()).unwrap();
        let local = LocalStores {
            keychain: KeychainSource::Given(Arc::new(store.clone())),
            ledger: ledger.to_owned(),
            http_cache_on_disk: false,
        };
        Session::start_with(ForgeTarget::Sandbox { api_base }, local)
            .await
            .unwrap()
    }

    fn draft() -> SignatureDraft {
        SignatureDraft {
            change_request: ChangeRequestRef {
                repo: "acme-medical/infusion-pump-firmware".into(),
                number: 42,
            },
            meaning: Meaning::Approval,
            reason: "Verified RA-042".into(),
            role: "QA".into(),
            use_security_key: false,
            security_key_id: None,
            withdraws: None,
        }
    }

    fn enrol_request(acknowledged: bool, password: &str) -> EnrolRequest {
        EnrolRequest {
            printed_name: "Bob Okafor".into(),
            password: Secret::from(password),
            acknowledged,
        }
    }

    #[tokio::test]
    async fn enrolment_needs_the_acknowledgement_and_a_long_password() {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let store = MemoryStore::default();
        let ledger = ledger_path("enrol");
        let s = session(&sandbox, &store, &ledger).await;
        assert_eq!(
            s.enrol(enrol_request(false, PASSWORD))
                .await
                .unwrap_err()
                .code,
            "signing.acknowledgement_required"
        );
        assert_eq!(
            s.enrol(enrol_request(true, "short"))
                .await
                .unwrap_err()
                .code,
            "invalid_input"
        );
        assert!(!s.signer_status().await.unwrap().enrolled);
        let e = s.enrol(enrol_request(true, PASSWORD)).await.unwrap();
        assert!(e.acknowledgement.contains("Bob Okafor"));
        assert!(e.record_json.contains(&e.key_id));
        let status = s.signer_status().await.unwrap();
        assert!(status.enrolled);
        assert_eq!(status.identity.id, 5002);
        assert_eq!(
            s.enrol(enrol_request(true, PASSWORD))
                .await
                .unwrap_err()
                .code,
            "signing.already_enrolled"
        );
    }

    #[tokio::test]
    async fn signing_needs_enrolment_and_the_password_and_locks_after_three_failures() {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let store = MemoryStore::default();
        let ledger = ledger_path("sign");
        let s = session(&sandbox, &store, &ledger).await;
        let seen = std::sync::Mutex::new(SeenContent {
            head_sha: "0".repeat(40),
            diff_sha256: "0".repeat(64),
        });
        let snapshot = std::sync::Mutex::new(String::new());
        let sign = |password: &str| SignRequest {
            snapshot_id: snapshot.lock().unwrap().clone(),
            draft: draft(),
            seen: seen.lock().unwrap().clone(),
            password: Secret::from(password),
            security_key_pin: None,
        };
        assert_eq!(
            s.sign_change_request(sign(PASSWORD))
                .await
                .unwrap_err()
                .code,
            "signing.not_enrolled"
        );
        s.enrol(enrol_request(true, PASSWORD)).await.unwrap();

        let preview = s.preview_signature(draft()).await.unwrap();
        *seen.lock().unwrap() = SeenContent {
            head_sha: preview.head_sha.clone(),
            diff_sha256: preview.diff_sha256.clone(),
        };
        *snapshot.lock().unwrap() = preview.snapshot_id.clone();
        assert_eq!(preview.head_sha.len(), 40);
        assert_eq!(preview.diff_sha256.len(), 64);

        let signed = s.sign_change_request(sign(PASSWORD)).await.unwrap();
        assert!(signed.manifestation.contains("Signed by Bob Okafor"));
        assert!(signed
            .envelope_json
            .contains("application/vnd.in-toto+json"));
        let envelope: serde_json::Value = serde_json::from_str(&signed.envelope_json).unwrap();
        let payload = base64_decode(envelope["payload"].as_str().unwrap());
        let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let clock = &statement["predicate"]["forge_clock"];
        assert!(
            clock["server_time"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{clock}"
        );
        assert!(
            clock["skew_seconds"].as_i64().is_some_and(|s| s.abs() <= 2),
            "sandbox and test share a clock: {clock}"
        );
        let head = statement["predicate"]["audit_head"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            head.starts_with("1:"),
            "the trail head when the record was built is witnessed: {head}"
        );

        // A preview is signed once: the next attempts preview again.
        *snapshot.lock().unwrap() = s.preview_signature(draft()).await.unwrap().snapshot_id;
        for _ in 0..2 {
            assert_eq!(
                s.sign_change_request(sign("wrong password!"))
                    .await
                    .unwrap_err()
                    .code,
                "signing.bad_password"
            );
        }
        assert_eq!(
            s.sign_change_request(sign("wrong password!"))
                .await
                .unwrap_err()
                .code,
            "signing.locked_out"
        );
        assert_eq!(
            s.sign_change_request(sign(PASSWORD))
                .await
                .unwrap_err()
                .code,
            "signing.locked_out"
        );
        assert!(s.signer_status().await.unwrap().locked_until.is_some());
        drop(s);

        // The record and its audit entry were committed together; every attempt is in the trail.
        let trail = Ledger::open(&ledger).unwrap();
        assert!(trail.verify().unwrap().is_ok());
        assert_eq!(
            trail.checkpoints().unwrap().len(),
            1,
            "the signed record's audit head is a checkpoint"
        );
        assert!(countersign_api::audit::verify_db(&ledger).unwrap().holds);
        assert_eq!(trail.records().unwrap().len(), 1);
        assert_eq!(
            trail.outbox().unwrap().len(),
            1,
            "the record waits to be pushed"
        );
        let kinds: Vec<EventKind> = trail
            .events(100)
            .unwrap()
            .into_iter()
            .rev()
            .map(|(_, e)| e.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                EventKind::Enrolment,
                EventKind::AuthSucceeded,
                EventKind::Sign,
                EventKind::AuthFailed,
                EventKind::AuthFailed,
                EventKind::AuthFailed,
                EventKind::Lockout,
                EventKind::AuthFailed,
            ]
        );
        drop(trail);

        // A restart (a new session, or a new CLI process) does not reset the lockout.
        let s = session(&sandbox, &store, &ledger).await;
        assert_eq!(
            s.sign_change_request(sign(PASSWORD))
                .await
                .unwrap_err()
                .code,
            "signing.locked_out"
        );
    }

    #[tokio::test]
    async fn a_change_that_moved_after_the_preview_is_not_signed() {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let store = MemoryStore::default();
        let ledger = ledger_path("moved");
        let s = session(&sandbox, &store, &ledger).await;
        s.enrol(enrol_request(true, PASSWORD)).await.unwrap();
        let preview = s.preview_signature(draft()).await.unwrap();
        // A new commit lands on the pull request between review and signature.
        {
            let store = sandbox.store();
            let mut st = store.write().unwrap();
            let pr = st.repos[0]
                .pulls
                .iter_mut()
                .find(|p| p.number == 42)
                .unwrap();
            pr.head_sha = "f".repeat(40);
        }
        let seen = SeenContent {
            head_sha: preview.head_sha,
            diff_sha256: preview.diff_sha256,
        };
        let err = s
            .sign_change_request(SignRequest {
                snapshot_id: preview.snapshot_id,
                draft: draft(),
                seen,
                password: Secret::from(PASSWORD),
                security_key_pin: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, "signing.changed_since_preview");
    }

    #[tokio::test]
    async fn a_locked_keychain_fails_closed_with_an_actionable_message() {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let store = MemoryStore::default();
        store.fail_with(Some(KeychainError::Locked));
        let ledger = ledger_path("locked");
        let s = session(&sandbox, &store, &ledger).await;
        let err = s.enrol(enrol_request(true, PASSWORD)).await.unwrap_err();
        assert_eq!(err.code, "keychain.locked");
        assert!(err.message.contains("unlock"), "{}", err.message);
        store.fail_with(None);
        assert!(
            !s.signer_status().await.unwrap().enrolled,
            "nothing was stored anywhere"
        );
    }
}

mod push {
    use std::sync::Arc;

    use countersign_api::contract::{
        ChangeRequestRef, EnrolRequest, Meaning, SeenContent, SignRequest, SignatureDraft,
    };
    use countersign_api::push::{COMMENT_MARKER, STATUS_CONTEXT};
    use countersign_api::signatures::KeychainSource;
    use countersign_api::{ForgeTarget, LocalStores, Session};
    use countersign_forge_sandbox::{Fault, RunningSandbox, Seed};
    use countersign_keychain::MemoryStore;
    use countersign_ledger::{Ledger, PushState};
    use countersign_secret::Secret;
    use url::Url;

    const PASSWORD: &str = "correct horse battery staple";

    async fn signed_session(sandbox: &RunningSandbox, name: &str) -> (Session, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("countersign-push-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ledger = dir.join("ledger.sqlite");
        let api_base = Url::parse(&sandbox.api_base()).unwrap();
        let local = LocalStores {
            keychain: KeychainSource::Given(Arc::new(MemoryStore::default())),
            ledger: ledger.clone(),
            http_cache_on_disk: false,
        };
        let s = Session::start_with(ForgeTarget::Sandbox { api_base }, local)
            .await
            .unwrap();
        s.enrol(EnrolRequest {
            printed_name: "Bob Okafor".into(),
            password: Secret::from(PASSWORD),
            acknowledged: true,
        })
        .await
        .unwrap();
        let draft = SignatureDraft {
            change_request: ChangeRequestRef {
                repo: "acme-medical/infusion-pump-firmware".into(),
                number: 42,
            },
            meaning: Meaning::Approval,
            reason: "Verified RA-042".into(),
            role: "QA".into(),
            use_security_key: false,
            security_key_id: None,
            withdraws: None,
        };
        let preview = s.preview_signature(draft.clone()).await.unwrap();
        let seen = SeenContent {
            head_sha: preview.head_sha,
            diff_sha256: preview.diff_sha256,
        };
        s.sign_change_request(SignRequest {
            snapshot_id: preview.snapshot_id,
            draft,
            seen,
            password: Secret::from(PASSWORD),
            security_key_pin: None,
        })
        .await
        .unwrap();
        (s, ledger)
    }

    fn forge_side(sandbox: &RunningSandbox) -> (usize, usize, String) {
        let store = sandbox.store();
        let s = store.read().unwrap();
        let repo = &s.repos[0];
        let comments: Vec<_> = repo.comments.iter().filter(|c| c.issue == 42).collect();
        let statuses = repo
            .statuses
            .iter()
            .filter(|(_, st)| st.context == STATUS_CONTEXT)
            .count();
        (
            comments.len(),
            statuses,
            comments.first().map(|c| c.body.clone()).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn a_push_posts_one_comment_and_one_status_and_repeating_it_adds_nothing() {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let (s, ledger) = signed_session(&sandbox, "once").await;
        let report = s.push_outbox().await.unwrap();
        assert_eq!((report.pushed, report.failed), (1, 0), "{report:?}");
        let (comments, statuses, body) = forge_side(&sandbox);
        assert_eq!((comments, statuses), (1, 1));
        assert!(body.contains(COMMENT_MARKER));
        assert!(body.contains("> Signed by Bob Okafor"), "{body}");
        assert!(
            body.contains("\"payloadType\": \"application/vnd.in-toto+json\""),
            "{body}"
        );
        let report = s.push_outbox().await.unwrap();
        assert_eq!(report.pushed, 0, "nothing waits any more");
        assert_eq!(forge_side(&sandbox).0 + forge_side(&sandbox).1, 2);
        drop(s);
        let trail = Ledger::open(&ledger).unwrap();
        assert!(trail
            .outbox()
            .unwrap()
            .iter()
            .all(|o| o.state == PushState::Pushed));
        assert!(trail.verify().unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_push_whose_answers_were_lost_is_retried_without_duplicates() {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let (s, ledger) = signed_session(&sandbox, "lost").await;
        // The forge applies the status but the answer never arrives: as a crash
        // between pushing and recording the acknowledgement would look.
        sandbox
            .store()
            .write()
            .unwrap()
            .inject("/statuses/", Fault::LostResponse, Some(1));
        let report = s.push_outbox().await.unwrap();
        assert_eq!((report.pushed, report.failed), (0, 1), "{report:?}");
        assert_eq!(forge_side(&sandbox).0, 1);
        assert_eq!(forge_side(&sandbox).1, 1, "the forge did apply it");
        // A restart: a new session over the same ledger finds the record still waiting.
        drop(s);
        let api_base = Url::parse(&sandbox.api_base()).unwrap();
        let local = LocalStores {
            keychain: KeychainSource::Given(Arc::new(MemoryStore::default())),
            ledger: ledger.clone(),
            http_cache_on_disk: false,
        };
        let s = Session::start_with(ForgeTarget::Sandbox { api_base }, local)
            .await
            .unwrap();
        let report = s.push_outbox().await.unwrap();
        assert_eq!((report.pushed, report.failed), (1, 0), "{report:?}");
        let (comments, statuses, _) = forge_side(&sandbox);
        assert_eq!(
            (comments, statuses),
            (1, 1),
            "exactly one comment and one status"
        );
    }
}

/// GitHub's limits, shrunk: the unified diff is refused (406) and large
/// patches are left out of the file list. The diff shown is still whole, and
/// what cannot be fetched is named.
#[tokio::test]
async fn a_diff_over_the_forges_limits_is_rebuilt_never_shown_partial() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let session = session_for(&sandbox).await;
    let request = || ChangeRequestRef {
        repo: "acme-medical/infusion-pump-firmware".into(),
        number: 42,
    };
    let whole = session.open_change_request(request()).await.unwrap();
    assert!(whole.missing.is_empty() && whole.reconstructed.is_empty());
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        st.diff_limit_files = Some(2);
        st.patch_limit_bytes = Some(400);
    }
    let rebuilt = session.open_change_request(request()).await.unwrap();
    assert!(rebuilt.missing.is_empty(), "{:?}", rebuilt.missing);
    assert!(
        !rebuilt.reconstructed.is_empty(),
        "a large patch was left out and rebuilt"
    );
    assert!(rebuilt.files.iter().all(|f| f.patch_available));
    for f in &whole.files {
        assert!(
            rebuilt.diff.contains(&format!(" b/{}\n", f.path)),
            "{} missing",
            f.path
        );
    }
    for line in whole
        .diff
        .lines()
        .filter(|l| l.starts_with('+') || l.starts_with('-'))
    {
        assert!(rebuilt.diff.contains(line), "rebuilt diff lacks {line:?}");
    }

    // A file whose contents cannot be read either: named, never dropped silently.
    sandbox.store().write().unwrap().inject(
        "contents/firmware/src/dosing/rate.rs",
        countersign_forge_sandbox::Fault::Status(404),
        None,
    );
    let partial = session.open_change_request(request()).await.unwrap();
    assert!(
        partial
            .missing
            .iter()
            .any(|m| m.contains("firmware/src/dosing/rate.rs")),
        "{:?}",
        partial.missing
    );
    assert!(
        !partial
            .files
            .iter()
            .find(|f| f.path.ends_with("rate.rs"))
            .unwrap()
            .patch_available
    );
}

#[tokio::test]
async fn reviews_and_comments_read_as_one_thread_in_the_order_they_were_made() {
    use countersign_forge_sandbox::Comment;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let reviewed_at = {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let repo = &mut st.repos[0];
        let pr = repo.pulls.iter_mut().find(|p| p.number == 42).unwrap();
        pr.reviews = vec![(
            "dave".into(),
            "CHANGES_REQUESTED".into(),
            "Bound the rate".into(),
        )];
        let at = pr.updated_at;
        for (id, minutes, body) in [(9001, 5, "after the review"), (9002, -5, "before it")] {
            let when = at + chrono::Duration::minutes(minutes);
            repo.comments.push(Comment {
                id,
                issue: 42,
                body: body.into(),
                author: "erin".into(),
                created_at: when,
                updated_at: when,
            });
        }
        at
    };
    let session = session_for(&sandbox).await;
    let review = session
        .review_change_request(ChangeRequestRef {
            repo: "acme-medical/infusion-pump-firmware".into(),
            number: 42,
        })
        .await
        .unwrap();
    let thread: Vec<_> = review
        .conversation
        .iter()
        .map(|e| (e.kind, e.body.as_str(), e.review_state))
        .collect();
    use contract::{ConversationKind as K, ForgeReviewState as S};
    assert_eq!(
        thread,
        [
            (K::Comment, "before it", None),
            (K::Review, "Bound the rate", Some(S::ChangesRequested)),
            (K::Comment, "after the review", None),
        ]
    );
    assert_eq!(
        review.conversation[1].at.as_deref(),
        Some(
            reviewed_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                .as_str()
        )
    );
}
