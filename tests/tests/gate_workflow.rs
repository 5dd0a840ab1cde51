//! The example gate workflow (`docs/examples/countersign-gate.yml`), read as
//! YAML and its gate step run against the sandbox, so the example cannot
//! drift from the CLI or from the trigger rules the gate depends on.

use std::collections::BTreeMap;
use std::process::Command;

use countersign_forge_sandbox::{RunningSandbox, Seed, SANDBOX_TOKEN};
use countersign_tests::workspace_binary;
use serde_norway::Value;

const WORKFLOW: &str = include_str!("../../docs/examples/countersign-gate.yml");

fn workflow() -> Value {
    serde_norway::from_str(WORKFLOW).expect("the example workflow is YAML")
}

fn steps(w: &Value) -> Vec<&Value> {
    w["jobs"]
        .as_mapping()
        .expect("jobs")
        .values()
        .flat_map(|job| job["steps"].as_sequence().into_iter().flatten())
        .collect()
}

#[test]
fn the_workflow_comes_from_the_base_branch_and_never_runs_the_change() {
    let w = workflow();
    let on = &w["on"];
    // `pull_request` runs the workflow file of the change itself: the change
    // could edit the gate away.
    assert!(on.get("pull_request").is_none(), "{on:?}");
    let types: Vec<&str> = on["pull_request_target"]["types"]
        .as_sequence()
        .expect("pull_request_target types")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for t in [
        "opened",
        "synchronize",
        "reopened",
        "edited",
        "labeled",
        "unlabeled",
    ] {
        assert!(
            types.contains(&t),
            "pull_request_target misses {t}: {types:?}"
        );
    }
    assert!(on.get("status").is_some() && on.get("issue_comment").is_some());
    for step in steps(&w) {
        let uses = step["uses"].as_str().unwrap_or_default();
        assert!(
            !uses.contains("checkout"),
            "the gate must not check out the change: {uses}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workflows_gate_step_runs_against_the_sandbox() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let out = run_gate_step(
        workflow(),
        &[
            ("github.token", SANDBOX_TOKEN),
            ("github.event.pull_request.number", "44"),
        ],
        vec![("GITHUB_API_URL".into(), sandbox.api_base())],
    )
    .await;
    judged_44_not_approved(&out);
}

const FORGEJO_WORKFLOW: &str = include_str!("../../docs/examples/forgejo-gate.yml");

#[test]
fn the_forgejo_workflow_comes_from_the_base_branch_and_never_runs_the_change() {
    let w: Value = serde_norway::from_str(FORGEJO_WORKFLOW).expect("YAML");
    let on = &w["on"];
    assert!(on.get("pull_request").is_none(), "{on:?}");
    let types: Vec<&str> = on["pull_request_target"]["types"]
        .as_sequence()
        .expect("pull_request_target types")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for t in ["opened", "synchronize", "reopened", "edited"] {
        assert!(
            types.contains(&t),
            "pull_request_target misses {t}: {types:?}"
        );
    }
    for step in steps(&w) {
        let uses = step["uses"].as_str().unwrap_or_default();
        assert!(!uses.contains("checkout"), "{uses}");
        let run = step["run"].as_str().unwrap_or_default();
        assert!(
            !run.contains("git "),
            "the gate must not fetch the change: {run}"
        );
    }
}

/// The Forgejo example's gate step, as Forgejo Actions runs it (its
/// `GITHUB_*` variables), against the sandbox's Forgejo shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forgejo_workflows_gate_step_runs_against_the_forgejo_sandbox() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let server = sandbox
        .api_base_as(countersign_forge_sandbox::Shape::Forgejo)
        .trim_end_matches('/')
        .trim_end_matches("/api/v1")
        .to_owned();
    let out = run_gate_step(
        serde_norway::from_str(FORGEJO_WORKFLOW).unwrap(),
        &[
            ("github.token", SANDBOX_TOKEN),
            ("github.event.pull_request.number", "44"),
        ],
        vec![("GITHUB_SERVER_URL".into(), server)],
    )
    .await;
    judged_44_not_approved(&out);
}

