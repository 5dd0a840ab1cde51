//! The forge clients and the sandbox forge, checked against each forge's own
//! published description (GitHub's from npm `@octokit/openapi`, pinned;
//! Gitea's and Forgejo's copied into `tests/contract/specs`; GitLab's as
//! `tests/contract/gitlab-description.mjs` states it): every
//! request the client makes and every response the sandbox gives passes
//! through Prism as a validating proxy with `--errors`, so any violation turns
//! into an error status that fails the test.

use std::process::Stdio;
use std::time::Duration;

use countersign_forge::github::{GitHubConfig, GitHubForge};
use countersign_forge::{Forge, RepoId};
use countersign_forge_sandbox::{RunningSandbox, Seed, Shape, SANDBOX_TOKEN};
use countersign_tests::{target_dir, workspace_root};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

struct Prism {
    child: Child,
    url: Url,
}

impl Drop for Prism {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// Which published description Prism checks against.
#[derive(Clone, Copy, Debug)]
enum Spec {
    GitHub,
    /// Gitea's or Forgejo's, with the path prefix the sandbox serves it under.
    Tea(Shape),
    /// GitLab's, as `gitlab-description.mjs` states it for the client's routes.
    GitLab,
}

/// Cut GitHub's description and start Prism in front of `upstream`.
async fn prism(upstream: &str) -> Prism {
    prism_for(Spec::GitHub, upstream).await
}

/// Cut `which` description and start Prism in front of `upstream` on a free port.
async fn prism_for(which: Spec, upstream: &str) -> Prism {
    let contract = workspace_root().join("tests/contract");
    let bin = contract.join("node_modules/.bin/prism");
    assert!(
        bin.exists(),
        "{} is missing: scripts/test-all.sh installs it (npm ci in tests/contract)",
        bin.display()
    );
    // A file of its own: two tests (or two nextest processes) cutting the
    // description at once must not read each other's half-written file.
    static CUT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let spec = target_dir().join(format!(
        "contract/github-{}-{}.json",
        std::process::id(),
        CUT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
    let mut cut = std::process::Command::new("node");
    match which {
        Spec::GitHub => cut.arg(contract.join("cut-spec.mjs")).arg(&spec),
        Spec::Tea(shape) => cut
            .arg(contract.join("cut-gitea-spec.mjs"))
            .arg(match shape {
                Shape::Gitea => "gitea",
                Shape::Forgejo => "forgejo",
            })
            .arg(&spec)
            .arg(tea_prefix(shape)),
        Spec::GitLab => cut
            .arg(contract.join("gitlab-description.mjs"))
            .arg(&spec)
            .arg(GITLAB_PREFIX),
    };
    let cut = cut.output().unwrap();
    assert!(
        cut.status.success(),
        "cut-spec failed: {}",
        String::from_utf8_lossy(&cut.stderr)
    );

    let mut cmd = Command::new(bin);
    cmd.args(["proxy", "-h", "127.0.0.1", "-p", "0", "--errors"])
        .arg(&spec)
        .arg(upstream)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = cmd.spawn().expect("start prism");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(at) = line.find("Prism is listening on ") {
                return Url::parse(line[at + "Prism is listening on ".len()..].trim()).unwrap();
            }
            assert!(!line.contains("fatal"), "prism: {line}");
        }
        panic!("prism exited before listening");
    })
    .await
    .expect("prism started within 60 s");
    // Keep draining its log so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Prism { child, url }
}

