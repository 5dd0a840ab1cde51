//! One policy file and one record format on GitHub, Gitea, Forgejo and GitLab: the
//! whole sign → push → gate flow against each shape of the sandbox forge,
//! for each kind of rule, gives the same verdicts; and the attacks on the
//! records that Gitea's and Forgejo's branch-kept records allow fail.

use countersign_api::contract::{Meaning, Standing, Verdict};
use countersign_forge_sandbox::{RunningSandbox, Seed, Shape};

mod kit;
use kit::*;

/// One line for what the gate said at `step`.
fn look(step: &str, g: &countersign_api::GateReport) -> String {
    format!(
        "{step}: approved={} verdict={:?} from={} records={} line={:?} signatures={:?}",
        g.approved,
        g.review.verdict,
        g.records_from,
        g.records,
        g.review.status_line,
        standing(&g.review)
    )
}

/// What the gate and the status said at each step of one flow.
async fn flow(shape: On) -> Vec<String> {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let bob = device_as(&sandbox, shape, "bob-qa", "Bob Okafor").await;
    let carol = device_as(&sandbox, shape, "carol-clinical", "Dr. Carol Weiss").await;
    let alice = device_as(&sandbox, shape, "alice-dev", "Alice Martin").await;
    let mut seen = Vec::new();

    // Nothing signed yet: quorum and roles.
    seen.push(look("#42 unsigned", &gate_as(&sandbox, shape, 42).await));
    // Separation of duties: the author may not approve.
    let refused = alice
        .preview_refused(&sandbox, draft(43, "qa", Meaning::Approval))
        .await;
    seen.push(format!("#43 by its author: {}", refused.code));
    // Order: clinical safety before QA is refused by the app.
    let early = carol
        .preview_refused(
            &sandbox,
            draft(42, "clinical-safety", Meaning::Responsibility),
        )
        .await;
    seen.push(format!("#42 out of order: {}", early.code));
    // Quorum in order: QA, then clinical safety.
    bob.sign(&sandbox, 42, "qa", Meaning::Approval).await;
    seen.push(format!("#42 status {:?}", status_of(&sandbox, 42)));
    seen.push(look("#42 after QA", &gate_as(&sandbox, shape, 42).await));
    carol
        .sign(&sandbox, 42, "clinical-safety", Meaning::Responsibility)
        .await;
    seen.push(format!("#42 status {:?}", status_of(&sandbox, 42)));
    seen.push(look("#42 after both", &gate_as(&sandbox, shape, 42).await));
    // Staleness: a new commit after the approval.
    bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
    seen.push(look("#43 approved", &gate_as(&sandbox, shape, 43).await));
    edit_repo(&sandbox, |repo| {
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
    });
    seen.push(look(
        "#43 after a new commit",
        &gate_as(&sandbox, shape, 43).await,
    ));
    // Evidence: a failing build holds the change.
    seen.push(look(
        "#45 failing build",
        &gate_as(&sandbox, shape, 45).await,
    ));
    // A rejection.
    bob.sign(&sandbox, 44, "qa", Meaning::Rejection).await;
    seen.push(look("#44 rejected", &gate_as(&sandbox, shape, 44).await));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_policy_and_records_give_the_same_verdicts_on_github_gitea_forgejo_and_gitlab() {
    let github = flow(On::GitHub).await;
    // The flow means something on GitHub before the others are held to it.
    let line = |step: &str| {
        github
            .iter()
            .find(|l| l.starts_with(step))
            .unwrap_or_else(|| panic!("no step {step}: {github:#?}"))
            .clone()
    };
    assert!(
        line("#42 unsigned").contains("approved=false"),
        "{github:#?}"
    );
    assert!(
        line("#42 after both").contains("approved=true"),
        "{github:#?}"
    );
    assert!(line("#42 after both").contains("from=ref"), "{github:#?}");
    assert!(
        line("#43 approved").contains("approved=true"),
        "{github:#?}"
    );
    assert!(
        line("#43 after a new commit").contains("Stale"),
        "{github:#?}"
    );
    assert!(line("#44 rejected").contains("Rejected"), "{github:#?}");
    assert!(
        line("#45 failing build").contains("check build failed"),
        "{github:#?}"
    );
    for shape in [On::Gitea, On::Forgejo, On::GitLab] {
        let other = flow(shape).await;
        assert_eq!(other, github, "{shape:?} differs from GitHub");
    }
}

/// On Gitea, Forgejo and GitLab the records branch can take new commits from
/// anyone with push access (where branch protection does not stop them):
/// dropping a withdrawal there, and from the comment, leaves it in the
/// branch's history, which the gate reads whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_withdrawal_from_the_records_branch_does_not_revive_the_approval() {
    for on in [On::Gitea, On::Forgejo, On::GitLab] {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let bob = device_as(&sandbox, on, "bob-qa", "Bob Okafor").await;
        bob.sign(&sandbox, 43, "qa", Meaning::Approval).await;
        let g = gate_as(&sandbox, on, 43).await;
        assert!(g.approved, "{:?}", g.review);
        let record = g.review.signatures[0]
            .record
            .clone()
            .expect("a record digest");
        bob.withdraw(&sandbox, 43, "qa", &record).await;
        assert!(!gate_as(&sandbox, on, 43).await.approved);

        match on {
            On::GitLab => rewrite_records_branch_on_gitlab(&sandbox, 43, "withdrawal").await,
            On::Gitea => rewrite_records_branch(&sandbox, Shape::Gitea, 43, "withdrawal").await,
            _ => rewrite_records_branch(&sandbox, Shape::Forgejo, 43, "withdrawal").await,
        }
        edit_records_comment(&sandbox, 43, "withdrawal");
        let g = gate_as(&sandbox, on, 43).await;
        assert!(!g.approved, "{on:?}: {:?}", g.review);
        assert!(
            g.review
                .signatures
                .iter()
                .any(|s| s.standing == Standing::Withdrawn),
            "{on:?}: {:?}",
            g.review.signatures
        );
        assert_ne!(g.review.verdict, Verdict::Approved);
    }
}

