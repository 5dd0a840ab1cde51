//! The Gitea/Forgejo client against the sandbox's Gitea- and Forgejo-shaped
//! routes: the same forge-neutral answers as the GitHub client gives for the
//! same state, and records kept on a branch that only moves forward.

use countersign_forge::gitea::{Flavor, GiteaConfig, GiteaForge};
use countersign_forge::github::{GitHubConfig, GitHubForge};
use countersign_forge::{CheckSource, CheckState, Forge, ForgeError, RepoId};
use countersign_forge_sandbox::{RunningSandbox, Seed, Shape, SANDBOX_TOKEN};
use url::Url;

fn gitea(sandbox: &RunningSandbox, flavor: Flavor) -> GiteaForge {
    let shape = match flavor {
        Flavor::Gitea => Shape::Gitea,
        Flavor::Forgejo => Shape::Forgejo,
    };
    let mut config = GiteaConfig::new(Url::parse(&sandbox.api_base_as(shape)).unwrap(), flavor);
    config.token = Some(SANDBOX_TOKEN.into());
    GiteaForge::new(config).unwrap()
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
async fn both_flavors_read_a_change_as_the_github_client_does() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let hub = github(&sandbox);
    for flavor in [Flavor::Gitea, Flavor::Forgejo] {
        let tea = gitea(&sandbox, flavor);
        assert_eq!(
            tea.current_user().await.unwrap(),
            hub.current_user().await.unwrap()
        );
        assert_eq!(
            tea.default_branch(&repo()).await.unwrap(),
            hub.default_branch(&repo()).await.unwrap()
        );
        // Gitea's user carries the full name where GitHub's short user has none.
        let nameless = |mut list: Vec<countersign_forge::ChangeRequestSummary>| {
            for s in &mut list {
                s.author.name = None;
            }
            list
        };
        let queue = nameless(tea.open_change_requests(&repo()).await.unwrap());
        assert_eq!(
            queue,
            nameless(hub.open_change_requests(&repo()).await.unwrap())
        );
        assert!(queue.len() >= 3, "{queue:?}");
        for summary in &queue {
            let n = summary.number;
            let (a, b) = (
                tea.change_request(&repo(), n).await.unwrap(),
                hub.change_request(&repo(), n).await.unwrap(),
            );
            assert_eq!(nameless(vec![a.summary]), nameless(vec![b.summary.clone()]));
            assert_eq!(
                (a.body, a.commits, a.changed_files, a.additions, a.deletions),
                (b.body, b.commits, b.changed_files, b.additions, b.deletions),
                "#{n} on {flavor:?}"
            );
            assert_eq!(
                tea.unified_diff(&repo(), n).await.unwrap(),
                hub.unified_diff(&repo(), n).await.unwrap()
            );
            let files = tea.changed_files(&repo(), n).await.unwrap();
            let theirs = hub.changed_files(&repo(), n).await.unwrap();
            assert_eq!(files.len(), theirs.len());
            for (f, g) in files.iter().zip(&theirs) {
                assert_eq!(
                    (&f.path, f.status, f.additions),
                    (&g.path, g.status, g.additions)
                );
                assert!(f.patch.is_none(), "Gitea sends no per-file patch");
            }
            // Each forge has its own no-reply address for a login without one.
            let people = |list: Vec<countersign_forge::CommitInfo>| {
                list.into_iter()
                    .map(|c| {
                        (
                            c.sha,
                            c.message,
                            c.author.map(|u| u.id),
                            c.committer.map(|u| u.id),
                        )
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                people(tea.commits(&repo(), n).await.unwrap()),
                people(hub.commits(&repo(), n).await.unwrap())
            );
            assert_eq!(
                tea.file_at(&repo(), ".countersign/policy.toml", &b.summary.base_sha)
                    .await
                    .unwrap(),
                hub.file_at(&repo(), ".countersign/policy.toml", &b.summary.base_sha)
                    .await
                    .unwrap()
            );
        }
    }
}

#[tokio::test]
async fn actions_results_count_as_checks_and_a_persons_status_does_not() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let hub = github(&sandbox);
    let head = hub
        .change_request(&repo(), 42)
        .await
        .unwrap()
        .summary
        .head_sha;
    for (flavor, app) in [
        (Flavor::Gitea, "gitea-actions"),
        (Flavor::Forgejo, "forgejo-actions"),
    ] {
        let tea = gitea(&sandbox, flavor);
        let checks = tea.checks(&repo(), &head).await.unwrap();
        let build = checks.iter().find(|c| c.name == "build").expect("build");
        assert_eq!(build.state, CheckState::Success);
        assert_eq!(
            build.source,
            CheckSource::ForgeCi {
                app: app.to_owned()
            }
        );
    }
    // Anyone with write access can set a status named like a check: it stays a status.
    let tea = gitea(&sandbox, Flavor::Gitea);
    tea.create_status(
        &repo(),
        &head,
        &countersign_forge::CommitStatus {
            context: "hil-bench".into(),
            state: countersign_forge::StatusState::Success,
            description: Some("trust me".into()),
            target_url: None,
        },
    )
    .await
    .unwrap();
    let checks = tea.checks(&repo(), &head).await.unwrap();
    let planted = checks.iter().find(|c| c.name == "hil-bench").unwrap();
    assert_eq!(planted.source, CheckSource::Status);
    let statuses = tea.commit_statuses(&repo(), &head).await.unwrap();
    assert!(statuses.iter().any(|s| s.context == "hil-bench"));
}

#[tokio::test]
async fn artifacts_name_the_workflow_file_that_ran_and_download_on_both_flavors() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let hub = github(&sandbox);
    let head = hub
        .change_request(&repo(), 42)
        .await
        .unwrap()
        .summary
        .head_sha;
    let theirs = hub.artifacts(&repo(), &head).await.unwrap();
    assert!(!theirs.is_empty());
    for flavor in [Flavor::Gitea, Flavor::Forgejo] {
        let tea = gitea(&sandbox, flavor);
        let ours = tea.artifacts(&repo(), &head).await.unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!((a.id, &a.name, a.size_bytes), (b.id, &b.name, b.size_bytes));
            assert_eq!(a.workflow_path, b.workflow_path, "{flavor:?}");
            assert!(a.run_completed);
        }
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.zip");
        let n = tea
            .download_artifact(&repo(), &ours[0], &dest, 10 << 20)
            .await
            .unwrap();
        assert_eq!(n, ours[0].size_bytes);
        assert!(matches!(
            tea.download_artifact(&repo(), &ours[0], &dest, 10).await,
            Err(ForgeError::InvalidInput(_))
        ));
    }
}