fn client(api_base: &Url) -> GitHubForge {
    let mut config = GitHubConfig::new(api_base.clone());
    config.token = Some(SANDBOX_TOKEN.into());
    config.timeout = Duration::from_secs(15);
    GitHubForge::new(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_and_the_sandbox_keep_githubs_published_contract() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let prism = prism(&sandbox.api_base()).await;
    let forge = client(&prism.url);
    let repo = RepoId::new("acme-medical", "infusion-pump-firmware");

    let me = forge
        .current_user()
        .await
        .expect("GET /user keeps the contract");
    assert_eq!(me.id, 5002);
    assert_eq!(
        forge.repositories().await.expect("GET /user/repos"),
        vec![repo.clone()]
    );
    let open = forge.open_change_requests(&repo).await.expect("GET /pulls");
    assert_eq!(open.len(), 4);
    for pr in &open {
        let full = forge
            .change_request(&repo, pr.number)
            .await
            .expect("GET /pulls/{n}");
        assert_eq!(full.summary.head_sha, pr.head_sha);
        let files = forge
            .changed_files(&repo, pr.number)
            .await
            .expect("GET /pulls/{n}/files");
        assert_eq!(files.len() as u64, full.changed_files);
        let diff = forge
            .unified_diff(&repo, pr.number)
            .await
            .expect("GET /pulls/{n} as a diff");
        assert!(diff.starts_with("diff --git "));
    }

    // Writes: a status, and a comment created then updated.
    use countersign_forge::{CommitStatus, StatusState};
    let status = CommitStatus {
        context: "countersign/approval".into(),
        state: StatusState::Pending,
        description: Some("1 signature: Bob Okafor (QA, approval)".into()),
        target_url: Some("http://127.0.0.1/x".into()),
    };
    forge
        .create_status(&repo, &open[0].head_sha, &status)
        .await
        .expect("POST /statuses/{sha}");
    let statuses = forge
        .commit_statuses(&repo, &open[0].head_sha)
        .await
        .expect("GET /commits/{sha}/status");
    assert_eq!(statuses, vec![status]);
    let comment = forge
        .create_comment(&repo, 42, "first")
        .await
        .expect("POST /issues/{n}/comments");
    let updated = forge
        .update_comment(&repo, comment.id, "second")
        .await
        .expect("PATCH /issues/comments/{id}");
    assert_eq!(updated.body, "second");
    let comments = forge
        .comments(&repo, 42)
        .await
        .expect("GET /issues/{n}/comments");
    assert_eq!(comments.len(), 1);

    // Commits, checks, the policy file at the base, CI artifacts.
    let pr42 = open.iter().find(|p| p.number == 42).unwrap();
    let reviews = forge
        .reviews(&repo, 42)
        .await
        .expect("GET /pulls/{n}/reviews");
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        (reviews[0].reviewer.id, reviews[0].state.as_str()),
        (5004, "COMMENTED")
    );
    let commits = forge
        .commits(&repo, 42)
        .await
        .expect("GET /pulls/{n}/commits");
    assert_eq!(commits.len(), 2);
    assert_eq!(commits[0].author.as_ref().map(|u| u.id), Some(5001));
    let checks = forge
        .checks(&repo, &pr42.head_sha)
        .await
        .expect("GET check-runs and status");
    assert!(checks.iter().any(|c| c.name == "build"), "{checks:?}");
    // Prism's router matches `{path}` as one segment, so the contract is
    // checked on a top-level file; nested paths are real slashes, as on GitHub.
    let readme = forge
        .file_at(&repo, "README.md", &pr42.base_sha)
        .await
        .expect("GET /contents/{path}")
        .expect("the base has a README");
    assert!(String::from_utf8(readme).unwrap().starts_with("# "));
    assert_eq!(
        forge
            .file_at(&repo, "no/such/file.txt", &pr42.base_sha)
            .await
            .expect("a missing file is None"),
        None
    );
    let artifacts = forge
        .artifacts(&repo, &pr42.head_sha)
        .await
        .expect("GET /actions/runs and their artifacts");
    assert_eq!(artifacts.len(), 1);
    // Prism's proxy follows redirects itself, so it cannot judge the 302 that
    // GitHub answers here: the download goes to the sandbox directly, and the
    // test checks the 302 itself.
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}repos/{repo}/actions/artifacts/{}/zip",
            sandbox.api_base(),
            artifacts[0].id
        ))
        .bearer_auth(SANDBOX_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status().as_u16(), 302);
    assert!(redirect.headers().contains_key("location"));
    let direct = client(&Url::parse(&sandbox.api_base()).unwrap());
    let dest = target_dir().join("contract/artifact.zip");
    let size = direct
        .download_artifact(&repo, &artifacts[0], &dest, 10 * 1024 * 1024)
        .await
        .expect("GET /actions/artifacts/{id}/zip");
    assert_eq!(size, std::fs::metadata(&dest).unwrap().len());
    assert!(std::fs::read(&dest).unwrap().starts_with(b"PK"));

    // Records in refs/countersign/ through the Git Data API: create, then move on.
    let name = "countersign/pr-42";
    assert_eq!(
        forge
            .read_ref_file(&repo, name, "records.json")
            .await
            .expect("GET /git/ref"),
        None
    );
    let first = forge
        .write_ref_file(&repo, name, "records.json", b"{\"n\":1}", "records for #42")
        .await
        .expect("POST blobs, trees, commits, refs");
    let second = forge
        .write_ref_file(&repo, name, "records.json", b"{\"n\":2}", "records for #42")
        .await
        .expect("PATCH /git/refs/{ref}");
    assert_ne!(first, second);
    let (at, bytes) = forge
        .read_ref_file(&repo, name, "records.json")
        .await
        .expect("GET ref, commit, tree, blob")
        .expect("the ref exists");
    assert_eq!(
        (at.as_str(), bytes.as_slice()),
        (second.as_str(), &b"{\"n\":2}"[..])
    );
    let history = forge
        .read_ref_file_history(&repo, name, "records.json", 10)
        .await
        .expect("GET ref, then each commit, tree and blob back to the root")
        .expect("the ref exists");
    assert_eq!(history.tip, second);
    assert_eq!(
        history.versions,
        [
            (second.clone(), b"{\"n\":2}".to_vec()),
            (first.clone(), b"{\"n\":1}".to_vec())
        ]
    );
    assert_eq!(
        forge
            .refs_under(&repo, "countersign/")
            .await
            .expect("GET /git/matching-refs/{ref}"),
        [(name.to_owned(), second.clone())]
    );

    assert_eq!(
        forge
            .default_branch(&repo)
            .await
            .expect("GET /repos/{owner}/{repo}"),
        "main"
    );
    // A policy change proposed for review: branch, commit on the base tree, pull request.
    let proposed = forge
        .propose_change(&countersign_forge::Proposal {
            repo: &repo,
            base_branch: "main",
            new_branch: "countersign/policy-test",
            // The roster edit and a key-event record, in one commit.
            files: &[
                (".countersign/policy.toml", b"version = 1\n"),
                (".countersign/key-events/test.json", b"{}\n"),
            ],
            title: "Policy: test",
            body: "Proposed by the contract test",
        })
        .await
        .expect("GET ref/heads%2Fmain, POST blobs, trees (base_tree), commits, refs, pulls");
    assert_eq!(proposed.base_ref, "main");
    let files = forge
        .changed_files(&repo, proposed.number)
        .await
        .expect("the new pull request's files");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            ".countersign/key-events/test.json",
            ".countersign/policy.toml"
        ]
    );

    // Straight through Prism, for the endpoints' raw shapes.
    let http = reqwest::Client::new();
    for path in [
        format!("repos/{repo}/pulls/42/commits"),
        format!("repos/{repo}/commits/{}/status", open[0].head_sha),
        format!("repos/{repo}/commits/{}/check-runs", open[0].head_sha),
    ] {
        let response = http
            .get(prism.url.join(&path).unwrap())
            .bearer_auth(SANDBOX_TOKEN)
            .header("Accept", "application/vnd.github+json")
            .send()
            .await
            .unwrap();
        let violations = response
            .headers()
            .get("sl-violations")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status.is_success() && violations.is_none(),
            "{path}: {status} {violations:?} {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_fails_on_a_request_github_would_refuse() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let prism = prism(&sandbox.api_base()).await;
    // per_page above GitHub's maximum of 100: the patched description refuses it.
    let response = reqwest::Client::new()
        .get(
            prism
                .url
                .join("repos/acme-medical/infusion-pump-firmware/pulls?per_page=101")
                .unwrap(),
        )
        .bearer_auth(SANDBOX_TOKEN)
        .header("Accept", "application/vnd.github+json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        422,
        "{}",
        response.text().await.unwrap()
    );
}

