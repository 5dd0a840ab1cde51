//! The GitLab client against the sandbox's GitLab-shaped routes: the same
//! forge-neutral answers as the GitHub client gives for the same state, and
//! records kept on a branch written through the commits API.

use countersign_forge::github::{GitHubConfig, GitHubForge};
use countersign_forge::gitlab::{GitLabConfig, GitLabForge};
use countersign_forge::{CheckSource, CheckState, Forge, ForgeError, RepoId};
use countersign_forge_sandbox::{RunningSandbox, Seed, SANDBOX_TOKEN};
use url::Url;

fn gitlab(sandbox: &RunningSandbox) -> GitLabForge {
    let mut config = GitLabConfig::new(Url::parse(&sandbox.gitlab_api_base()).unwrap());
    config.token = Some(SANDBOX_TOKEN.into());
    GitLabForge::new(config).unwrap()
}

fn github(sandbox: &RunningSandbox) -> GitHubForge {
    let mut config = GitHubConfig::new(Url::parse(&sandbox.api_base()).unwrap());
    config.token = Some(SANDBOX_TOKEN.into());
    GitHubForge::new(config).unwrap()
}

fn repo() -> RepoId {
    RepoId::new("acme-medical", "infusion-pump-firmware")
}

#[tokio::test]
async fn a_merge_request_reads_as_the_github_client_reads_the_pull_request() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (lab, hub) = (gitlab(&sandbox), github(&sandbox));
    assert_eq!(
        lab.current_user().await.unwrap().id,
        hub.current_user().await.unwrap().id
    );
    assert_eq!(lab.repositories().await.unwrap(), vec![repo()]);
    assert_eq!(lab.default_branch(&repo()).await.unwrap(), "main");
    let nameless = |mut list: Vec<countersign_forge::ChangeRequestSummary>| {
        for s in &mut list {
            s.author.name = None;
        }
        list
    };
    let queue = nameless(lab.open_change_requests(&repo()).await.unwrap());
    assert_eq!(
        queue,
        nameless(hub.open_change_requests(&repo()).await.unwrap())
    );
    for s in &queue {
        let n = s.number;
        let (a, b) = (
            lab.change_request(&repo(), n).await.unwrap(),
            hub.change_request(&repo(), n).await.unwrap(),
        );
        assert_eq!(
            (a.body, a.commits, a.changed_files, a.additions, a.deletions),
            (b.body, b.commits, b.changed_files, b.additions, b.deletions),
            "!{n}"
        );
        // The whole diff is put together from GitLab's per-file hunks: the
        // same files, the same lines.
        let (ours, theirs) = (
            lab.unified_diff(&repo(), n).await.unwrap(),
            hub.unified_diff(&repo(), n).await.unwrap(),
        );
        let changed = |d: &str| -> Vec<String> {
            d.lines()
                .filter(|l| {
                    l.starts_with("diff --git")
                        || (l.starts_with('+') && !l.starts_with("+++"))
                        || (l.starts_with('-') && !l.starts_with("---"))
                })
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(changed(&ours), changed(&theirs), "!{n}");
        let files = lab.changed_files(&repo(), n).await.unwrap();
        let hub_files = hub.changed_files(&repo(), n).await.unwrap();
        assert_eq!(
            files
                .iter()
                .map(|f| (&f.path, f.status, f.additions, f.deletions))
                .collect::<Vec<_>>(),
            hub_files
                .iter()
                .map(|f| (&f.path, f.status, f.additions, f.deletions))
                .collect::<Vec<_>>()
        );
        let shas = |l: Vec<countersign_forge::CommitInfo>| {
            l.into_iter().map(|c| c.sha).collect::<Vec<_>>()
        };
        assert_eq!(
            shas(lab.commits(&repo(), n).await.unwrap()),
            shas(hub.commits(&repo(), n).await.unwrap())
        );
    }
}

#[tokio::test]
async fn ci_jobs_count_as_checks_and_a_posted_status_does_not() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let lab = gitlab(&sandbox);
    let head = lab
        .change_request(&repo(), 42)
        .await
        .unwrap()
        .summary
        .head_sha;
    let checks = lab.checks(&repo(), &head).await.unwrap();
    let build = checks.iter().find(|c| c.name == "build").expect("build");
    assert_eq!(build.state, CheckState::Success);
    assert_eq!(
        build.source,
        CheckSource::ForgeCi {
            app: "gitlab-ci".into()
        }
    );
    let status = countersign_forge::CommitStatus {
        context: "hil-bench".into(),
        state: countersign_forge::StatusState::Success,
        description: Some("trust me".into()),
        target_url: None,
    };
    lab.create_status(&repo(), &head, &status).await.unwrap();
    let checks = lab.checks(&repo(), &head).await.unwrap();
    assert_eq!(
        checks
            .iter()
            .find(|c| c.name == "hil-bench")
            .unwrap()
            .source,
        CheckSource::Status
    );
    assert!(lab
        .commit_statuses(&repo(), &head)
        .await
        .unwrap()
        .contains(&status));
    // An error reads back as an error (GitLab says `canceled`).
    let error = countersign_forge::CommitStatus {
        state: countersign_forge::StatusState::Error,
        context: "countersign/approval".into(),
        ..status
    };
    lab.create_status(&repo(), &head, &error).await.unwrap();
    assert!(lab
        .commit_statuses(&repo(), &head)
        .await
        .unwrap()
        .contains(&error));
}

