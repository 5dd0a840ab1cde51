//! File contents at a ref, the Git Data API (blobs, trees, commits, refs),
//! GitHub Actions runs and artifacts, and the sandbox-only roster endpoint.

// Handlers turn a failed lookup straight into the response GitHub would send;
// boxing it would only add noise to a test server.
#![allow(clippy::result_large_err)]

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as STANDARD_NO_PAD_URL};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::render;
use crate::routes::{created, error, json_ok, viewer, writer, Params, Shared};
use crate::store::{object_id, GitObject, Repo, RosterKey, Store};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/repos/{owner}/{repo}/contents/{*path}", get(contents))
        .route("/repos/{owner}/{repo}/git/blobs", post(create_blob))
        .route("/repos/{owner}/{repo}/git/blobs/{sha}", get(blob))
        .route("/repos/{owner}/{repo}/git/trees", post(create_tree))
        .route("/repos/{owner}/{repo}/git/trees/{sha}", get(tree))
        .route("/repos/{owner}/{repo}/git/commits", post(create_commit))
        .route("/repos/{owner}/{repo}/git/commits/{sha}", get(commit))
        .route("/repos/{owner}/{repo}/git/ref/{*name}", get(one_ref))
        .route(
            "/repos/{owner}/{repo}/git/matching-refs/{*prefix}",
            get(matching_refs),
        )
        .route("/repos/{owner}/{repo}/git/refs", post(create_ref))
        .route(
            "/repos/{owner}/{repo}/git/refs/{*name}",
            axum::routing::patch(update_ref),
        )
        .route("/repos/{owner}/{repo}/actions/runs", get(runs))
        .route(
            "/repos/{owner}/{repo}/actions/runs/{id}/artifacts",
            get(run_artifacts),
        )
        .route(
            "/repos/{owner}/{repo}/actions/artifacts/{id}/zip",
            get(artifact_zip),
        )
        .route("/_blobs/artifacts/{id}", get(artifact_blob))
        .route("/_sandbox/roster", post(add_to_roster))
        .route("/login/device/code", post(device_code))
        .route("/login/device", post(approve_device))
        .route("/login/oauth/access_token", post(device_token))
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn find_repo<'a>(store: &'a Store, owner: &str, name: &str) -> Result<&'a Repo, Response> {
    store
        .repo(owner, name)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "Not Found"))
}

fn find_repo_mut<'a>(
    store: &'a mut Store,
    owner: &str,
    name: &str,
) -> Result<&'a mut Repo, Response> {
    store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == name)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "Not Found"))
}

fn reader(store: &Store, headers: &HeaderMap) -> Result<(), Response> {
    viewer(store, headers)
        .map(|_| ())
        .map_err(IntoResponse::into_response)
}

fn invalid(message: &str) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

async fn contents(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let git_ref = q
        .get("ref")
        .cloned()
        .unwrap_or_else(|| repo.default_branch.clone());
    let Some(bytes) = repo.file_at(&path, &git_ref) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let base = &store.base_url;
    let full = repo.full_name();
    let sha = object_id(&["blob", &hex::encode(&bytes)]);
    let name = path.rsplit('/').next().unwrap_or(&path);
    let api = format!("{base}/repos/{full}/contents/{path}?ref={git_ref}");
    let git = format!("{base}/repos/{full}/git/blobs/{sha}");
    let html = format!("{base}/{full}/blob/{git_ref}/{path}");
    json_ok(
        &headers,
        &json!({
            "type": "file",
            "encoding": "base64",
            "size": bytes.len(),
            "name": name,
            "path": path,
            "content": STANDARD.encode(&bytes),
            "sha": sha,
            "url": api,
            "git_url": git,
            "html_url": html,
            "download_url": format!("{base}/raw/{full}/{git_ref}/{path}"),
            "_links": {"git": git, "html": html, "self": api}
        }),
    )
}

fn blob_json(store: &Store, repo: &Repo, sha: &str, bytes: &[u8]) -> Value {
    json!({
        "sha": sha,
        "node_id": format!("B_{}", &sha[..12]),
        "url": format!("{}/repos/{}/git/blobs/{sha}", store.base_url, repo.full_name()),
        "size": bytes.len(),
        "content": STANDARD.encode(bytes),
        "encoding": "base64"
    })
}