/// Where the sandbox serves `shape` (Prism ignores `basePath`, so the cut
/// description carries this prefix on every path).
fn tea_prefix(shape: Shape) -> &'static str {
    match shape {
        Shape::Gitea => "/api/v1",
        Shape::Forgejo => "/forgejo/api/v1",
    }
}

fn tea_client(api_base: &Url, shape: Shape) -> countersign_forge::gitea::GiteaForge {
    use countersign_forge::gitea::{Flavor, GiteaConfig, GiteaForge};
    let flavor = match shape {
        Shape::Gitea => Flavor::Gitea,
        Shape::Forgejo => Flavor::Forgejo,
    };
    let mut config = GiteaConfig::new(api_base.clone(), flavor);
    config.token = Some(SANDBOX_TOKEN.into());
    config.timeout = Duration::from_secs(15);
    GiteaForge::new(config).unwrap()
}

/// Every route the Gitea/Forgejo client uses, through Prism with each
/// forge's own published description: the client's requests and the
/// sandbox's answers in that forge's shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gitea_client_and_the_sandbox_keep_giteas_and_forgejos_published_contracts() {
    for shape in [Shape::Gitea, Shape::Forgejo] {
        let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
        let prism = prism_for(Spec::Tea(shape), &sandbox.api_base()).await;
        let through = prism
            .url
            .join(&format!("{}/", tea_prefix(shape).trim_start_matches('/')))
            .unwrap();
        let forge = tea_client(&through, shape);
        let repo = RepoId::new("acme-medical", "infusion-pump-firmware");
        let what = format!("{shape:?}");

        assert_eq!(forge.current_user().await.expect("GET /user").id, 5002);
        assert_eq!(
            forge.repositories().await.expect("GET /user/repos"),
            vec![repo.clone()]
        );
        assert_eq!(
            forge
                .default_branch(&repo)
                .await
                .expect("GET /repos/{o}/{r}"),
            "main"
        );
        let open = forge.open_change_requests(&repo).await.expect("GET /pulls");
        assert_eq!(open.len(), 4, "{what}");
        for pr in &open {
            let full = forge
                .change_request(&repo, pr.number)
                .await
                .expect("GET /pulls/{index} and /pulls/{index}/commits");
            assert!(full.commits >= 1, "{what}");
            let files = forge
                .changed_files(&repo, pr.number)
                .await
                .expect("GET /pulls/{index}/files");
            assert_eq!(files.len() as u64, full.changed_files);
            let diff = forge
                .unified_diff(&repo, pr.number)
                .await
                .expect("GET /pulls/{index}.diff");
            assert!(diff.starts_with("diff --git "), "{what}");
        }
        let pr42 = open.iter().find(|p| p.number == 42).unwrap();
        assert_eq!(
            forge
                .reviews(&repo, 42)
                .await
                .expect("GET /pulls/{index}/reviews")[0]
                .state,
            "COMMENTED"
        );
        assert_eq!(
            forge.commits(&repo, 42).await.expect("GET commits").len(),
            2
        );

        status_and_comment(
            &forge,
            &repo,
            &pr42.head_sha,
            &format!("{what}: POST /statuses/{{sha}}, GET /commits/{{ref}}/status, POST /issues/{{index}}/comments, PATCH /issues/comments/{{id}}"),
        )
        .await;

        let readme = forge
            .file_at(&repo, "README.md", &pr42.base_sha)
            .await
            .expect("GET /contents/{filepath}")
            .expect("the base has a README");
        assert!(readme.starts_with(b"# "));
        let artifacts = forge
            .artifacts(&repo, &pr42.head_sha)
            .await
            .expect("GET /actions/runs, their artifacts, the workflow folders");
        assert_eq!(artifacts.len(), 1, "{what}");
        assert_eq!(
            artifacts[0].workflow_path.as_deref(),
            Some(".github/workflows/ci.yml"),
            "{what}"
        );
        let dest = target_dir().join(format!("contract/artifact-{what}.zip"));
        let size = forge
            .download_artifact(&repo, &artifacts[0], &dest, 10 * 1024 * 1024)
            .await
            .expect("GET /actions/artifacts/{id}/zip");
        assert!(size > 0 && std::fs::read(&dest).unwrap().starts_with(b"PK"));
        // Gitea's 302 itself (Prism follows it), checked without Prism.
        let direct = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!(
                "{}repos/{repo}/actions/artifacts/{}/zip",
                sandbox.api_base_as(shape),
                artifacts[0].id
            ))
            .header("Authorization", format!("token {SANDBOX_TOKEN}"))
            .send()
            .await
            .unwrap();
        let expected = match shape {
            Shape::Gitea => 302,
            Shape::Forgejo => 200,
        };
        assert_eq!(direct.status().as_u16(), expected, "{what}");

        // Records on a branch through the contents API, then a proposed change.
        records_branch_and_proposal(
            &forge,
            &repo,
            "Gitea: GET /git/refs/{ref}, POST and PUT /contents/{filepath}, GET /commits?sha&not, POST /pulls",
        )
        .await;

        // Straight through Prism: a blob, and a request the description refuses.
        let http = reqwest::Client::new();
        let blob = http
            .get(
                through
                    .join(&format!("repos/{repo}/git/blobs/{}", blob_id(&readme)))
                    .unwrap(),
            )
            .header("Authorization", format!("token {SANDBOX_TOKEN}"))
            .send()
            .await
            .unwrap();
        let violations = blob.headers().get("sl-violations").cloned();
        assert!(
            blob.status().is_success() && violations.is_none(),
            "{what}: {violations:?}"
        );
        let limit = http
            .get(
                through
                    .join(&format!("repos/{repo}/pulls?state=bogus"))
                    .unwrap(),
            )
            .header("Authorization", format!("token {SANDBOX_TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            limit.status().as_u16(),
            422,
            "{what}: Prism checks requests"
        );
    }
}