/// Gitea runs `.gitea/workflows/ci.yml` instead of `.github/workflows/ci.yml`
/// once that folder exists (Forgejo: `.forgejo/workflows`), and the runs list
/// names only `ci.yml`: a change that adds the folder brings its own CI. The
/// artifact is named by the file that ran, which the policy does not name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_adds_its_own_workflow_folder_brings_no_evidence() {
    for (shape, folder) in [
        (On::Gitea, ".gitea/workflows"),
        (On::Forgejo, ".forgejo/workflows"),
    ] {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let before = gate_as(&sandbox, shape, 43).await;
        assert!(
            before.review.evidence_problems.is_empty(),
            "{shape:?}: {:?}",
            before.review.evidence_problems
        );
        edit_pull(&sandbox, 43, |pr| {
            pr.files.push(countersign_forge_sandbox::FileChange {
                path: format!("{folder}/ci.yml"),
                previous_path: None,
                old: None,
                new: Some("on: pull_request\njobs: {}\n".into()),
            });
        });
        let after = gate_as(&sandbox, shape, 43).await;
        assert!(!after.approved);
        let problems = after.review.evidence_ignored.join("\n");
        assert!(
            problems.contains(&format!("{folder}/ci.yml"))
                && problems.contains("not a workflow the policy names"),
            "{shape:?}: {problems}"
        );
    }
}

/// `COUNTERSIGN_SANDBOX_SHAPE` makes the embedded sandbox speak Gitea's or
/// Forgejo's shape, through that client; the default stays GitHub's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_sandbox_speaks_the_shape_it_is_asked_for() {
    use countersign_api::{ForgeTarget, LocalStores, Session};
    let local = |name: &str| LocalStores {
        keychain: countersign_api::signatures::KeychainSource::Given(std::sync::Arc::new(
            countersign_keychain::MemoryStore::default(),
        )),
        ledger: std::env::temp_dir()
            .join(format!("countersign-shape-{name}-{}", std::process::id()))
            .join("ledger.sqlite"),
        http_cache_on_disk: false,
    };
    // The only test in this binary that reads the variable.
    for (shape, root) in [
        ("forgejo", "/forgejo/api/v1/"),
        ("gitea", "/api/v1/"),
        ("", "/"),
    ] {
        std::env::set_var("COUNTERSIGN_SANDBOX_SHAPE", shape);
        let s = Session::start_with(ForgeTarget::EmbeddedSandbox, local(shape))
            .await
            .unwrap();
        let info = s.app_info().await.unwrap();
        let path = url::Url::parse(&info.forge_url).unwrap().path().to_owned();
        assert_eq!(path, root, "{shape:?}");
        assert_eq!(s.load_queue().await.unwrap().items.len(), 4, "{shape:?}");
    }
    std::env::set_var("COUNTERSIGN_SANDBOX_SHAPE", "bitbucket");
    let refused = Session::start_with(ForgeTarget::EmbeddedSandbox, local("bad")).await;
    std::env::remove_var("COUNTERSIGN_SANDBOX_SHAPE");
    assert!(refused.is_err());
}