/// It reached the sandbox and judged #44: not approved (exit 1), not a
/// usage error (exit 2).
fn judged_44_not_approved(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("acme-medical/infusion-pump-firmware#44 at"),
        "{stdout}"
    );
    assert!(stdout.contains("NOT APPROVED"), "{stdout}");
}

/// Run the step of `w` that calls `countersign verify` as the runner would:
/// its `env` with each `${{ a || b }}` given the first of `expressions` the
/// event defines, plus `extra` (the runner's own variables).
async fn run_gate_step(
    w: Value,
    expressions: &[(&str, &str)],
    extra: Vec<(String, String)>,
) -> std::process::Output {
    let step = steps(&w)
        .into_iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("countersign verify"))
        })
        .expect("a step that runs countersign verify")
        .clone();
    let script = step["run"].as_str().unwrap().to_owned();

    // The runner's working directory holds the downloaded `countersign`.
    let dir = std::env::temp_dir().join(format!(
        "countersign-gate-wf-{}-{}",
        std::process::id(),
        extra.first().map(|(k, _)| k.as_str()).unwrap_or("")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(workspace_binary("countersign"), dir.join("countersign")).unwrap();

    let expressions: BTreeMap<&str, &str> = expressions.iter().copied().collect();
    let mut env = BTreeMap::new();
    for (k, v) in step["env"].as_mapping().into_iter().flatten() {
        let mut value = v.as_str().unwrap_or_default().to_owned();
        while let Some(start) = value.find("${{") {
            let end = value[start..].find("}}").expect("closed expression") + start;
            let inner = &value[start + 3..end];
            let resolved = inner
                .split("||")
                .map(str::trim)
                .find_map(|e| expressions.get(e).map(|v| (*v).to_owned()))
                .unwrap_or_default();
            value.replace_range(start..end + 2, &resolved);
        }
        env.insert(k.as_str().unwrap().to_owned(), value);
    }
    let cwd = dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .args(["-e", "-c", &script])
            .current_dir(&cwd)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &cwd)
            .env("GITHUB_REPOSITORY", "acme-medical/infusion-pump-firmware")
            .env("GITHUB_EVENT_NAME", "pull_request_target")
            .envs(extra)
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

const GITLAB_JOB: &str = include_str!("../../docs/examples/countersign-gate.gitlab-ci.yml");

#[test]
fn the_gitlab_job_never_fetches_the_change_and_runs_only_for_merge_requests() {
    let w: Value = serde_norway::from_str(GITLAB_JOB).expect("YAML");
    let job = &w["countersign-gate"];
    assert_eq!(job["variables"]["GIT_STRATEGY"].as_str(), Some("none"));
    let rules = format!("{:?}", job["rules"]);
    assert!(rules.contains("merge_request_event"), "{rules}");
    let script: Vec<&str> = job["script"]
        .as_sequence()
        .expect("a script")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(script.iter().all(|l| !l.contains("git ")), "{script:?}");
    assert!(script
        .iter()
        .any(|l| l.contains("countersign verify --forge gitlab")));
}

/// The job's gate line, as a GitLab runner runs it (its predefined
/// variables), against the sandbox's GitLab shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gitlab_jobs_gate_line_runs_against_the_gitlab_sandbox() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let w: Value = serde_norway::from_str(GITLAB_JOB).unwrap();
    let line = w["countersign-gate"]["script"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|l| l.contains("countersign verify"))
        .expect("the gate line")
        .to_owned();
    let dir = std::env::temp_dir().join(format!("countersign-gate-gl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(workspace_binary("countersign"), dir.join("countersign")).unwrap();
    let api = sandbox.gitlab_api_base();
    let cwd = dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .args(["-e", "-c", &line])
            .current_dir(&cwd)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &cwd)
            .env("CI_API_V4_URL", api.trim_end_matches('/'))
            .env("CI_PROJECT_PATH", "acme-medical/infusion-pump-firmware")
            .env("CI_MERGE_REQUEST_IID", "44")
            .env("CI_PIPELINE_SOURCE", "merge_request_event")
            .env("COUNTERSIGN_TOKEN", SANDBOX_TOKEN)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    judged_44_not_approved(&out);
}