/// The sandbox's blob id for `bytes` (as its contents answers name it).
fn blob_id(bytes: &[u8]) -> String {
    countersign_forge_sandbox::object_id(&["blob", &hex::encode(bytes)])
}

/// Where the sandbox serves GitLab's shape, in front of GitLab's own `/api/v4`.
const GITLAB_PREFIX: &str = "/gitlab";

fn gitlab_client(api_base: &Url) -> countersign_forge::gitlab::GitLabForge {
    use countersign_forge::gitlab::{GitLabConfig, GitLabForge};
    let mut config = GitLabConfig::new(api_base.clone());
    config.token = Some(SANDBOX_TOKEN.into());
    config.timeout = Duration::from_secs(15);
    GitLabForge::new(config).unwrap()
}

/// Every route the GitLab client uses, through Prism with GitLab's published
/// description: the client's requests and the sandbox's answers in GitLab's
/// shape. What Prism lets through must read the same as the sandbox read
/// directly, so a route Prism mangled would show here too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gitlab_client_and_the_sandbox_keep_gitlabs_published_contract() {
    use countersign_forge_sandbox::ForgeShape;

    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let prism = prism_for(Spec::GitLab, &sandbox.api_base()).await;
    let through = prism.url.join("gitlab/api/v4/").unwrap();
    let forge = gitlab_client(&through);
    let direct = gitlab_client(&Url::parse(&sandbox.api_base_for(ForgeShape::GitLab)).unwrap());
    let repo = RepoId::new("acme-medical", "infusion-pump-firmware");

    assert_eq!(
        forge.current_user().await.expect("GET /user").id,
        direct.current_user().await.unwrap().id
    );
    assert_eq!(
        forge.repositories().await.expect("GET /projects"),
        vec![repo.clone()]
    );
    assert_eq!(
        forge
            .default_branch(&repo)
            .await
            .expect("GET /projects/{id}"),
        "main"
    );
    let open = forge
        .open_change_requests(&repo)
        .await
        .expect("GET /merge_requests");
    assert_eq!(open, direct.open_change_requests(&repo).await.unwrap());
    assert_eq!(open.len(), 4);
    for mr in &open {
        let full = forge
            .change_request(&repo, mr.number)
            .await
            .expect("GET /merge_requests/{iid}, its commits and diffs");
        assert_eq!(full, direct.change_request(&repo, mr.number).await.unwrap());
        assert_eq!(
            forge
                .unified_diff(&repo, mr.number)
                .await
                .expect("GET /merge_requests/{iid}/diffs"),
            direct.unified_diff(&repo, mr.number).await.unwrap()
        );
    }
    let mr42 = open.iter().find(|m| m.number == 42).unwrap();
    assert_eq!(
        forge
            .reviews(&repo, 42)
            .await
            .expect("GET /merge_requests/{iid}/approvals"),
        direct.reviews(&repo, 42).await.unwrap()
    );
    assert_eq!(
        forge.commits(&repo, 42).await.expect("GET commits").len(),
        2
    );

    status_and_comment(
        &forge,
        &repo,
        &mr42.head_sha,
        "GitLab: POST /statuses/{sha}, GET /repository/commits/{sha}/statuses, GET /pipelines and jobs, POST and PUT /merge_requests/{iid}/notes",
    )
    .await;
    assert_eq!(
        forge
            .checks(&repo, &mr42.head_sha)
            .await
            .expect("GET /pipelines and their jobs"),
        direct.checks(&repo, &mr42.head_sha).await.unwrap()
    );

    let readme = forge
        .file_at(&repo, "README.md", &mr42.base_sha)
        .await
        .expect("GET /repository/files/{file_path}")
        .expect("the base has a README");
    assert!(readme.starts_with(b"# "));
    assert_eq!(
        forge
            .file_at(&repo, "no/such/file.md", &mr42.base_sha)
            .await
            .expect("a 404 is an answer"),
        None
    );
    let artifacts = forge
        .artifacts(&repo, &mr42.head_sha)
        .await
        .expect("GET /pipelines, their jobs, the CI configuration");
    assert_eq!(
        artifacts,
        direct.artifacts(&repo, &mr42.head_sha).await.unwrap()
    );
    assert!(!artifacts.is_empty());
    let dest = target_dir().join("contract/artifact-gitlab.zip");
    let size = forge
        .download_artifact(&repo, &artifacts[0], &dest, 10 * 1024 * 1024)
        .await
        .expect("GET /jobs/{job_id}/artifacts");
    assert!(size > 0 && std::fs::read(&dest).unwrap().starts_with(b"PK"));

    // Records on a branch through the commits API, then a proposed change.
    records_branch_and_proposal(
        &forge,
        &repo,
        "GitLab: GET /repository/branches/{branch} and /files, POST /repository/commits, GET /repository/commits?ref_name, POST /merge_requests",
    )
    .await;

    // Straight through Prism: requests the description refuses.
    let http = reqwest::Client::new();
    for (what, path) in [
        (
            "a state GitLab has no word for",
            "merge_requests?state=bogus",
        ),
        (
            "a pipeline id that is no number",
            "pipelines/latest-one/jobs",
        ),
    ] {
        let answer = http
            .get(
                through
                    .join(&format!(
                        "projects/acme-medical%2Finfusion-pump-firmware/{path}"
                    ))
                    .unwrap(),
            )
            .bearer_auth(SANDBOX_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status().as_u16(),
            422,
            "{what}: Prism checks requests"
        );
    }
}

