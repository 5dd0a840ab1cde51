//! Every fault the sandbox can inject ends in a defined state: a typed error
//! or a successful retry, within a bounded time, never a panic.

use std::time::{Duration, Instant};

use countersign_forge::github::{GitHubConfig, GitHubForge};
use countersign_forge::{Forge, ForgeError, RepoId};
use countersign_forge_sandbox::{Fault, RunningSandbox, Seed, SANDBOX_TOKEN};
use url::Url;

fn client(sandbox: &RunningSandbox, timeout: Duration) -> GitHubForge {
    let mut config = GitHubConfig::new(Url::parse(&sandbox.api_base()).unwrap());
    config.token = Some(SANDBOX_TOKEN.into());
    config.timeout = timeout;
    GitHubForge::new(config).unwrap()
}

fn repo() -> RepoId {
    RepoId::new("acme-medical", "infusion-pump-firmware")
}

async fn with_fault(
    fault: Fault,
    times: Option<u32>,
) -> (Result<usize, ForgeError>, u64, Duration) {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    sandbox
        .store()
        .write()
        .unwrap()
        .inject("/pulls", fault, times);
    let forge = client(&sandbox, Duration::from_millis(800));
    let started = Instant::now();
    // An outer bound: no fault may make the client hang.
    let result = tokio::time::timeout(Duration::from_secs(20), forge.open_change_requests(&repo()))
        .await
        .expect("the client gave up within 20 s")
        .map(|list| list.len());
    let requests = sandbox.store().read().unwrap().requests;
    (result, requests, started.elapsed())
}

#[tokio::test]
async fn transient_server_errors_are_retried_then_succeed() {
    for code in [500, 502, 503] {
        let (result, requests, _) = with_fault(Fault::Status(code), Some(2)).await;
        assert_eq!(result.unwrap(), 4, "{code}");
        assert_eq!(requests, 3, "{code}: two failures and one success");
    }
}

