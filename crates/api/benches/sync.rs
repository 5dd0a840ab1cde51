//! Sync benchmark (prints figures; not a timed test): 200 open pull requests
//! with 20 changed files each, 20 ms of latency per request at the sandbox.
//! First sync and an unchanged re-sync with the real client, then a naive
//! sequential client without caching as the baseline.
//!
//! `cargo bench -p countersign-api --bench sync [-- PULLS FILES LATENCY_MS]`;
//! `COUNTERSIGN_BENCH_SHAPE=gitea|forgejo|gitlab` syncs through that forge's
//! client and the sandbox's shape of it (the baseline stays GitHub's).

use std::time::{Duration, Instant};

use countersign_api::{ForgeTarget, LocalStores, Session};
use countersign_forge_sandbox::{RunningSandbox, Seed, SANDBOX_TOKEN};
use url::Url;

const CONCURRENCY: f64 = 8.0; // GitHubConfig's default max_concurrency

fn counters(sandbox: &RunningSandbox) -> (u64, u64) {
    let store = sandbox.store();
    let s = store.read().unwrap();
    (s.requests, s.not_modified)
}

/// What a client without a cache, without concurrency, does for the same data.
async fn naive(api: &str) -> usize {
    let http = reqwest::Client::new();
    let get = |url: String, accept: &'static str| {
        let http = http.clone();
        async move {
            http.get(url)
                .bearer_auth(SANDBOX_TOKEN)
                .header("accept", accept)
                .header("user-agent", "naive")
                .send()
                .await
                .unwrap()
        }
    };
    let mut requests = 0;
    let repos: Vec<serde_json::Value> =
        get(format!("{api}user/repos"), "application/vnd.github+json")
            .await
            .json()
            .await
            .unwrap();
    requests += 1;
    for repo in repos {
        let full = repo["full_name"].as_str().unwrap().to_owned();
        let mut next = Some(format!("{api}repos/{full}/pulls?state=open&per_page=100"));
        let mut numbers = Vec::new();
        while let Some(url) = next.take() {
            let r = get(url, "application/vnd.github+json").await;
            requests += 1;
            next = r
                .headers()
                .get("link")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| l.split(',').find(|p| p.contains("rel=\"next\"")))
                .and_then(|p| p.split(';').next())
                .map(|u| u.trim().trim_matches(['<', '>']).to_owned());
            let page: Vec<serde_json::Value> = r.json().await.unwrap();
            numbers.extend(page.iter().map(|p| p["number"].as_u64().unwrap()));
        }
        for n in numbers {
            let _ = get(
                format!("{api}repos/{full}/pulls/{n}"),
                "application/vnd.github+json",
            )
            .await
            .bytes()
            .await;
            let _ = get(
                format!("{api}repos/{full}/pulls/{n}/files?per_page=100"),
                "application/vnd.github+json",
            )
            .await
            .bytes()
            .await;
            let _ = get(
                format!("{api}repos/{full}/pulls/{n}"),
                "application/vnd.github.diff",
            )
            .await
            .bytes()
            .await;
            requests += 3;
        }
    }
    requests
}

#[tokio::main]
async fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pulls = args.first().copied().unwrap_or(200);
    let files = args.get(1).copied().unwrap_or(20);
    let latency = Duration::from_millis(u64::from(args.get(2).copied().unwrap_or(20)));

    let sandbox = RunningSandbox::start(0, Seed::Bulk { pulls, files })
        .await
        .unwrap();
    sandbox.store().write().unwrap().latency = latency;
    let dir = std::env::temp_dir().join(format!("countersign-bench-sync-{}", std::process::id()));
    let local = LocalStores::in_dir(dir.clone());
    let shape: countersign_forge_sandbox::ForgeShape = std::env::var("COUNTERSIGN_BENCH_SHAPE")
        .unwrap_or_default()
        .parse()
        .expect("COUNTERSIGN_BENCH_SHAPE");
    let api_base = sandbox.api_base_for(shape);
    let session = Session::start_with(
        ForgeTarget::Sandbox {
            api_base: Url::parse(&api_base).unwrap(),
        },
        local,
    )
    .await
    .unwrap();

    let t = Instant::now();
    let first = session.sync().await.unwrap();
    let first_time = t.elapsed();
    let (first_requests, first_not_modified) = counters(&sandbox);
    assert!(first.problems.is_empty(), "{:?}", first.problems);
    let change_requests = first.details.len();

    let t = Instant::now();
    let again = session.sync().await.unwrap();
    let resync_time = t.elapsed();
    let (total, not_modified) = counters(&sandbox);
    let resync_requests = total - first_requests;
    // A first sync may already be answered 304 where it asks twice.
    let not_modified = not_modified - first_not_modified;
    assert_eq!(again.details.len(), change_requests);

    let t = Instant::now();
    let naive_requests = naive(&sandbox.api_base()).await;
    let naive_time = t.elapsed();

    // The least any client could do: one request per page and per resource.
    let minimum = first_requests as f64;
    let floor = minimum * latency.as_secs_f64() / CONCURRENCY;
    println!("sync benchmark ({shape:?}): {change_requests} change requests × {files} files, {} ms latency per request", latency.as_millis());
    println!("  first sync:      {:>7.2} s, {first_requests} requests (floor {floor:.2} s = requests × latency ÷ {CONCURRENCY}; ratio {:.2}, target ≤ 1.5)", first_time.as_secs_f64(), first_time.as_secs_f64() / floor);
    println!("  unchanged sync:  {:>7.2} s, {resync_requests} requests, {not_modified} answered 304 ({} answered 200)", resync_time.as_secs_f64(), resync_requests - not_modified);
    println!(
        "  naive baseline:  {:>7.2} s, {naive_requests} requests, sequential, no cache",
        naive_time.as_secs_f64()
    );
    println!(
        "  speed-up over the baseline: first sync {:.1}×, unchanged sync {:.1}×",
        naive_time.as_secs_f64() / first_time.as_secs_f64(),
        naive_time.as_secs_f64() / resync_time.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(dir);
}