/// GitLab's OAuth device authorization grant: the user code shown, the
/// forge's 400 `authorization_pending` read as "not yet", and the token,
/// once approved, checked with GitLab and kept only in the keychain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_to_gitlab_with_the_device_grant_keeps_the_token_in_the_keychain() {
    use countersign_api::contract::{DeviceFlowRequest, DevicePollState};
    use countersign_api::settings::ForgeKind;
    use countersign_api::{ForgeTarget, LocalStores, Session};
    use countersign_keychain::SecretStore;
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let keychain = std::sync::Arc::new(countersign_keychain::MemoryStore::default());
    let local = LocalStores {
        keychain: countersign_api::signatures::KeychainSource::Given(keychain.clone()),
        ledger: std::env::temp_dir()
            .join(format!("countersign-gl-device-{}", std::process::id()))
            .join("ledger.sqlite"),
        http_cache_on_disk: false,
    };
    let api = sandbox.gitlab_api_base();
    let s = Session::start_with(
        ForgeTarget::Sandbox {
            api_base: url::Url::parse(&api).unwrap(),
        },
        local,
    )
    .await
    .unwrap();
    let web = format!("http://{}/gitlab/", sandbox.addr());
    let start = s
        .start_device_flow(DeviceFlowRequest {
            kind: ForgeKind::GitLab,
            web_url: web.clone(),
            api_url: api.clone(),
            client_id: "countersign-test".into(),
        })
        .await
        .unwrap();
    assert!(start.user_code.starts_with("GLAB"), "{start:?}");
    assert_eq!(
        s.poll_device_flow().await.unwrap().state,
        DevicePollState::Pending
    );
    let approved = reqwest::Client::new()
        .post(format!("{web}oauth/device"))
        .form(&[("user_code", start.user_code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(approved.status().is_success());
    let poll = s.poll_device_flow().await.unwrap();
    assert_eq!(poll.state, DevicePollState::Approved, "{poll:?}");
    assert_eq!(poll.person.unwrap().login, "bob-qa");
    let kept = keychain
        .get(&format!("forge-token/{}", api.trim_end_matches('/')))
        .unwrap()
        .expect("the token in the keychain");
    assert_eq!(
        kept.expose().as_slice(),
        countersign_forge_sandbox::SANDBOX_TOKEN.as_bytes()
    );
    // Gitea and Forgejo have no device grant: said, not attempted.
    let refused = s
        .start_device_flow(DeviceFlowRequest {
            kind: ForgeKind::Forgejo,
            web_url: web,
            api_url: api,
            client_id: "countersign-test".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, "invalid_input", "{refused:?}");
}

/// GitLab: with the CI configuration kept in another project (as the
/// example gate recommends), the jobs' artifacts are attributed to
/// `file@group/project`, which the policy names; no change here can edit
/// that file, so it reads the same at the base and the head and the
/// evidence counts — even from a change that edits this project's copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_counts_from_a_ci_configuration_kept_in_another_project() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let external = format!("{}@{}", countersign_forge_sandbox::CI_WORKFLOW, REPO);
    sandbox.store().write().unwrap().gitlab_ci_config_path = external.clone();
    // Named the GitHub way only: the artifacts are not from it.
    let g = gate_as(&sandbox, On::GitLab, 43).await;
    assert!(
        g.review
            .evidence_ignored
            .iter()
            .any(|w| w.contains("not a workflow the policy names")),
        "{:?}",
        g.review.evidence_ignored
    );
    edit_repo(&sandbox, |repo| {
        countersign_forge_sandbox::edit_policy(repo, |p| {
            p.replace(
                "workflows = [\".github/workflows/ci.yml\"]",
                &format!("workflows = [\"{external}\"]"),
            )
        });
    });
    edit_pull(&sandbox, 43, |pr| {
        pr.files.push(countersign_forge_sandbox::FileChange {
            path: countersign_forge_sandbox::CI_WORKFLOW.into(),
            previous_path: None,
            old: Some("name: ci\n".into()),
            new: Some("name: ci\n# edited by the change\n".into()),
        });
    });
    let g = gate_as(&sandbox, On::GitLab, 43).await;
    assert!(
        g.review.evidence_ignored.is_empty(),
        "{:?}",
        g.review.evidence_ignored
    );
    assert!(
        g.review.tests.is_some(),
        "the JUnit report counted: {:?} {:?} {:?}",
        g.review.evidence_problems,
        g.review.evidence,
        g.review.policy
    );
}