#[tokio::test]
async fn job_artifacts_download_and_name_the_ci_configuration() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let (lab, hub) = (gitlab(&sandbox), github(&sandbox));
    let head = lab
        .change_request(&repo(), 42)
        .await
        .unwrap()
        .summary
        .head_sha;
    let ours = lab.artifacts(&repo(), &head).await.unwrap();
    let theirs = hub.artifacts(&repo(), &head).await.unwrap();
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(
            (&a.name, a.size_bytes, &a.workflow_path),
            (&b.name, b.size_bytes, &b.workflow_path)
        );
        assert!(a.run_completed);
    }
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.zip");
    let n = lab
        .download_artifact(&repo(), &ours[0], &dest, 10 << 20)
        .await
        .unwrap();
    assert_eq!(n, ours[0].size_bytes);
}

#[tokio::test]
async fn records_live_on_a_branch_and_a_stale_write_is_refused() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let lab = gitlab(&sandbox);
    let name = "countersign/pr-42";
    assert_eq!(
        lab.read_ref_file(&repo(), name, "records.json")
            .await
            .unwrap(),
        None
    );
    let first = lab
        .write_ref_file(&repo(), name, "records.json", b"[1]", "first")
        .await
        .unwrap();
    let second = lab
        .write_ref_file(&repo(), name, "records.json", b"[1,2]", "second")
        .await
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(
        lab.read_ref_file(&repo(), name, "records.json")
            .await
            .unwrap(),
        Some((second.clone(), b"[1,2]".to_vec()))
    );
    assert_eq!(
        lab.read_ref_file(&repo(), "countersign/pr-4", "records.json")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        lab.refs_under(&repo(), "countersign/pr-").await.unwrap(),
        vec![(name.to_owned(), second.clone())]
    );
    lab.write_ref_file(&repo(), name, "records.json", b"[2]", "drop")
        .await
        .unwrap();
    let history = lab
        .read_ref_file_history(&repo(), name, "records.json", 10)
        .await
        .unwrap()
        .unwrap();
    let versions: Vec<&[u8]> = history.versions.iter().map(|(_, b)| b.as_slice()).collect();
    assert_eq!(versions, vec![&b"[2]"[..], b"[1,2]", b"[1]"]);
    assert!(matches!(
        lab.read_ref_file_history(&repo(), name, "records.json", 2)
            .await,
        Err(ForgeError::TooLarge(_))
    ));
    // A write naming the file's commit from before another write is refused.
    let answer = reqwest::Client::new()
        .post(format!(
            "{}projects/acme-medical%2Finfusion-pump-firmware/repository/commits",
            sandbox.gitlab_api_base()
        ))
        .header("PRIVATE-TOKEN", SANDBOX_TOKEN)
        .json(&serde_json::json!({
            "branch": name, "commit_message": "x",
            "actions": [{"action": "update", "file_path": "records.json", "content": "[3]", "last_commit_id": first}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(
        lab.read_ref_file(&repo(), name, "records.json")
            .await
            .unwrap()
            .unwrap()
            .1,
        b"[2]".to_vec()
    );
}

#[tokio::test]
async fn notes_are_created_listed_and_edited_under_their_merge_request() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let lab = gitlab(&sandbox);
    let c = lab.create_comment(&repo(), 42, "first").await.unwrap();
    assert!(
        c.web_url.ends_with(&format!("#note_{}", c.id)),
        "{}",
        c.web_url
    );
    let fresh = gitlab(&sandbox);
    // Another client must read the notes before it can edit one.
    assert!(fresh.update_comment(&repo(), c.id, "x").await.is_err());
    assert_eq!(fresh.comments(&repo(), 42).await.unwrap().len(), 1);
    assert_eq!(
        fresh
            .update_comment(&repo(), c.id, "second")
            .await
            .unwrap()
            .body,
        "second"
    );
}

#[tokio::test]
async fn a_proposed_change_opens_a_merge_request_from_a_new_branch() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let lab = gitlab(&sandbox);
    let opened = lab
        .propose_change(&countersign_forge::Proposal {
            repo: &repo(),
            base_branch: "main",
            new_branch: "countersign/roster",
            files: &[
                (".countersign/policy.toml", b"# new roster\n"),
                ("docs/roster-change.md", b"why\n"),
            ],
            title: "Add Erin to QA",
            body: "Signed roster change.",
        })
        .await
        .unwrap();
    let paths: Vec<String> = lab
        .changed_files(&repo(), opened.number)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(paths, [".countersign/policy.toml", "docs/roster-change.md"]);
    assert!(lab
        .propose_change(&countersign_forge::Proposal {
            repo: &repo(),
            base_branch: "main",
            new_branch: "countersign/roster",
            files: &[(".countersign/policy.toml", b"# other\n")],
            title: "again",
            body: "",
        })
        .await
        .is_err());
}

/// Retries, timeouts, rate limits and bad bodies end as on GitHub.
#[tokio::test]
async fn faults_end_as_they_do_on_github() {
    use countersign_forge_sandbox::Fault;
    use std::time::Duration;
    async fn run(fault: Fault, times: Option<u32>) -> (Result<usize, ForgeError>, u64) {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        sandbox.store().write().unwrap().inject(
            "/gitlab/api/v4/projects/acme-medical%2Finfusion-pump-firmware/merge_requests",
            fault,
            times,
        );
        let mut config = GitLabConfig::new(Url::parse(&sandbox.gitlab_api_base()).unwrap());
        config.token = Some(SANDBOX_TOKEN.into());
        config.timeout = Duration::from_millis(800);
        let lab = GitLabForge::new(config).unwrap();
        let result =
            tokio::time::timeout(Duration::from_secs(20), lab.open_change_requests(&repo()))
                .await
                .expect("bounded")
                .map(|l| l.len());
        let requests = sandbox.store().read().unwrap().requests;
        (result, requests)
    }
    let (ok, _) = run(Fault::Status(503), Some(2)).await;
    assert_eq!(ok.unwrap(), 4);
    let (slow, _) = run(Fault::Slow(Duration::from_secs(5)), None).await;
    assert!(matches!(slow, Err(ForgeError::Network { .. })), "{slow:?}");
    let (limited, _) = run(Fault::SecondaryRateLimit { retry_after: 600 }, None).await;
    assert!(
        matches!(limited, Err(ForgeError::RateLimited { .. })),
        "{limited:?}"
    );
    for fault in [Fault::MalformedJson, Fault::WrongContentType] {
        let (bad, _) = run(fault.clone(), None).await;
        assert!(
            matches!(bad, Err(ForgeError::Contract { .. })),
            "{fault:?}: {bad:?}"
        );
    }
}

/// A project in a group within a group (`acme-medical/devices/pump`) is
/// listed, read and written to like any other; the other forges' clients,
/// whose repositories have one owner, refuse it instead of splicing the
/// groups into their URLs.
#[tokio::test]
async fn a_project_in_nested_groups_is_read_by_its_whole_path() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    {
        let store = sandbox.store();
        let mut store = store.write().unwrap();
        let mut nested = store.repos[0].clone();
        nested.id = 9_001;
        nested.owner = "acme-medical/devices".into();
        nested.name = "pump".into();
        store.repos.push(nested);
    }
    let nested: RepoId = "acme-medical/devices/pump".parse().unwrap();
    let lab = gitlab(&sandbox);
    assert_eq!(
        lab.repositories().await.unwrap(),
        vec![repo(), nested.clone()]
    );
    assert_eq!(lab.default_branch(&nested).await.unwrap(), "main");
    let queue = lab.open_change_requests(&nested).await.unwrap();
    assert_eq!(
        queue.iter().map(|s| s.number).collect::<Vec<_>>(),
        lab.open_change_requests(&repo())
            .await
            .unwrap()
            .iter()
            .map(|s| s.number)
            .collect::<Vec<_>>()
    );
    lab.write_ref_file(
        &nested,
        "countersign/pr-42",
        "records.json",
        b"[1]",
        "first",
    )
    .await
    .unwrap();
    assert_eq!(
        lab.read_ref_file(&nested, "countersign/pr-42", "records.json")
            .await
            .unwrap()
            .map(|(_, b)| b),
        Some(b"[1]".to_vec())
    );
    // Written to the nested project, not to its namesake one level up.
    assert_eq!(
        lab.read_ref_file(&repo(), "countersign/pr-42", "records.json")
            .await
            .unwrap(),
        None
    );

    let hub = github(&sandbox);
    assert!(matches!(
        hub.open_change_requests(&nested).await,
        Err(ForgeError::InvalidInput(m)) if m.contains("groups within groups")
    ));
}
