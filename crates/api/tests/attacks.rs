//! Attacks on the gate, one test each, written before their defences (issue
//! "A record counts only for the change it names…"). Each plays someone who
//! can write to the forge — the change's author, a committer, anyone with push
//! access — and wants `countersign/approval` green without the approvals the
//! policy asks for. `docs/threat-model.md` lists them: attack → defence → test.

use countersign_api::contract::{Meaning, RiskClass, Standing, Verdict};
use countersign_api::ErrorCode;
use countersign_forge_sandbox::{Commit, FileChange, RunningSandbox, Seed};

mod kit;
use kit::*;

/// #42 approved by QA and Clinical Safety, as the policy asks.
async fn approved_42(sandbox: &RunningSandbox) {
    let bob = device(sandbox, "bob-qa", "Bob Okafor").await;
    let carol = device(sandbox, "carol-clinical", "Dr. Carol Weiss").await;
    bob.sign(sandbox, 42, "qa", Meaning::Approval).await;
    carol
        .sign(sandbox, 42, "clinical-safety", Meaning::Responsibility)
        .await;
    let g = gate(sandbox, 42).await;
    assert!(g.approved, "{:?}", g.review);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_copied_to_a_twin_change_request_do_not_count_for_it() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_42(&sandbox).await;

    // The attacker opens #4242 with #42's head and base (same commits, same
    // diff, same CI runs), then copies #42's records ref and comment onto it.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let repo = &mut st.repos[0];
        let mut twin = repo.pull(42).unwrap().clone();
        twin.number = 4242;
        twin.id += 1_000_000;
        repo.pulls.push(twin);
        let records = repo.git.refs["refs/countersign/pr-42"].clone();
        repo.git
            .refs
            .insert("refs/countersign/pr-4242".into(), records);
        let mut comment = repo
            .comments
            .iter()
            .find(|c| c.issue == 42)
            .unwrap()
            .clone();
        comment.issue = 4242;
        comment.id += 1_000_000;
        repo.comments.push(comment);
    }
    let g = gate(&sandbox, 4242).await;
    assert!(!g.approved);
    assert_ne!(g.review.verdict, Verdict::Approved);
    assert_eq!(g.review.signatures.len(), 2);
    for s in &g.review.signatures {
        assert_eq!(s.standing, Standing::Invalid, "{s:?}");
        assert!(
            s.why.as_deref().unwrap().contains(
                "signed for acme-medical/infusion-pump-firmware#42, this is acme-medical/infusion-pump-firmware#4242"
            ),
            "{s:?}"
        );
    }
    // #42 itself is untouched.
    assert!(gate(&sandbox, 42).await.approved);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retargeting_a_change_to_another_base_branch_makes_its_signatures_stale() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_42(&sandbox).await;

    // Same base commit (a release branch cut at main's tip), other branch.
    edit_pull(&sandbox, 42, |pr| pr.base_ref = "release/2.0".into());
    let g = gate(&sandbox, 42).await;
    assert!(!g.approved);
    assert_eq!(
        standing(&g.review),
        [
            ("Bob Okafor".to_owned(), Standing::Stale),
            ("Dr. Carol Weiss".to_owned(), Standing::Stale)
        ]
    );
    assert!(g.review.signatures[0]
        .why
        .as_deref()
        .unwrap()
        .contains("the change now targets release/2.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_dosing_code_out_of_its_folder_keeps_the_dosing_rule() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // #44 is a low-risk docs change; its author moves the rate code out of
    // `firmware/src/dosing/` (and edits it) to dodge the dosing rule.
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let repo = &mut st.repos[0];
        let rate =
            String::from_utf8(repo.base_files["firmware/src/dosing/rate.rs"].clone()).unwrap();
        let pr = repo.pulls.iter_mut().find(|p| p.number == 44).unwrap();
        pr.files.push(FileChange {
            path: "misc/rate.rs".into(),
            previous_path: Some("firmware/src/dosing/rate.rs".into()),
            new: Some(rate.replace("min(", "max(") + "\n// moved\n"),
            old: Some(rate),
        });
    }
    let g = gate(&sandbox, 44).await;
    assert_eq!(g.review.risk_class, RiskClass::High, "{:?}", g.review);
    assert!(
        g.review
            .rules
            .iter()
            .any(|r| r == "safety-critical dosing code"),
        "{:?}",
        g.review.rules
    );
    assert!(!g.approved);
}