/// Records kept on a branch (no ref-writing API on these forges): absent,
/// written, moved on, read back with their history, found under their
/// prefix; then a proposed policy change. `routes` names what the client
/// calls for it, for the failure message.
async fn records_branch_and_proposal(forge: &impl Forge, repo: &RepoId, routes: &str) {
    let name = "countersign/pr-42";
    let read = || async {
        forge
            .read_ref_file(repo, name, "records.json")
            .await
            .unwrap_or_else(|e| panic!("{routes}: {e}"))
    };
    assert_eq!(read().await, None, "{routes}");
    let mut written = Vec::new();
    for n in 1..=2 {
        let bytes = format!("{{\"n\":{n}}}").into_bytes();
        let at = forge
            .write_ref_file(repo, name, "records.json", &bytes, "records for 42")
            .await
            .unwrap_or_else(|e| panic!("{routes}: write {n}: {e}"));
        written.insert(0, (at, bytes));
    }
    assert_eq!(read().await, Some(written[0].clone()), "{routes}");
    let history = forge
        .read_ref_file_history(repo, name, "records.json", 10)
        .await
        .unwrap_or_else(|e| panic!("{routes}: history: {e}"))
        .expect("the branch exists");
    assert_eq!(history.versions, written, "{routes}");
    assert_eq!(
        forge
            .refs_under(repo, "countersign/")
            .await
            .unwrap_or_else(|e| panic!("{routes}: refs: {e}")),
        [(name.to_owned(), written[0].0.clone())],
        "{routes}"
    );
    let proposed = forge
        .propose_change(&countersign_forge::Proposal {
            repo,
            base_branch: "main",
            new_branch: "countersign/policy-test",
            files: &[(".countersign/policy.toml", b"version = 1\n")],
            title: "Policy: test",
            body: "Proposed by the contract test",
        })
        .await
        .unwrap_or_else(|e| panic!("{routes}: proposal: {e}"));
    assert_eq!(proposed.base_ref, "main", "{routes}");
}