#[tokio::test]
async fn persistent_server_errors_end_in_a_typed_error_after_bounded_retries() {
    let (result, requests, _) = with_fault(Fault::Status(503), None).await;
    assert!(
        matches!(result, Err(ForgeError::Status { status: 503, .. })),
        "{result:?}"
    );
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried_a_bounded_number_of_times() {
    let (result, requests, elapsed) = with_fault(Fault::Slow(Duration::from_secs(5)), None).await;
    match result {
        Err(e @ ForgeError::Network { .. }) => assert_eq!(e.code(), "forge.unreachable"),
        other => panic!("{other:?}"),
    }
    assert_eq!(requests, 3);
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let (result, _, _) = with_fault(Fault::Slow(Duration::from_secs(5)), Some(1)).await;
    assert_eq!(result.unwrap(), 4, "a single slow answer is retried");
}

#[tokio::test]
async fn a_reset_connection_is_a_network_error_or_a_retry() {
    let (result, _, _) = with_fault(Fault::ResetConnection, None).await;
    assert!(
        matches!(result, Err(ForgeError::Network { .. })),
        "{result:?}"
    );
    let (result, _, _) = with_fault(Fault::ResetConnection, Some(1)).await;
    assert_eq!(result.unwrap(), 4);
}

#[tokio::test]
async fn rate_limits_are_a_state_with_a_time_and_are_not_hammered() {
    let (result, requests, _) = with_fault(Fault::PrimaryRateLimit { reset_in: 600 }, None).await;
    match result {
        Err(ForgeError::RateLimited { until }) => {
            let ahead = until - chrono::Utc::now();
            assert!(
                ahead > chrono::Duration::seconds(590) && ahead <= chrono::Duration::seconds(600),
                "{ahead}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(requests, 1, "no retry into a rate limit");
    let (result, requests, _) =
        with_fault(Fault::SecondaryRateLimit { retry_after: 61 }, None).await;
    assert!(
        matches!(result, Err(ForgeError::RateLimited { .. })),
        "{result:?}"
    );
    assert_eq!(requests, 1);
}

/// A gate must not go red on a limit it could have waited out: up to 60 s
/// (`Retry-After` or `X-RateLimit-Reset`) is waited, then the request retried.
#[tokio::test]
async fn a_short_rate_limit_is_waited_out_and_retried() {
    for fault in [
        Fault::SecondaryRateLimit { retry_after: 1 },
        Fault::PrimaryRateLimit { reset_in: 2 },
    ] {
        let (result, requests, elapsed) = with_fault(fault.clone(), Some(1)).await;
        assert_eq!(result.unwrap(), 4, "{fault:?}");
        assert_eq!(requests, 2, "{fault:?}: one limited, one answered");
        assert!(
            elapsed >= Duration::from_millis(900),
            "{fault:?}: {elapsed:?}"
        );
    }
    // Still limited after the wait: a typed error, not a loop.
    let (result, requests, _) =
        with_fault(Fault::SecondaryRateLimit { retry_after: 1 }, None).await;
    assert!(
        matches!(result, Err(ForgeError::RateLimited { .. })),
        "{result:?}"
    );
    assert_eq!(requests, 2);
}

#[tokio::test]
async fn bad_bodies_are_contract_errors_naming_the_endpoint() {
    for fault in [
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::WrongContentType,
        Fault::HugeBody {
            bytes: 50 * 1024 * 1024,
        },
    ] {
        let (result, _, _) = with_fault(fault.clone(), None).await;
        match result {
            Err(ForgeError::Contract { endpoint, detail }) => {
                assert!(endpoint.contains("/pulls"), "{fault:?}: {endpoint}");
                assert!(!detail.is_empty());
            }
            other => panic!("{fault:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn missing_required_fields_are_named() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    sandbox
        .store()
        .write()
        .unwrap()
        .inject("/user", Fault::MalformedJson, None);
    let err = client(&sandbox, Duration::from_secs(2))
        .current_user()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forge.contract_violation");
    assert!(err.to_string().contains("/user"), "{err}");
}

#[tokio::test]
async fn unchanged_lists_are_revalidated_with_etags() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let forge = client(&sandbox, Duration::from_secs(2));
    let first = forge.open_change_requests(&repo()).await.unwrap();
    let second = forge.open_change_requests(&repo()).await.unwrap();
    assert_eq!(first, second, "a 304 serves the cached body");
    let store = sandbox.store();
    let s = store.read().unwrap();
    assert_eq!(
        (s.requests, s.not_modified),
        (2, 1),
        "the second request was conditional and answered 304"
    );
}

#[tokio::test]
async fn an_artifact_download_stops_at_its_limit_and_leaves_no_file() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let forge = client(&sandbox, Duration::from_secs(5));
    let head = forge
        .change_request(&repo(), 42)
        .await
        .unwrap()
        .summary
        .head_sha;
    let artifacts = forge.artifacts(&repo(), &head).await.unwrap();
    let dest = std::env::temp_dir().join(format!("countersign-fault-{}.zip", std::process::id()));
    // The storage URL streams 50 MB where the artifact said it was small.
    sandbox.store().write().unwrap().inject(
        "/_blobs/artifacts/",
        Fault::HugeBody {
            bytes: 50 * 1024 * 1024,
        },
        None,
    );
    let err = forge
        .download_artifact(&repo(), &artifacts[0], &dest, 1024 * 1024)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    assert!(!dest.exists(), "a partial download is removed");
    // An artifact that says it is too big is not downloaded at all.
    let mut big = artifacts[0].clone();
    big.size_bytes = 2 * 1024 * 1024;
    let before = sandbox.store().read().unwrap().requests;
    assert!(forge
        .download_artifact(&repo(), &big, &dest, 1024 * 1024)
        .await
        .is_err());
    assert_eq!(sandbox.store().read().unwrap().requests, before);
}

#[tokio::test]
async fn a_diff_over_the_forges_limit_is_a_typed_error_not_a_partial_diff() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    sandbox.store().write().unwrap().diff_limit_files = Some(1);
    let forge = client(&sandbox, Duration::from_secs(5));
    let err = forge.unified_diff(&repo(), 42).await.unwrap_err();
    assert_eq!(err.code(), "forge.too_large", "{err}");
}