async fn create_blob(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    if let Err(r) = writer(&store, &headers) {
        return r.into_response();
    }
    let Some(content) = body["content"].as_str() else {
        return invalid("Invalid request.\n\n\"content\" wasn't supplied.");
    };
    let bytes = match body["encoding"].as_str().unwrap_or("utf-8") {
        "utf-8" => content.as_bytes().to_vec(),
        "base64" => match STANDARD.decode(content) {
            Ok(b) => b,
            Err(_) => return invalid("Invalid request.\n\ncontent is not valid Base64"),
        },
        _ => return invalid("Invalid request.\n\nencoding must be utf-8 or base64"),
    };
    let sha = object_id(&["blob", &hex::encode(&bytes)]);
    let base = store.base_url.clone();
    let r = match find_repo_mut(&mut store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    r.git.objects.insert(sha.clone(), GitObject::Blob(bytes));
    created(&json!({"sha": sha, "url": format!("{base}/repos/{}/git/blobs/{sha}", r.full_name())}))
}

async fn blob(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match repo.git.objects.get(&sha) {
        Some(GitObject::Blob(bytes)) => json_ok(&headers, &blob_json(&store, repo, &sha, bytes)),
        _ => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn tree_json(
    store: &Store,
    repo: &Repo,
    sha: &str,
    entries: &[(String, String, String, String)],
) -> Value {
    let base = &store.base_url;
    let full = repo.full_name();
    let items: Vec<Value> = entries
        .iter()
        .map(|(path, mode, kind, esha)| {
            let size = match repo.git.objects.get(esha) {
                Some(GitObject::Blob(b)) => Some(b.len()),
                _ => None,
            };
            let mut v = json!({
                "path": path, "mode": mode, "type": kind, "sha": esha,
                "url": format!("{base}/repos/{full}/git/{kind}s/{esha}")
            });
            if let Some(size) = size {
                v["size"] = json!(size);
            }
            v
        })
        .collect();
    json!({"sha": sha, "url": format!("{base}/repos/{full}/git/trees/{sha}"), "tree": items, "truncated": false})
}

async fn create_tree(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    if let Err(r) = writer(&store, &headers) {
        return r.into_response();
    }
    let Some(items) = body["tree"].as_array() else {
        return invalid("Invalid request.\n\n\"tree\" wasn't supplied.");
    };
    let r = match find_repo_mut(&mut store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    // `base_tree`: start from its entries and replace or add the given ones.
    let mut entries: Vec<(String, String, String, String)> = match body["base_tree"].as_str() {
        None => Vec::new(),
        Some(base) => match r.git.objects.get(base) {
            Some(GitObject::Tree(e)) => e.clone(),
            _ => return invalid("base_tree is not a valid tree oid"),
        },
    };
    for item in items {
        let (Some(path), Some(mode), Some(kind), Some(sha)) = (
            item["path"].as_str(),
            item["mode"].as_str(),
            item["type"].as_str(),
            item["sha"].as_str(),
        ) else {
            return invalid("Invalid tree info");
        };
        if !r.git.objects.contains_key(sha) {
            return invalid("Invalid tree info: object not found");
        }
        entries.retain(|e| e.0 != path);
        entries.push((
            path.to_owned(),
            mode.to_owned(),
            kind.to_owned(),
            sha.to_owned(),
        ));
    }
    entries.sort();
    let id_parts: Vec<String> = entries
        .iter()
        .map(|(p, m, k, s)| format!("{m} {k} {s}\t{p}"))
        .collect();
    let refs: Vec<&str> = std::iter::once("tree")
        .chain(id_parts.iter().map(String::as_str))
        .collect();
    let sha = object_id(&refs);
    r.git
        .objects
        .insert(sha.clone(), GitObject::Tree(entries.clone()));
    let r = r.clone();
    created(&tree_json(&store, &r, &sha, &entries))
}

async fn tree(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match repo.git.objects.get(&sha) {
        Some(GitObject::Tree(entries)) => {
            json_ok(&headers, &tree_json(&store, repo, &sha, entries))
        }
        _ => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn commit_json(store: &Store, repo: &Repo, sha: &str) -> Option<Value> {
    let GitObject::Commit {
        tree,
        parents,
        message,
        date,
    } = repo.git.objects.get(sha)?
    else {
        return None;
    };
    let base = &store.base_url;
    let full = repo.full_name();
    let person = json!({"name": "Countersign", "email": "countersign@users.noreply.example", "date": ts(*date)});
    Some(json!({
        "sha": sha,
        "node_id": format!("C_{}", &sha[..12]),
        "url": format!("{base}/repos/{full}/git/commits/{sha}"),
        "html_url": format!("{base}/{full}/commit/{sha}"),
        "author": person,
        "committer": person,
        "tree": {"sha": tree, "url": format!("{base}/repos/{full}/git/trees/{tree}")},
        "message": message,
        "parents": parents.iter().map(|p| json!({
            "sha": p,
            "url": format!("{base}/repos/{full}/git/commits/{p}"),
            "html_url": format!("{base}/{full}/commit/{p}")
        })).collect::<Vec<_>>(),
        "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null}
    }))
}

async fn create_commit(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    if let Err(r) = writer(&store, &headers) {
        return r.into_response();
    }
    let (Some(message), Some(tree)) = (body["message"].as_str(), body["tree"].as_str()) else {
        return invalid("Invalid request.\n\n\"message\" and \"tree\" are required.");
    };
    let parents: Vec<String> = body["parents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let r = match find_repo_mut(&mut store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if !matches!(r.git.objects.get(tree), Some(GitObject::Tree(_))) {
        return invalid("Tree SHA does not exist");
    }
    if parents
        .iter()
        .any(|p| !matches!(r.git.objects.get(p), Some(GitObject::Commit { .. })))
    {
        return invalid("Parent SHA does not exist or is not a commit object");
    }
    let mut parts = vec!["commit", tree, message];
    parts.extend(parents.iter().map(String::as_str));
    let sha = object_id(&parts);
    r.git
        .objects
        .entry(sha.clone())
        .or_insert(GitObject::Commit {
            tree: tree.to_owned(),
            parents,
            message: message.to_owned(),
            date: Utc::now(),
        });
    let r = r.clone();
    created(&commit_json(&store, &r, &sha).expect("just stored"))
}

async fn commit(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match commit_json(&store, repo, &sha) {
        Some(v) => json_ok(&headers, &v),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn ref_json(store: &Store, repo: &Repo, full_ref: &str, sha: &str) -> Value {
    let base = &store.base_url;
    let full = repo.full_name();
    json!({
        "ref": full_ref,
        "node_id": format!("REF_{}", &object_id(&[full_ref])[..12]),
        "url": format!("{base}/repos/{full}/git/{full_ref}"),
        "object": {"type": "commit", "sha": sha, "url": format!("{base}/repos/{full}/git/commits/{sha}")}
    })
}

async fn one_ref(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let full_ref = format!("refs/{name}");
    match repo.git.refs.get(&full_ref) {
        Some(sha) => json_ok(&headers, &ref_json(&store, repo, &full_ref, sha)),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// Refs whose name starts with `refs/<prefix>`, in name order, as GitHub
/// answers them.
async fn matching_refs(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, prefix)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let wanted = format!("refs/{prefix}");
    let refs: Vec<Value> = repo
        .git
        .refs
        .iter()
        .filter(|(name, _)| name.starts_with(&wanted))
        .map(|(name, sha)| ref_json(&store, repo, name, sha))
        .collect();
    json_ok(&headers, &Value::Array(refs))
}

async fn create_ref(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    if let Err(r) = writer(&store, &headers) {
        return r.into_response();
    }
    let (Some(full_ref), Some(sha)) = (body["ref"].as_str(), body["sha"].as_str()) else {
        return invalid("Invalid request.\n\n\"ref\" and \"sha\" are required.");
    };
    // GitHub's rule: a fully qualified name with at least two slashes.
    if !full_ref.starts_with("refs/") || full_ref.matches('/').count() < 2 {
        return invalid("Reference name must start with 'refs/' and have at least two slashes.");
    }
    let r = match find_repo_mut(&mut store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if r.git.refs.contains_key(full_ref) {
        return invalid("Reference already exists");
    }
    if !matches!(r.git.objects.get(sha), Some(GitObject::Commit { .. })) {
        return invalid("Object does not exist");
    }
    r.git.refs.insert(full_ref.to_owned(), sha.to_owned());
    let r = r.clone();
    created(&ref_json(&store, &r, full_ref, sha))
}

fn is_ancestor(repo: &Repo, ancestor: &str, of: &str) -> bool {
    let mut stack = vec![of.to_owned()];
    while let Some(sha) = stack.pop() {
        if sha == ancestor {
            return true;
        }
        if let Some(GitObject::Commit { parents, .. }) = repo.git.objects.get(&sha) {
            stack.extend(parents.iter().cloned());
        }
    }
    false
}

async fn update_ref(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, name)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    if let Err(r) = writer(&store, &headers) {
        return r.into_response();
    }
    let Some(sha) = body["sha"].as_str() else {
        return invalid("Invalid request.\n\n\"sha\" wasn't supplied.");
    };
    let force = body["force"].as_bool().unwrap_or(false);
    let r = match find_repo_mut(&mut store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let full_ref = format!("refs/{name}");
    let Some(current) = r.git.refs.get(&full_ref).cloned() else {
        return invalid("Reference does not exist");
    };
    if !matches!(r.git.objects.get(sha), Some(GitObject::Commit { .. })) {
        return invalid("Object does not exist");
    }
    if !force && !is_ancestor(r, &current, sha) {
        return invalid("Update is not a fast forward");
    }
    r.git.refs.insert(full_ref.clone(), sha.to_owned());
    let r = r.clone();
    json_ok(&HeaderMap::new(), &ref_json(&store, &r, &full_ref, sha))
}

fn run_json(store: &Store, repo: &Repo, run: &crate::store::WorkflowRun) -> Value {
    let base = &store.base_url;
    let full = repo.full_name();
    let api = format!("{base}/repos/{full}/actions/runs/{}", run.id);
    let actor = repo
        .pulls
        .iter()
        .find(|p| p.head_sha == run.head_sha)
        .map(|p| p.author.clone())
        .unwrap_or_else(|| store.viewer.clone());
    let message = repo
        .pulls
        .iter()
        .find(|p| p.head_sha == run.head_sha)
        .and_then(|p| p.commits.last())
        .map(|c| c.message.clone())
        .unwrap_or_default();
    let person = json!({"name": actor, "email": format!("{actor}@users.noreply.example")});
    json!({
        "id": run.id,
        "name": run.name,
        "node_id": format!("WFR_{}", run.id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path,
        "display_title": message,
        "run_number": run.id - 30_000,
        "event": "pull_request",
        "status": run.status,
        "conclusion": (run.status == "completed").then_some(&run.conclusion),
        "workflow_id": 30_000,
        "url": api,
        "html_url": format!("{base}/{full}/actions/runs/{}", run.id),
        "pull_requests": [],
        "created_at": ts(run.created_at),
        "updated_at": ts(run.created_at + Duration::minutes(4)),
        "actor": render::simple_user(store, &actor),
        "triggering_actor": render::simple_user(store, &actor),
        "run_attempt": 1,
        "run_started_at": ts(run.created_at),
        "jobs_url": format!("{api}/jobs"),
        "logs_url": format!("{api}/logs"),
        "check_suite_url": format!("{base}/repos/{full}/check-suites/{}", run.id),
        "artifacts_url": format!("{api}/artifacts"),
        "cancel_url": format!("{api}/cancel"),
        "rerun_url": format!("{api}/rerun"),
        "workflow_url": format!("{base}/repos/{full}/actions/workflows/30000"),
        "head_commit": {
            "id": run.head_sha,
            "tree_id": object_id(&[&run.head_sha, "tree"]),
            "message": message,
            "timestamp": ts(run.created_at),
            "author": person,
            "committer": person
        },
        "repository": render::repository(store, repo),
        "head_repository": render::repository(store, repo)
    })
}

async fn runs(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let runs: Vec<Value> = repo
        .workflow_runs
        .iter()
        .filter(|r| q.get("head_sha").is_none_or(|sha| &r.head_sha == sha))
        .map(|r| run_json(&store, repo, r))
        .collect();
    crate::routes::paginated_in(
        &headers,
        &store.base_url,
        &format!("/repos/{}/actions/runs", repo.full_name()),
        &q,
        runs,
        Some("workflow_runs"),
    )
}

fn artifact_json(
    store: &Store,
    repo: &Repo,
    run: &crate::store::WorkflowRun,
    a: &crate::store::Artifact,
) -> Value {
    let base = &store.base_url;
    let full = repo.full_name();
    json!({
        "id": a.id,
        "node_id": format!("MDg_{}", a.id),
        "name": a.name,
        "size_in_bytes": a.zip.len(),
        "url": format!("{base}/repos/{full}/actions/artifacts/{}", a.id),
        "archive_download_url": format!("{base}/repos/{full}/actions/artifacts/{}/zip", a.id),
        "expired": false,
        "created_at": ts(a.created_at),
        "expires_at": ts(a.created_at + Duration::days(90)),
        "updated_at": ts(a.created_at),
        "digest": format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&a.zip))),
        "workflow_run": {
            "id": run.id,
            "repository_id": repo.id,
            "head_repository_id": repo.id,
            "head_branch": run.head_branch,
            "head_sha": run.head_sha
        }
    })
}

async fn run_artifacts(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(run) = repo.workflow_runs.iter().find(|r| r.id == id) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let list: Vec<Value> = run
        .artifacts
        .iter()
        .map(|a| artifact_json(&store, repo, run, a))
        .collect();
    crate::routes::paginated_in(
        &headers,
        &store.base_url,
        &format!("/repos/{}/actions/runs/{id}/artifacts", repo.full_name()),
        &q,
        list,
        Some("artifacts"),
    )
}

/// As on GitHub: the API answers 302 to a short-lived storage URL that needs
/// no token (here on the sandbox itself).
async fn artifact_zip(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> Response {
    let store = store.read().unwrap();
    match viewer(&store, &headers) {
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::UNAUTHORIZED, "Requires authentication"),
        Err(r) => return r.into_response(),
    }
    let repo = match find_repo(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if !repo
        .workflow_runs
        .iter()
        .any(|r| r.artifacts.iter().any(|a| a.id == id))
    {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("{}/_blobs/artifacts/{id}", store.base_url),
        )],
    )
        .into_response()
}

async fn artifact_blob(State(store): State<Shared>, Path(id): Path<u64>) -> Response {
    let store = store.read().unwrap();
    let zip = store
        .repos
        .iter()
        .flat_map(|r| r.workflow_runs.iter())
        .flat_map(|r| r.artifacts.iter())
        .find(|a| a.id == id)
        .map(|a| a.zip.clone());
    match zip {
        Some(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/zip")],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Not GitHub: the sandbox's stand-in for an administrator merging a signer's
/// enrolment into the policy roster, so that the demo can be tried end to end.
pub(crate) async fn add_to_roster(
    State(store): State<Shared>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let (Some(user_id), Some(public_key)) = (body["user_id"].as_u64(), body["public_key"].as_str())
    else {
        return invalid("user_id and public_key are required");
    };
    let valid_from = body["valid_from"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| ts(Utc::now() - Duration::minutes(5)));
    let security_keys: Vec<(String, String)> = body["security_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            let id = k["credential_id"].as_str()?.to_owned();
            let cose = serde_json::to_vec(&k["public_key"]).ok()?;
            Some((id, STANDARD_NO_PAD_URL.encode(cose)))
        })
        .collect();
    for repo in &mut store.repos {
        match repo
            .roster_keys
            .iter_mut()
            .find(|k| k.public_key == public_key)
        {
            Some(existing) => existing.security_keys = security_keys.clone(),
            None => repo.roster_keys.push(RosterKey {
                user_id,
                public_key: public_key.to_owned(),
                valid_from: valid_from.clone(),
                security_keys: security_keys.clone(),
            }),
        }
        crate::seed::refresh_policy(repo);
    }
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) fn tree_files(
    repo: &Repo,
    commit: &str,
) -> Option<std::collections::BTreeMap<String, Vec<u8>>> {
    let GitObject::Commit { tree, .. } = repo.git.objects.get(commit)? else {
        return None;
    };
    let GitObject::Tree(entries) = repo.git.objects.get(tree)? else {
        return None;
    };
    Some(
        entries
            .iter()
            .filter_map(|(path, _, _, sha)| match repo.git.objects.get(sha) {
                Some(GitObject::Blob(b)) => Some((path.clone(), b.clone())),
                _ => None,
            })
            .collect(),
    )
}

/// `POST /pulls` from a branch made through the Git Data API: the files are
/// the difference between the two branches' trees.
pub async fn create_pull(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let login = match writer(&store, &headers) {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let (Some(title), Some(head), Some(base)) = (
        body["title"].as_str(),
        body["head"].as_str(),
        body["base"].as_str(),
    ) else {
        return invalid("Validation Failed");
    };
    let text = body["body"].as_str().unwrap_or_default().to_owned();
    let r = match find_repo_mut(&mut store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (Some(head_sha), Some(base_sha)) = (
        r.git.refs.get(&format!("refs/heads/{head}")).cloned(),
        r.git.refs.get(&format!("refs/heads/{base}")).cloned(),
    ) else {
        return invalid("Validation Failed: head or base branch not found");
    };
    let (Some(new), Some(old)) = (tree_files(r, &head_sha), tree_files(r, &base_sha)) else {
        return invalid("Validation Failed: no tree");
    };
    let text_of = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
    let mut files = Vec::new();
    for path in old
        .keys()
        .chain(new.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (before, after) = (old.get(path), new.get(path));
        if before != after {
            files.push(crate::store::FileChange {
                path: path.clone(),
                previous_path: None,
                old: before.map(text_of),
                new: after.map(text_of),
            });
        }
    }
    if files.is_empty() {
        return invalid(&format!(
            "Validation Failed: No commits between {base} and {head}"
        ));
    }
    let message = match r.git.objects.get(&head_sha) {
        Some(GitObject::Commit { message, .. }) => message.clone(),
        _ => title.to_owned(),
    };
    let now = Utc::now();
    let number = r.pulls.iter().map(|p| p.number).max().unwrap_or(0) + 1;
    let pr = crate::store::PullRequest {
        number,
        id: 900_000 + number,
        title: title.to_owned(),
        body: text,
        author: login.clone(),
        labels: Vec::new(),
        draft: false,
        base_ref: base.to_owned(),
        base_sha,
        head_ref: head.to_owned(),
        head_sha: head_sha.clone(),
        created_at: now,
        updated_at: now,
        files,
        commits: vec![crate::store::Commit {
            sha: head_sha,
            message,
            author: login,
            date: now,
            author_email: None,
            committer: None,
            committer_email: None,
        }],
        check_runs: Vec::new(),
        reviews: Vec::new(),
    };
    r.pulls.push(pr.clone());
    let r = r.clone();
    created(&render::pull(&store, &r, &pr, true))
}

fn form(body: &str) -> std::collections::HashMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace('+', " ")))
        .collect()
}

fn oauth_json(value: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

/// GitHub's `POST /login/device/code`, on the forge's web host.
async fn device_code(State(store): State<Shared>, body: String) -> Response {
    let mut store = store.write().unwrap();
    let f = form(&body);
    if f.get("client_id").is_none_or(|c| c.is_empty()) {
        return oauth_json(&json!({"error": "unauthorized_client"}));
    }
    let n = store.device_codes.len() + 1;
    let device_code = object_id(&["device", &n.to_string()]);
    let user_code = format!("CSGN-{:04}", 1000 + n);
    store
        .device_codes
        .push((device_code.clone(), user_code.clone(), false));
    oauth_json(&json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": format!("{}/login/device", store.base_url),
        "expires_in": 900,
        // GitHub says 5; the sandbox lets tests poll every second.
        "interval": 1
    }))
}

/// Not GitHub's API: the sandbox's stand-in for the user typing the code into
/// the browser page at `verification_uri` and approving.
async fn approve_device(State(store): State<Shared>, body: String) -> Response {
    let mut store = store.write().unwrap();
    let code = form(&body).get("user_code").cloned().unwrap_or_default();
    match store.device_codes.iter_mut().find(|d| d.1 == code) {
        Some(d) => {
            d.2 = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// GitHub's `POST /login/oauth/access_token` with the device-code grant.
async fn device_token(State(store): State<Shared>, body: String) -> Response {
    let store = store.read().unwrap();
    let f = form(&body);
    let code = f.get("device_code").cloned().unwrap_or_default();
    match store.device_codes.iter().find(|d| d.0 == code) {
        None => oauth_json(&json!({"error": "expired_token"})),
        Some((_, _, false)) => oauth_json(&json!({"error": "authorization_pending"})),
        Some((_, _, true)) => oauth_json(&json!({
            "access_token": crate::store::SANDBOX_TOKEN,
            "token_type": "bearer",
            "scope": "repo"
        })),
    }
}