#[tokio::test]
async fn records_live_on_a_branch_that_moves_only_forward_and_keeps_every_version() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let tea = gitea(&sandbox, Flavor::Forgejo);
    let name = "countersign/pr-42";
    assert_eq!(
        tea.read_ref_file(&repo(), name, "records.json")
            .await
            .unwrap(),
        None
    );
    let first = tea
        .write_ref_file(&repo(), name, "records.json", b"[1]", "first")
        .await
        .unwrap();
    let second = tea
        .write_ref_file(&repo(), name, "records.json", b"[1,2]", "second")
        .await
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(
        tea.read_ref_file(&repo(), name, "records.json")
            .await
            .unwrap(),
        Some((second.clone(), b"[1,2]".to_vec()))
    );
    // `pr-4` must not find `pr-42`.
    assert_eq!(
        tea.read_ref_file(&repo(), "countersign/pr-4", "records.json")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        tea.refs_under(&repo(), "countersign/pr-").await.unwrap(),
        vec![(name.to_owned(), second.clone())]
    );
    // Someone drops the first record: the history still shows it.
    tea.write_ref_file(&repo(), name, "records.json", b"[2]", "drop")
        .await
        .unwrap();
    let history = tea
        .read_ref_file_history(&repo(), name, "records.json", 10)
        .await
        .unwrap()
        .unwrap();
    let versions: Vec<&[u8]> = history.versions.iter().map(|(_, b)| b.as_slice()).collect();
    assert_eq!(versions, vec![&b"[2]"[..], b"[1,2]", b"[1]"]);
    assert!(matches!(
        tea.read_ref_file_history(&repo(), name, "records.json", 2)
            .await,
        Err(ForgeError::TooLarge(_))
    ));
    // The GitHub shape of the same forge sees the same branch.
    let hub = github(&sandbox);
    assert!(hub
        .read_ref_file(&repo(), "heads/countersign/pr-42", "records.json")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_write_that_names_a_stale_blob_is_refused_as_a_conflict() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let tea = gitea(&sandbox, Flavor::Gitea);
    let name = "countersign/pr-43";
    tea.write_ref_file(&repo(), name, "records.json", b"[1]", "first")
        .await
        .unwrap();
    // Another writer moves the file between our read and our write: replay
    // the write with the blob we read before.
    let http = reqwest::Client::new();
    let url = format!(
        "{}repos/acme-medical/infusion-pump-firmware/contents/records.json",
        sandbox.api_base_as(Shape::Gitea)
    );
    let stale = {
        let v: serde_json::Value = http
            .get(format!("{url}?ref={name}"))
            .header("Authorization", format!("token {SANDBOX_TOKEN}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["sha"].as_str().unwrap().to_owned()
    };
    tea.write_ref_file(&repo(), name, "records.json", b"[1,2]", "second")
        .await
        .unwrap();
    let answer = http
        .put(&url)
        .header("Authorization", format!("token {SANDBOX_TOKEN}"))
        .json(&serde_json::json!({"content": "WzNd", "message": "x", "branch": name, "sha": stale}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    assert_eq!(
        tea.read_ref_file(&repo(), name, "records.json")
            .await
            .unwrap()
            .unwrap()
            .1,
        b"[1,2]".to_vec()
    );
}

#[tokio::test]
async fn a_proposed_change_opens_a_pull_request_from_a_new_branch() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    for flavor in [Flavor::Gitea, Flavor::Forgejo] {
        let tea = gitea(&sandbox, flavor);
        let branch = format!("countersign/roster-{flavor:?}").to_lowercase();
        let opened = tea
            .propose_change(&countersign_forge::Proposal {
                repo: &repo(),
                base_branch: "main",
                new_branch: &branch,
                files: &[
                    (".countersign/policy.toml", b"# new roster\n"),
                    ("docs/roster-change.md", b"why\n"),
                ],
                title: "Add Erin to QA",
                body: "Signed roster change.",
            })
            .await
            .unwrap();
        assert_eq!(opened.title, "Add Erin to QA");
        let files = tea.changed_files(&repo(), opened.number).await.unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [".countersign/policy.toml", "docs/roster-change.md"]);
        assert_eq!(
            tea.file_at(&repo(), ".countersign/policy.toml", &branch)
                .await
                .unwrap()
                .as_deref(),
            Some(&b"# new roster\n"[..])
        );
        // The same branch again: refused, not overwritten.
        assert!(tea
            .propose_change(&countersign_forge::Proposal {
                repo: &repo(),
                base_branch: "main",
                new_branch: &branch,
                files: &[(".countersign/policy.toml", b"# other\n")],
                title: "again",
                body: "",
            })
            .await
            .is_err());
    }
}

/// Retries, timeouts, rate limits and bad bodies behave as on GitHub: the
/// HTTP layer is the same one.
#[tokio::test]
async fn faults_end_as_they_do_on_github() {
    use countersign_forge_sandbox::Fault;
    use std::time::Duration;
    async fn run(fault: Fault, times: Option<u32>) -> (Result<usize, ForgeError>, u64) {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        sandbox.store().write().unwrap().inject(
            "/api/v1/repos/acme-medical/infusion-pump-firmware/pulls",
            fault,
            times,
        );
        let mut config = GiteaConfig::new(
            Url::parse(&sandbox.api_base_as(Shape::Gitea)).unwrap(),
            Flavor::Gitea,
        );
        config.token = Some(SANDBOX_TOKEN.into());
        config.timeout = Duration::from_millis(800);
        let tea = GiteaForge::new(config).unwrap();
        let result =
            tokio::time::timeout(Duration::from_secs(20), tea.open_change_requests(&repo()))
                .await
                .expect("bounded")
                .map(|l| l.len());
        let requests = sandbox.store().read().unwrap().requests;
        (result, requests)
    }
    let (ok, requests) = run(Fault::Status(503), Some(2)).await;
    assert_eq!((ok.unwrap(), requests), (4, 3));
    let (slow, _) = run(Fault::Slow(Duration::from_secs(5)), None).await;
    assert!(matches!(slow, Err(ForgeError::Network { .. })), "{slow:?}");
    let (waited, requests) = run(Fault::SecondaryRateLimit { retry_after: 1 }, Some(1)).await;
    assert_eq!((waited.unwrap(), requests), (4, 2));
    let (limited, requests) = run(Fault::SecondaryRateLimit { retry_after: 600 }, None).await;
    assert!(
        matches!(limited, Err(ForgeError::RateLimited { .. })),
        "{limited:?}"
    );
    assert_eq!(requests, 1);
    for fault in [
        Fault::MalformedJson,
        Fault::WrongContentType,
        Fault::HugeBody { bytes: 40 << 20 },
    ] {
        let (bad, _) = run(fault.clone(), None).await;
        assert!(
            matches!(bad, Err(ForgeError::Contract { .. })),
            "{fault:?}: {bad:?}"
        );
    }
}