/// A status set and read back with the CI's checks beside it, then a
/// comment created, edited and listed, on change 42 at `head`.
async fn status_and_comment(forge: &impl Forge, repo: &RepoId, head: &str, routes: &str) {
    use countersign_forge::{CommitStatus, StatusState};
    let status = CommitStatus {
        context: "countersign/approval".into(),
        state: StatusState::Pending,
        description: Some("1/2 — waiting for Clinical Safety".into()),
        target_url: Some("http://127.0.0.1/x".into()),
    };
    forge
        .create_status(repo, head, &status)
        .await
        .unwrap_or_else(|e| panic!("{routes}: {e}"));
    let statuses = forge
        .commit_statuses(repo, head)
        .await
        .unwrap_or_else(|e| panic!("{routes}: {e}"));
    assert!(statuses.contains(&status), "{routes}: {statuses:?}");
    let checks = forge
        .checks(repo, head)
        .await
        .unwrap_or_else(|e| panic!("{routes}: {e}"));
    assert!(
        checks.iter().any(|c| c.name == "build"),
        "{routes}: {checks:?}"
    );
    let comment = forge
        .create_comment(repo, 42, "first")
        .await
        .unwrap_or_else(|e| panic!("{routes}: {e}"));
    let updated = forge
        .update_comment(repo, comment.id, "second")
        .await
        .unwrap_or_else(|e| panic!("{routes}: {e}"));
    assert_eq!(updated.body, "second", "{routes}");
    assert_eq!(
        forge
            .comments(repo, 42)
            .await
            .unwrap_or_else(|e| panic!("{routes}: {e}"))
            .len(),
        1,
        "{routes}"
    );
}