/// With `cap` applied to the sandbox, #42 reaches the app incomplete: QA's
/// preview is refused saying `refusal`, and the gate is blocked saying `status`.
async fn capped_42_cannot_be_signed_and_blocks(
    cap: impl FnOnce(&mut countersign_forge_sandbox::Store),
    refusal: &str,
    status: &str,
) {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    cap(&mut sandbox.store().write().unwrap());

    let refused = bob
        .preview_refused(&sandbox, draft(42, "qa", Meaning::Approval))
        .await;
    assert_eq!(refused.code, ErrorCode::SigningIncompleteChange);
    assert!(refused.message.contains(refusal), "{refused:?}");

    let g = gate(&sandbox, 42).await;
    assert!(!g.approved);
    assert_eq!(g.review.verdict, Verdict::Blocked);
    assert!(
        g.review.status_line.contains(status),
        "{}",
        g.review.status_line
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_file_list_the_forge_capped_cannot_be_signed_and_fails_the_gate() {
    // GitHub lists 3,000 files at most; here the cap is 1 and #42 has more.
    capped_42_cannot_be_signed_and_blocks(
        |st| st.files_list_cap = 1,
        "listed 1 of the",
        "incomplete",
    )
    .await;
}

/// Adds `commit` to the commits the forge lists for pull request `number`.
fn add_commit(sandbox: &RunningSandbox, number: u64, commit: Commit) {
    edit_pull(sandbox, number, |pr| pr.commits.push(commit));
}

fn commit(sha_seed: &str, author: &str, email: Option<&str>, message: &str) -> Commit {
    Commit {
        sha: countersign_forge_sandbox::object_id(&[sha_seed]),
        message: message.into(),
        author: author.into(),
        date: chrono::Utc::now(),
        author_email: email.map(str::to_owned),
        committer: None,
        committer_email: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_commit_list_the_forge_capped_cannot_be_signed_and_fails_the_gate() {
    // GitHub lists 250 commits at most; here the cap is 1 and #42 has more:
    // the authors of the others are unknown, so separation of duties cannot
    // be judged.
    capped_42_cannot_be_signed_and_blocks(
        |st| st.commits_list_cap = 1,
        "listed 1 of the 2 commits",
        "commits",
    )
    .await;
}

/// The gate on #42 once QA and Clinical Safety have signed and `later` was
/// then pushed to it. (Signed after such a commit, the app refuses to make
/// the record at all: issue 12's pre-signing checks.)
async fn gate_42_after_approval_and(later: Commit) -> countersign_api::GateReport {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_42(&sandbox).await;
    add_commit(&sandbox, 42, later);
    gate(&sandbox, 42).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qa_member_committing_under_an_unlinked_email_cannot_review_the_change() {
    // Bob (QA) signs alice's #42, then pushes a commit to it from a machine
    // whose git e-mail no forge account has; the roster lists it as his.
    let g = gate_42_after_approval_and(commit(
        "bob-unlinked",
        "bob-laptop",
        Some("Bob.Okafor@acme-medical.example"),
        "dosing: tidy",
    ))
    .await;
    assert!(!g.approved, "{:?}", g.review);
    let bob = &g.review.signatures[0];
    assert_eq!(bob.printed_name, "Bob Okafor");
    assert_eq!(bob.standing, Standing::Refused, "{bob:?}");
    assert!(
        bob.why
            .as_deref()
            .unwrap()
            .contains("contributed to this change"),
        "{bob:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qa_member_named_as_co_author_cannot_review_the_change() {
    let g = gate_42_after_approval_and(commit(
        "co-authored",
        "alice-dev",
        None,
        "dosing: pair on the clamp\n\nCo-authored-by: Bob Okafor <bob.okafor@acme-medical.example>\n",
    ))
    .await;
    assert!(!g.approved, "{:?}", g.review);
    let bob = &g.review.signatures[0];
    assert_eq!(bob.standing, Standing::Refused, "{bob:?}");
    assert!(bob.why.as_deref().unwrap().contains("co-author"), "{bob:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contributor_nobody_can_name_blocks_a_high_risk_change() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_42(&sandbox).await;
    add_commit(
        &sandbox,
        42,
        commit(
            "stranger",
            "somebody",
            Some("build@ci-box.example"),
            "dosing: regenerate tables",
        ),
    );
    let g = gate(&sandbox, 42).await;
    assert!(!g.approved);
    assert_eq!(g.review.verdict, Verdict::Blocked, "{:?}", g.review);
    assert!(
        g.review.status_line.contains("build@ci-box.example"),
        "{}",
        g.review.status_line
    );

    // A low-risk change lets the policy's default allow an unknown contributor.
    add_commit(
        &sandbox,
        44,
        commit(
            "stranger-44",
            "somebody",
            Some("build@ci-box.example"),
            "docs: typo",
        ),
    );
    let g = gate(&sandbox, 44).await;
    assert_ne!(g.review.verdict, Verdict::Blocked, "{:?}", g.review);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_name_edited_in_the_local_enrolment_gives_an_invalid_record() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // The roster at the base names user 5002 "Bob Okafor"; his device's
    // enrolment (a local file he can edit) says otherwise.
    let bob = device(&sandbox, "bob-qa", "Robert Okafor, MD (Head of QA)").await;
    bob.sign(&sandbox, 44, "qa", Meaning::Approval).await;
    let g = gate(&sandbox, 44).await;
    assert!(!g.approved);
    assert_eq!(g.review.verdict, Verdict::Failed);
    let s = &g.review.signatures[0];
    // Every rendering names the signer as the roster does.
    assert_eq!(s.printed_name, "Bob Okafor");
    assert_eq!(s.standing, Standing::Invalid, "{s:?}");
    let why = s.why.as_deref().unwrap();
    assert!(
        why.contains("Robert Okafor, MD (Head of QA)") && why.contains("roster"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_from_a_machine_whose_clock_is_two_hours_fast_is_refused() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // The forge's clock runs two hours behind this machine's: as far as the
    // record can tell, the signer's clock was set two hours ahead.
    sandbox.store().write().unwrap().clock_offset = chrono::Duration::hours(-2);
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    // The signer is told before signing.
    let preview = bob
        .session
        .preview_signature(draft(44, "qa", Meaning::Approval))
        .await
        .unwrap();
    assert!(
        preview
            .clock_warning
            .as_deref()
            .is_some_and(|w| w.contains("2 h 0 min ahead of the forge's")),
        "{preview:?}"
    );
    bob.sign(&sandbox, 44, "qa", Meaning::Approval).await;
    let statement = &statements_in_ref(&sandbox, 44)[0];
    let skew = statement["predicate"]["forge_clock"]["skew_seconds"]
        .as_i64()
        .unwrap();
    assert!((7195..=7205).contains(&skew), "{skew}");

    let g = gate(&sandbox, 44).await;
    assert!(!g.approved);
    let s = &g.review.signatures[0];
    assert_eq!(s.standing, Standing::Refused, "{s:?}");
    assert!(
        s.why.as_deref().unwrap().contains("max_clock_skew"),
        "{s:?}"
    );
    assert!(s.clock_skew_seconds.is_some_and(|k| k > 7000), "{s:?}");

    // The audit trail dates the signature by the forge's clock too.
    let trail = bob
        .session
        .audit_trail(countersign_api::contract::AuditFilter {
            object: None,
            actor: None,
            kind: Some("sign".into()),
            since: None,
        })
        .await
        .unwrap();
    let row = &trail.rows[0];
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    let forge_time = row.forge_time.as_deref().expect("the forge's time");
    let behind = at(&row.at_utc) - at(forge_time);
    assert!(
        (behind.num_seconds() - 7200).abs() < 10,
        "{row:?}: the forge's clock is two hours behind"
    );
}

/// The policy at the base commit, changed by `edit` and put at the tip of
/// the base branch (a later commit on main).
fn edit_policy_at_tip(
    sandbox: &RunningSandbox,
    edit: impl FnOnce(String, &[(u64, String)]) -> String,
) {
    let store = sandbox.store();
    let mut st = store.write().unwrap();
    let repo = &mut st.repos[0];
    let path = ".countersign/policy.toml";
    let policy = String::from_utf8(repo.base_files[path].clone()).unwrap();
    let keys: Vec<(u64, String)> = repo
        .roster_keys
        .iter()
        .map(|k| (k.user_id, k.public_key.clone()))
        .collect();
    let edited = edit(policy.clone(), &keys);
    assert_ne!(edited, policy);
    let mut tip = repo.base_files.clone();
    tip.insert(path.into(), edited.into_bytes());
    repo.tip_files = Some(tip);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_the_base_branch_tip_no_longer_counts_for_open_changes() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    approved_42(&sandbox).await;

    // Bob's laptop was stolen: an administrator revokes his key on main,
    // from before the theft. #42 was opened from an older main.
    edit_policy_at_tip(&sandbox, |policy, keys| {
        let bob = &keys.iter().find(|k| k.0 == 5002).unwrap().1;
        policy.replace(
            &format!("public_key = \"{bob}\"\n"),
            &format!(
                "public_key = \"{bob}\"\nrevoked_at = \"{}\"\n",
                before.to_rfc3339()
            ),
        )
    });
    let g = gate(&sandbox, 42).await;
    assert!(!g.approved);
    let bob = &g.review.signatures[0];
    assert_eq!(bob.standing, Standing::Refused, "{bob:?}");
    assert!(bob.why.as_deref().unwrap().contains("revoked"), "{bob:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_from_a_role_on_the_base_branch_tip_no_longer_counts() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_42(&sandbox).await;
    // Carol left Clinical Safety; main's roster no longer lists her there.
    edit_policy_at_tip(&sandbox, |policy, _| {
        policy.replace("user_id = 5003\n", "user_id = 5999\n")
    });
    let g = gate(&sandbox, 42).await;
    assert!(!g.approved);
    let carol = &g.review.signatures[1];
    assert_eq!(carol.printed_name, "Dr. Carol Weiss");
    assert_eq!(carol.standing, Standing::Refused, "{carol:?}");
    assert!(
        carol.why.as_deref().unwrap().contains("tip of main"),
        "{carol:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_into_a_branch_the_policy_does_not_protect_is_blocked() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // Anyone with push access can create a branch and open a change into
    // it; whatever policy that branch holds, it is not the protected one.
    edit_pull(&sandbox, 44, |pr| pr.base_ref = "mallory/landing".into());
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(&sandbox, 44, "qa", Meaning::Approval).await;
    let g = gate(&sandbox, 44).await;
    assert!(!g.approved);
    assert_eq!(g.review.verdict, Verdict::Blocked, "{:?}", g.review);
    assert!(
        g.review
            .status_line
            .contains("mallory/landing is not a branch the policy protects"),
        "{}",
        g.review.status_line
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_risk_assessment_after_approval_makes_the_signatures_stale() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_42(&sandbox).await;
    // The author rewrites the hazard analysis the approvers signed under.
    edit_pull(&sandbox, 42, |pr| {
        pr.body = pr
            .body
            .replace("severity = \"critical\"", "severity = \"serious\"");
    });
    let g = gate(&sandbox, 42).await;
    assert!(!g.approved);
    assert_eq!(
        standing(&g.review),
        [
            ("Bob Okafor".to_owned(), Standing::Stale),
            ("Dr. Carol Weiss".to_owned(), Standing::Stale)
        ]
    );
    assert!(
        g.review.signatures[0]
            .why
            .as_deref()
            .unwrap()
            .contains("risk assessment"),
        "{:?}",
        g.review.signatures[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_label_that_raised_the_risk_class_does_not_lower_the_requirements() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // #43 (user-facing text) is labelled safety-critical: high risk, QA then
    // Clinical Safety.
    edit_pull(&sandbox, 43, |pr| pr.labels.push("safety-critical".into()));
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    let g = gate(&sandbox, 43).await;
    assert_eq!(g.review.risk_class, RiskClass::High);
    assert!(!g.approved);

    // The author drops the label, which makes QA's earlier signature stale…
    edit_pull(&sandbox, 43, |pr| {
        pr.labels.retain(|l| l != "safety-critical")
    });
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    assert_eq!(g.review.signatures[0].standing, Standing::Stale);
    assert!(
        g.review.signatures[0]
            .why
            .as_deref()
            .unwrap()
            .contains("labels"),
        "{:?}",
        g.review.signatures[0]
    );
    // …and asks QA to sign again under the lower class: the requirements in
    // force when QA first signed still apply.
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved, "{:?}", g.review);
    assert_eq!(g.review.risk_class, RiskClass::High);
    assert!(
        g.review.status_line.contains("waiting for Clinical Safety"),
        "{}",
        g.review.status_line
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_reached_over_plain_http_is_refused_unless_it_is_this_machine() {
    // Anyone on the network path could rewrite records, statuses and the
    // policy on their way in: only https, except on loopback.
    for url in [
        "http://forge.acme-medical.example/api/v3/",
        "http://10.0.0.7/",
    ] {
        let local = countersign_api::LocalStores {
            keychain: countersign_api::signatures::KeychainSource::Given(std::sync::Arc::new(
                countersign_keychain::MemoryStore::default(),
            )),
            ledger: std::env::temp_dir().join(format!("countersign-http-{}", std::process::id())),
            http_cache_on_disk: false,
        };
        let target = countersign_api::ForgeTarget::GitHub {
            api_base: url::Url::parse(url).unwrap(),
            token: Some(countersign_secret::Secret::from("t")),
            repos: Vec::new(),
        };
        let refused = countersign_api::Session::start_with(target, local)
            .await
            .err()
            .unwrap_or_else(|| panic!("{url} was accepted"));
        assert_eq!(refused.code, ErrorCode::ForgeInvalidInput, "{refused:?}");
        assert!(refused.message.contains("https://"), "{refused:?}");
    }
    // The sandbox on loopback stays reachable over http.
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    assert!(!gate(&sandbox, 44).await.approved);
}

/// #44 signed by QA: with its evidence as CI made it, this approves.
async fn signed_44(sandbox: &RunningSandbox) -> countersign_api::GateReport {
    let bob = device(sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(sandbox, 44, "qa", Meaning::Approval).await;
    gate(sandbox, 44).await
}

const CI: &str = ".github/workflows/ci.yml";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_from_a_workflow_the_change_adds_does_not_count() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // The change brings its own workflow, which uploads whatever "test
    // results" its author likes.
    edit_repo(&sandbox, |repo| {
        let pr = repo.pulls.iter_mut().find(|p| p.number == 44).unwrap();
        pr.files.push(FileChange {
            path: ".github/workflows/fake.yml".into(),
            previous_path: None,
            old: None,
            new: Some("name: fake\non: pull_request\n".into()),
        });
        let head = pr.head_sha.clone();
        let run = repo
            .workflow_runs
            .iter_mut()
            .find(|r| r.head_sha == head)
            .unwrap();
        run.path = ".github/workflows/fake.yml".into();
    });
    let g = signed_44(&sandbox).await;
    assert!(!g.approved, "{:?}", g.review);
    assert!(g.review.tests.is_none(), "{:?}", g.review.tests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_from_a_workflow_the_change_edits_does_not_count() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // The named workflow, edited by the change to ignore failing tests.
    edit_repo(&sandbox, |repo| {
        let ci = String::from_utf8(repo.base_files[CI].clone()).unwrap();
        let pr = repo.pulls.iter_mut().find(|p| p.number == 44).unwrap();
        pr.files.push(FileChange {
            path: CI.into(),
            previous_path: None,
            new: Some(ci.replace(
                "runs-on: ubuntu-latest",
                "runs-on: ubuntu-latest\n    continue-on-error: true",
            )),
            old: Some(ci),
        });
    });
    let g = signed_44(&sandbox).await;
    assert!(!g.approved, "{:?}", g.review);
    assert!(g.review.tests.is_none(), "{:?}", g.review.tests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_runs_with_the_same_artifact_the_newest_completed_one_counts() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // #44 was run twice: an older run whose tests failed, the newest that
    // passed; and a rerun still in progress.
    edit_repo(&sandbox, |repo| {
        let failing = repo
            .workflow_runs
            .iter()
            .find(|r| r.id == 30_045)
            .unwrap()
            .artifacts[0]
            .clone();
        let head = repo.pull(44).unwrap().head_sha.clone();
        let newest = repo
            .workflow_runs
            .iter()
            .find(|r| r.head_sha == head)
            .unwrap()
            .clone();
        let mut older = newest.clone();
        older.id = 31_044;
        older.created_at = newest.created_at - chrono::Duration::hours(1);
        older.artifacts = vec![countersign_forge_sandbox::Artifact {
            id: 41_044,
            ..failing.clone()
        }];
        let mut running = newest.clone();
        running.id = 32_044;
        running.status = "in_progress".into();
        running.created_at = newest.created_at + chrono::Duration::hours(1);
        running.artifacts = vec![countersign_forge_sandbox::Artifact {
            id: 42_044,
            ..failing
        }];
        repo.workflow_runs.insert(0, older);
        repo.workflow_runs.push(running);
    });
    let g = signed_44(&sandbox).await;
    assert_eq!(
        g.review.tests.as_ref().map(|t| (t.passed, t.failed)),
        Some((4, 0)),
        "{:?}",
        g.review.evidence
    );
    assert!(g.approved, "{:?}", g.review);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_check_counts_only_from_the_app_the_policy_names() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // "build" is reported by an app anyone could install, not by CI.
    edit_repo(&sandbox, |repo| {
        let pr = repo.pulls.iter_mut().find(|p| p.number == 44).unwrap();
        for run in &mut pr.check_runs {
            run.app = Some("mallory-ci".into());
        }
    });
    let g = signed_44(&sandbox).await;
    assert!(!g.approved, "{:?}", g.review);
    assert!(
        g.review
            .evidence_checks
            .iter()
            .any(|c| c.what == "check build" && !c.met),
        "{:?}",
        g.review.evidence_checks
    );

    // Nor does a commit status of that name, which anyone with write access sets.
    edit_repo(&sandbox, |repo| {
        let head = repo.pull(44).unwrap().head_sha.clone();
        let pr = repo.pulls.iter_mut().find(|p| p.number == 44).unwrap();
        pr.check_runs.clear();
        repo.statuses.push((
            head,
            countersign_forge_sandbox::CommitStatus {
                id: 77,
                context: "build".into(),
                state: "success".into(),
                description: "Build passed".into(),
                target_url: None,
                creator: "outside-contributor".into(),
                created_at: chrono::Utc::now(),
            },
        ));
    });
    let g = gate(&sandbox, 44).await;
    assert!(!g.approved, "{:?}", g.review);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_of_a_deleted_repository_do_not_count_for_one_created_again_under_its_name() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_42(&sandbox).await;
    // The repository is deleted and created again under the same name (a
    // new id), with the old refs, comments and pull request pushed back.
    edit_repo(&sandbox, |repo| repo.id = 700_999);
    let g = gate(&sandbox, 42).await;
    assert!(!g.approved);
    for s in &g.review.signatures {
        assert_eq!(s.standing, Standing::Invalid, "{s:?}");
        assert!(
            s.why.as_deref().unwrap().contains("repository id 700001"),
            "{s:?}"
        );
    }
}

/// Issue 12 §4: an envelope that does not verify, planted in the records
/// comment, is never copied into the records ref, and does not break the push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_junk_envelope_in_the_comment_is_never_written_into_the_records_ref() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    // Valid JSON in the shape of an envelope; its signature is nobody's.
    let junk = serde_json::json!({
        "mediaType": "application/vnd.countersign.bundle+json;version=1",
        "envelopes": [{
            "payload": "eyJub3QiOiAiYSBzdGF0ZW1lbnQifQ==",
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"keyid": "00", "sig": "AAAA"}]
        }]
    });
    edit_repo(&sandbox, |repo| {
        repo.comments.push(countersign_forge_sandbox::Comment {
            id: 990_001,
            issue: 44,
            body: format!(
                "Looks signed to me\n```json\n{junk}\n```\n{}",
                countersign_api::push::COMMENT_MARKER
            ),
            author: "outside-contributor".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        });
    });
    let g = signed_44(&sandbox).await;
    assert!(g.approved, "{:?}", g.review);
    let statements = statements_in_ref(&sandbox, 44);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(
        statements[0]["predicate"]["signer"]["printed_name"],
        "Bob Okafor"
    );
}

/// Issue 12 §2: the policy is applied before signing, by the gate's own
/// checks — a record the gate would refuse is never made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_the_gate_would_refuse_is_refused_before_signing() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let alice = device(&sandbox, "alice-dev", "Alice Martin").await;
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let dan = device(&sandbox, "dan-release", "Dan Ito").await;
    for (who, signing, why) in [
        // Alice is in QA, but she wrote #42.
        (
            &alice,
            draft(42, "qa", Meaning::Approval),
            "contributed to this change",
        ),
        // QA may sign #42 only with review or approval.
        (
            &bob,
            draft(42, "qa", Meaning::Responsibility),
            "only with review or approval",
        ),
        // Dan is not in QA.
        (&dan, draft(42, "qa", Meaning::Approval), "not a member"),
    ] {
        become_(&sandbox, who.login);
        let refused = who.session.preview_signature(signing).await.unwrap_err();
        assert_eq!(
            refused.code,
            ErrorCode::SigningRefusedByPolicy,
            "{refused:?}"
        );
        assert!(refused.message.contains(why), "{why}: {refused:?}");
    }
    // What the policy allows still signs.
    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
}

/// #44 approved by Bob and rejected by Alice (both QA): the gate says rejected.
async fn approved_and_rejected_44(sandbox: &RunningSandbox) -> Device {
    let bob = device(sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(sandbox, 44, "qa", Meaning::Approval).await;
    let alice = device(sandbox, "alice-dev", "Alice Martin").await;
    alice.sign(sandbox, 44, "qa", Meaning::Rejection).await;
    let g = gate(sandbox, 44).await;
    assert_eq!(g.review.verdict, Verdict::Rejected, "{:?}", g.review);
    bob
}

fn still_rejected_by_alice(g: &countersign_api::GateReport) {
    assert!(!g.approved, "{:?}", g.review);
    assert!(
        standing(&g.review).contains(&("Alice Martin".to_owned(), Standing::Rejects)),
        "{:?}",
        g.review.signatures
    );
}

/// As [`still_rejected_by_alice`], and blocked: the two places disagree.
fn blocked_as_records_disagree(g: &countersign_api::GateReport) {
    still_rejected_by_alice(g);
    assert_eq!(g.review.verdict, Verdict::Blocked, "{:?}", g.review);
    assert!(
        g.review.status_line.contains("records disagree"),
        "{}",
        g.review.status_line
    );
}

/// Issue 12 §4: the records ref is append-only to the gate — a commit on top
/// of it that leaves a rejection out does not erase the rejection, and the
/// comment that still holds it makes the records disagree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_the_records_ref_to_drop_a_rejection_does_not_turn_the_gate_green() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_and_rejected_44(&sandbox).await;
    rewrite_records_ref(&sandbox, 44, "rejection", false);
    blocked_as_records_disagree(&gate(&sandbox, 44).await);
}

/// Issue 12 §4: rewriting the ref and editing the comment together still
/// leaves the rejection in the ref's history, which the gate reads whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_the_ref_and_the_comment_together_does_not_erase_a_rejection() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    approved_and_rejected_44(&sandbox).await;
    rewrite_records_ref(&sandbox, 44, "rejection", false);
    edit_records_comment(&sandbox, 44, "rejection");
    let g = gate(&sandbox, 44).await;
    still_rejected_by_alice(&g);
}

/// Issue 12 §4: a records ref replaced by a new history (a forced update)
/// is caught by the comment; the gate fails closed until a push repairs the
/// ref, which puts the lost record back without forcing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_pushed_records_ref_fails_closed_until_a_push_repairs_it() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = approved_and_rejected_44(&sandbox).await;
    rewrite_records_ref(&sandbox, 44, "rejection", true);
    assert_eq!(statements_in_ref(&sandbox, 44).len(), 1);
    blocked_as_records_disagree(&gate(&sandbox, 44).await);

    become_(&sandbox, bob.login);
    let pushed = bob.session.push_change(cr(44)).await.unwrap();
    assert_eq!(pushed.failed, 0, "{:?}", pushed.errors);
    assert_eq!(statements_in_ref(&sandbox, 44).len(), 2);
    let g = gate(&sandbox, 44).await;
    assert_eq!(g.review.verdict, Verdict::Rejected, "{:?}", g.review);
}

/// A session of the person whose keychain is `keychain`, keeping its trail
/// in `ledger`: the same machine after the ledger was deleted, or with the
/// app pointed at another data directory.
async fn session_on(
    sandbox: &RunningSandbox,
    keychain: std::sync::Arc<countersign_keychain::MemoryStore>,
    ledger: std::path::PathBuf,
) -> countersign_api::Session {
    let local = countersign_api::LocalStores {
        keychain: countersign_api::signatures::KeychainSource::Given(keychain),
        ledger,
        http_cache_on_disk: false,
    };
    let api_base = url::Url::parse(&sandbox.api_base()).unwrap();
    countersign_api::Session::start_with(countersign_api::ForgeTarget::Sandbox { api_base }, local)
        .await
        .unwrap()
}

/// Bob's keychain, a fresh folder for his ledgers, and a session in its
/// `a/` ledger in which he has enrolled.
async fn bob_enrolled_in(
    sandbox: &RunningSandbox,
    name: &str,
) -> (
    std::sync::Arc<countersign_keychain::MemoryStore>,
    std::path::PathBuf,
    countersign_api::Session,
) {
    become_(sandbox, "bob-qa");
    let keychain = std::sync::Arc::new(countersign_keychain::MemoryStore::default());
    let dir = std::env::temp_dir().join(format!(
        "countersign-{name}-{}-{}",
        std::process::id(),
        sandbox.addr().port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let session = session_on(sandbox, keychain.clone(), dir.join("a/ledger.sqlite")).await;
    session
        .enrol(countersign_api::contract::EnrolRequest {
            printed_name: "Bob Okafor".into(),
            password: countersign_secret::Secret::from(PASSWORD),
            acknowledged: true,
        })
        .await
        .unwrap();
    (keychain, dir, session)
}

async fn guess(session: &countersign_api::Session) -> countersign_api::ApiError {
    use countersign_api::contract::{SeenContent, SignRequest};
    let signing = draft(44, "qa", Meaning::Approval);
    let preview = session.preview_signature(signing.clone()).await.unwrap();
    session
        .sign_change_request(SignRequest {
            snapshot_id: preview.snapshot_id,
            draft: signing,
            seen: SeenContent {
                head_sha: preview.head_sha,
                diff_sha256: preview.diff_sha256,
            },
            password: countersign_secret::Secret::from("a guess"),
            security_key_pin: None,
        })
        .await
        .unwrap_err()
}

/// Issue 12 §5: failed attempts are kept with the sealed key in the
/// keychain, so neither a new data directory nor a deleted ledger gives
/// three more guesses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_data_directory_or_a_deleted_ledger_does_not_reset_the_lockout() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (keychain, dir, first) = bob_enrolled_in(&sandbox, "lockout").await;
    for _ in 0..2 {
        assert_eq!(guess(&first).await.code, ErrorCode::SigningBadPassword);
    }
    drop(first);

    // Another data directory: the third guess is the third, and locks.
    let second = session_on(&sandbox, keychain.clone(), dir.join("b/ledger.sqlite")).await;
    assert_eq!(guess(&second).await.code, ErrorCode::SigningLockedOut);
    drop(second);

    // The ledger deleted: still locked, even with the right password.
    std::fs::remove_dir_all(dir.join("b")).unwrap();
    let third = session_on(&sandbox, keychain.clone(), dir.join("b/ledger.sqlite")).await;
    assert!(third.signer_status().await.unwrap().locked_until.is_some());
    let signing = draft(44, "qa", Meaning::Approval);
    let preview = third.preview_signature(signing.clone()).await.unwrap();
    let refused = third
        .sign_change_request(countersign_api::contract::SignRequest {
            snapshot_id: preview.snapshot_id,
            draft: signing,
            seen: countersign_api::contract::SeenContent {
                head_sha: preview.head_sha,
                diff_sha256: preview.diff_sha256,
            },
            password: countersign_secret::Secret::from(PASSWORD),
            security_key_pin: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::SigningLockedOut, "{refused:?}");
}

/// Issue 12 §5: each record carries the head of its signer's trail; the
/// trail checked against the heads its records on the forge signed shows a
/// trail that was replaced, whether shorter than the head or diverging from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_audit_trail_is_caught_by_the_heads_its_records_signed() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (keychain, dir, first) = bob_enrolled_in(&sandbox, "witness").await;
    let bob = Device {
        login: "bob-qa",
        session: first,
    };
    bob.sign(&sandbox, 44, "qa", Meaning::Approval).await;
    let report = bob
        .session
        .audit_against_forge(Some(REPO.into()))
        .await
        .unwrap();
    assert!(report.holds, "{report:?}");
    assert_eq!(report.witnesses.len(), 1, "{report:?}");
    drop(bob);

    // The ledger deleted: a fresh trail is shorter than the signed head.
    let fresh = session_on(&sandbox, keychain.clone(), dir.join("b/ledger.sqlite")).await;
    let report = fresh.audit_against_forge(Some(REPO.into())).await.unwrap();
    assert!(!report.holds, "{report:?}");
    let problem = report.witnesses[0].problem.as_deref().unwrap();
    assert!(problem.contains("shorter"), "{problem}");
    assert!(report.witnesses[0].record.contains("#44"), "{report:?}");
    drop(fresh);

    // A made-up trail long enough: it diverges from the signed head.
    {
        let mut ledger = countersign_ledger::Ledger::open(&dir.join("c/ledger.sqlite"))
            .unwrap_or_else(|_| {
                std::fs::create_dir_all(dir.join("c")).unwrap();
                countersign_ledger::Ledger::open(&dir.join("c/ledger.sqlite")).unwrap()
            });
        for i in 0..200 {
            ledger
                .append(&countersign_ledger::AuditEvent::now(
                    countersign_ledger::EventKind::Sync,
                    "local user",
                    format!("made up {i}"),
                ))
                .unwrap();
        }
    }
    let forged = session_on(&sandbox, keychain, dir.join("c/ledger.sqlite")).await;
    let report = forged.audit_against_forge(Some(REPO.into())).await.unwrap();
    assert!(!report.holds, "{report:?}");
    let problem = report.witnesses[0].problem.as_deref().unwrap();
    assert!(problem.contains("diverges"), "{problem}");
}

/// Issue 12 §2: the rule's order and one-role-per-person are applied before
/// signing too, from the records already made: a record the gate would
/// refuse as out of order, or as a second role of one person, is not made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_or_a_second_role_is_refused_before_signing() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let carol = device(&sandbox, "carol-clinical", "Dr. Carol Weiss").await;
    // Bob also sits in Clinical Safety.
    edit_repo(&sandbox, |repo| {
        countersign_forge_sandbox::edit_policy(repo, |text| {
            let bob_entry = {
                let start = text
                    .find("[[roles.members]]\nforge = \"127.0.0.1\"\nuser_id = 5002")
                    .unwrap();
                let end = start + text[start + 1..].find("[[roles").unwrap() + 1;
                text[start..end].to_owned()
            };
            let carol_role = "name = \"clinical-safety\"\ndescription = \"Clinical Safety\"\n";
            let edited = text.replacen(carol_role, &format!("{carol_role}{bob_entry}"), 1);
            assert_ne!(edited, text);
            edited
        });
    });

    // The order is QA → Clinical Safety: Carol cannot sign first.
    let refused = carol
        .preview_refused(
            &sandbox,
            draft(42, "clinical-safety", Meaning::Responsibility),
        )
        .await;
    assert_eq!(
        refused.code,
        ErrorCode::SigningRefusedByPolicy,
        "{refused:?}"
    );
    assert!(refused.message.contains("order"), "{refused:?}");

    // Bob counts as QA; he cannot count as Clinical Safety as well.
    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
    let refused = bob
        .preview_refused(
            &sandbox,
            draft(42, "clinical-safety", Meaning::Responsibility),
        )
        .await;
    assert_eq!(
        refused.code,
        ErrorCode::SigningRefusedByPolicy,
        "{refused:?}"
    );
    assert!(refused.message.contains("one role"), "{refused:?}");

    // In order, by another person, it signs.
    carol
        .sign(&sandbox, 42, "clinical-safety", Meaning::Responsibility)
        .await;
    assert!(gate(&sandbox, 42).await.approved);
}

/// Issue 13: a link in forge text reaches the system browser only as a plain
/// web address, checked in Rust whatever the page sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_plain_web_addresses_reach_the_browser() {
    use countersign_api::contract::LinkRequest;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device(&sandbox, "bob-qa", "Bob Okafor").await;
    let opened = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = opened.clone();
    bob.session.set_link_opener(std::sync::Arc::new(move |url| {
        seen.lock().unwrap().push(url.to_string());
        Ok(())
    }));
    for hostile in [
        "javascript:document.title='pwned'",
        "file:///home/bob/.ssh/id_ed25519",
        "https://forge.example@attacker.example/login",
    ] {
        let refused = bob
            .session
            .open_link(LinkRequest {
                url: hostile.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::LinkRefused, "{hostile}");
    }
    bob.session
        .open_link(LinkRequest {
            url: "https://example.org/ra-042".into(),
        })
        .await
        .unwrap();
    assert_eq!(*opened.lock().unwrap(), ["https://example.org/ra-042"]);
}

/// Issue 14 (in part; 11.300(b)): the signing password can be changed: the
/// old one is checked as at signing (a wrong one counts toward the lockout),
/// the key is re-sealed, and afterwards only the new password signs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signing_password_changes_only_with_the_old_one() {
    use countersign_api::contract::PasswordChange;
    use countersign_secret::Secret;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (_, _, session) = bob_enrolled_in(&sandbox, "password").await;
    let new = "a brand new signing passphrase";
    let change = |old: &str| PasswordChange {
        old_password: Secret::from(old),
        new_password: Secret::from(new),
    };
    let wrong = session
        .change_password(change("not the old one"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::SigningBadPassword, "{wrong:?}");
    session.change_password(change(PASSWORD)).await.unwrap();
    // The old password no longer opens the key; the new one signs.
    let signing = draft(44, "qa", Meaning::Approval);
    let preview = session.preview_signature(signing.clone()).await.unwrap();
    let with = |password: &str| countersign_api::contract::SignRequest {
        snapshot_id: preview.snapshot_id.clone(),
        draft: signing.clone(),
        seen: countersign_api::contract::SeenContent {
            head_sha: preview.head_sha.clone(),
            diff_sha256: preview.diff_sha256.clone(),
        },
        password: Secret::from(password),
        security_key_pin: None,
    };
    let old = session
        .sign_change_request(with(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(old.code, ErrorCode::SigningBadPassword, "{old:?}");
    session.sign_change_request(with(new)).await.unwrap();
    let trail = session
        .audit_trail(countersign_api::contract::AuditFilter {
            kind: Some("password_change".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.rows.len(), 1, "{trail:?}");
}

/// Issue 14 (in part; 11.300(b)): with `password_max_age_days`, a password
/// that old is changed before the next signature, not after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aged_password_is_changed_before_the_next_signature() {
    use countersign_api::contract::PasswordChange;
    use countersign_keychain::SecretStore;
    use countersign_secret::Secret;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (keychain, _, session) = bob_enrolled_in(&sandbox, "ageing").await;
    {
        edit_repo(&sandbox, |repo| {
            countersign_forge_sandbox::edit_policy(repo, |text| {
                text.replacen(
                    "version = 1\n",
                    "version = 1\n[session]\nidle_timeout_minutes = 15\nmax_failures = 3\nlockout_minutes = 15\npassword_max_age_days = 90\n",
                    1,
                )
            });
        });
    }
    // A fresh password signs.
    session
        .preview_signature(draft(44, "qa", Meaning::Approval))
        .await
        .unwrap();
    // The same password, set 91 days ago (the keychain entry says when).
    let account = "signer/127.0.0.1/5002";
    let mut entry: serde_json::Value =
        serde_json::from_slice(keychain.get(account).unwrap().unwrap().expose()).unwrap();
    entry["password_set_at"] =
        serde_json::json!((chrono::Utc::now() - chrono::Duration::days(91)).to_rfc3339());
    keychain
        .set(account, &serde_json::to_vec(&entry).unwrap())
        .unwrap();
    let refused = session
        .preview_signature(draft(44, "qa", Meaning::Approval))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code,
        ErrorCode::SigningPasswordExpired,
        "{refused:?}"
    );
    assert!(refused.message.contains("91 days"), "{}", refused.message);
    session
        .change_password(PasswordChange {
            old_password: Secret::from(PASSWORD),
            new_password: Secret::from("a renewed signing passphrase"),
        })
        .await
        .unwrap();
    session
        .preview_signature(draft(44, "qa", Meaning::Approval))
        .await
        .unwrap();
}

/// Bob's counted approval of #43, and its record's statement digest.
async fn approved_43_by_bob(sandbox: &RunningSandbox) -> (Device, String) {
    let bob = device(sandbox, "bob-qa", "Bob Okafor").await;
    bob.sign(sandbox, 43, "qa", Meaning::Approval).await;
    let g = gate(sandbox, 43).await;
    assert!(g.approved, "{:?}", g.review);
    let record = g.review.signatures[0]
        .record
        .clone()
        .expect("a record digest");
    (bob, record)
}

/// Issue 14: a signer withdraws their approval with a signed record that
/// names it; the gate stops counting it, and the review shows both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_approval_stops_counting_and_the_review_shows_both() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (bob, record) = approved_43_by_bob(&sandbox).await;
    bob.withdraw(&sandbox, 43, "qa", &record).await;
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved);
    assert_eq!(
        standing(&g.review),
        [
            ("Bob Okafor".to_owned(), Standing::Withdrawn),
            ("Bob Okafor".to_owned(), Standing::Withdraws)
        ]
    );
    let why = g.review.signatures[0].why.as_deref().unwrap_or_default();
    assert!(
        why.contains("withdrawn by Bob Okafor") && why.contains("wrong build"),
        "{why}"
    );
    assert_eq!(
        status_of(&sandbox, 43),
        ("pending".into(), "0/1 — waiting for QA".into())
    );
}

/// Issue 14: nobody takes back someone else's signature, and the app does
/// not make a withdrawal of a record that is not the signer's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_withdraws_someone_elses_signature() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (_bob, record) = approved_43_by_bob(&sandbox).await;
    let carol = device(&sandbox, "carol-clinical", "Dr. Carol Weiss").await;
    let e = carol
        .preview_refused(&sandbox, withdrawal(43, "qa", &record))
        .await;
    assert!(e.message.contains("not yours"), "{e:?}");
    let e = carol
        .preview_refused(
            &sandbox,
            withdrawal(43, "qa", &format!("sha256:{}", "0".repeat(64))),
        )
        .await;
    assert!(e.message.contains("no record"), "{e:?}");
    assert!(gate(&sandbox, 43).await.approved);
}

/// Issue 14: a withdrawal cut out of the records ref and the comment is
/// still in the ref's history: the approval does not come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_withdrawal_from_the_forge_does_not_bring_the_approval_back() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (bob, record) = approved_43_by_bob(&sandbox).await;
    bob.withdraw(&sandbox, 43, "qa", &record).await;
    rewrite_records_ref(&sandbox, 43, "withdrawal", false);
    edit_records_comment(&sandbox, 43, "withdrawal");
    let g = gate(&sandbox, 43).await;
    assert!(!g.approved, "{:?}", g.review);
    assert!(
        g.review
            .signatures
            .iter()
            .any(|s| s.standing == Standing::Withdrawn),
        "{:?}",
        g.review.signatures
    );
}
