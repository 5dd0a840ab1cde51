//! The same sandbox state in Gitea's and Forgejo's REST shape (`/api/v1`,
//! and Forgejo's at `/forgejo/api/v1`): the routes the Gitea client uses,
//! with their JSON, `limit`/`page` pagination, `Link` and `X-Total-Count`.
//! Records live on branches written through the contents API, as on those
//! forges, which cannot write other refs.

// Handlers answer early with a ready response, as in `git.rs`.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::render;
use crate::routes::{respond, viewer, writer, Params, Shared};
use crate::store::{object_id, GitObject, PullRequest, Repo, Store};

/// Which of the two forges a route answers as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Gitea,
    Forgejo,
}

/// The Actions user that reports workflow results as commit statuses; its
/// id is negative, so no account can be it.
const ACTIONS_USER_ID: i64 = -2;

impl Shape {
    fn actions_user(self) -> &'static str {
        match self {
            Shape::Gitea => "gitea-actions",
            Shape::Forgejo => "forgejo-actions",
        }
    }

    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Shape::Gitea => "/api/v1",
            Shape::Forgejo => "/forgejo/api/v1",
        }
    }
}

pub(crate) fn routes(shape: Shape) -> Router<Shared> {
    Router::new()
        .route("/user", get(user))
        .route("/user/repos", get(user_repos))
        .route("/repos/{owner}/{repo}", get(one_repo))
        .route("/repos/{owner}/{repo}/pulls", get(pulls).post(create_pull))
        .route("/repos/{owner}/{repo}/pulls/{index}", get(one_pull))
        .route("/repos/{owner}/{repo}/pulls/{index}/files", get(pull_files))
        .route(
            "/repos/{owner}/{repo}/pulls/{index}/commits",
            get(pull_commits),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{index}/reviews",
            get(pull_reviews),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{sha}/status",
            get(combined_status),
        )
        .route("/repos/{owner}/{repo}/statuses/{sha}", post(create_status))
        .route(
            "/repos/{owner}/{repo}/issues/{index}/comments",
            get(list_comments).post(create_comment),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}",
            patch(update_comment),
        )
        .route(
            "/repos/{owner}/{repo}/contents/{*path}",
            get(contents).post(write_contents).put(write_contents),
        )
        .route("/repos/{owner}/{repo}/git/refs/{*name}", get(refs))
        .route("/repos/{owner}/{repo}/git/blobs/{sha}", get(blob))
        .route("/repos/{owner}/{repo}/commits", get(commits))
        .route("/repos/{owner}/{repo}/actions/runs", get(runs))
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run}/artifacts",
            get(run_artifacts),
        )
        .route(
            "/repos/{owner}/{repo}/actions/artifacts/{id}/zip",
            get(artifact_zip),
        )
        // Sandbox-only, as at the GitHub-shaped root: stands in for the
        // administrator who adds an enrolled key to the policy roster.
        .route("/_sandbox/roster", post(crate::git::add_to_roster))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found") })
        .layer(Extension(shape))
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Gitea's error body.
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        json!({"message": message, "url": "https://docs.gitea.com/api"}).to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "The target couldn't be found.")
}

fn json_ok(request: &HeaderMap, value: &Value) -> Response {
    respond(
        request,
        "application/json;charset=utf-8",
        value.to_string(),
        None,
    )
}

fn created(value: &Value) -> Response {
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

/// One page (`page`, `limit`, at most 50) with `Link` and `X-Total-Count`.
fn paginated(
    request: &HeaderMap,
    url: &str,
    q: &HashMap<String, String>,
    items: Vec<Value>,
    wrap: Option<&str>,
) -> Response {
    let crate::routes::Page { slice, total, link } =
        crate::routes::page_of(url, q, items, "limit", 50);
    let body = match wrap {
        None => Value::Array(slice),
        Some(key) => json!({"total_count": total, key: slice}),
    };
    let mut response = respond(
        request,
        "application/json;charset=utf-8",
        body.to_string(),
        link,
    );
    response.headers_mut().remove("x-github-media-type");
    response.headers_mut().insert(
        "x-total-count",
        HeaderValue::from_str(&total.to_string()).expect("digits"),
    );
    response
}

fn api(store: &Store, shape: Shape) -> String {
    format!("{}{}", store.base_url, shape.prefix())
}

fn user_json(store: &Store, login: &str) -> Value {
    let u = store.user(login);
    let id = u.map_or(0, |u| u.id as i64);
    json!({
        "id": id,
        "login": login,
        "login_name": "",
        "source_id": 0,
        "full_name": u.map_or("", |u| u.name.as_str()),
        "email": format!("{login}@noreply.localhost"),
        "avatar_url": format!("{}/avatars/{login}", store.base_url),
        "html_url": format!("{}/{login}", store.base_url),
        "language": "",
        "is_admin": false,
        "last_login": "2026-01-01T00:00:00Z",
        "created": "2024-01-01T00:00:00Z",
        "restricted": false,
        "active": true,
        "prohibit_login": false,
        "location": "",
        "website": "",
        "description": "",
        "visibility": "public",
        "followers_count": 0,
        "following_count": 0,
        "starred_repos_count": 0
    })
}

fn actions_user(store: &Store, shape: Shape) -> Value {
    let mut v = user_json(store, shape.actions_user());
    v["id"] = json!(ACTIONS_USER_ID);
    v["full_name"] = json!("");
    v
}

fn repo_json(store: &Store, shape: Shape, repo: &Repo) -> Value {
    let full = repo.full_name();
    json!({
        "id": repo.id,
        "owner": user_json(store, &repo.owner),
        "name": repo.name,
        "full_name": full,
        "description": repo.description,
        "empty": false,
        "private": true,
        "fork": false,
        "template": false,
        "mirror": false,
        "size": 1024,
        "html_url": format!("{}/{full}", store.base_url),
        "url": format!("{}/repos/{full}", api(store, shape)),
        "clone_url": format!("{}/{full}.git", store.base_url),
        "default_branch": repo.default_branch,
        "archived": false,
        "has_actions": true,
        "has_pull_requests": true,
        "created_at": ts(repo.created_at),
        "updated_at": ts(repo.created_at),
        "permissions": {"admin": false, "push": true, "pull": true}
    })
}

fn find<'a>(store: &'a Store, owner: &str, repo: &str) -> Result<&'a Repo, Response> {
    store.repo(owner, repo).ok_or_else(not_found)
}

/// The credential check every route makes; `Err` is the answer to give.
fn reader(store: &Store, headers: &HeaderMap) -> Result<(), Response> {
    viewer(store, headers)
        .map(|_| ())
        .map_err(|_| error(StatusCode::UNAUTHORIZED, "user does not exist"))
}

/// The repository a read names, once the credential is accepted.
fn readable_repo<'a>(
    store: &'a Store,
    headers: &HeaderMap,
    owner: &str,
    repo: &str,
) -> Result<&'a Repo, Response> {
    reader(store, headers)?;
    find(store, owner, repo)
}

fn pull_number(index: &str) -> Option<u64> {
    index.parse().ok()
}

fn branch_json(store: &Store, shape: Shape, repo: &Repo, name: &str, sha: &str) -> Value {
    json!({
        "label": name,
        "ref": name,
        "sha": sha,
        "repo_id": repo.id,
        "repo": repo_json(store, shape, repo)
    })
}

fn pull_json(store: &Store, shape: Shape, repo: &Repo, pr: &PullRequest) -> Value {
    let full = repo.full_name();
    let html = format!("{}/{full}/pulls/{}", store.base_url, pr.number);
    let (additions, deletions) = pr.files.iter().fold((0, 0), |(a, d), f| {
        let (fa, fd) = render::line_counts(f);
        (a + fa, d + fd)
    });
    let labels: Vec<Value> = pr
        .labels
        .iter()
        .enumerate()
        .map(|(i, name)| json!({"id": i + 1, "name": name, "color": "e11d21", "description": "", "exclusive": false, "is_archived": false, "url": format!("{}/repos/{full}/labels/{}", api(store, shape), i + 1)}))
        .collect();
    json!({
        "id": pr.id,
        "url": format!("{}/repos/{full}/pulls/{}", api(store, shape), pr.number),
        "number": pr.number,
        "user": user_json(store, &pr.author),
        "title": pr.title,
        "body": pr.body,
        "labels": labels,
        "state": "open",
        "draft": pr.draft,
        "is_locked": false,
        "comments": 0,
        "additions": additions,
        "deletions": deletions,
        "changed_files": pr.files.len(),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "mergeable": true,
        "merged": false,
        "base": branch_json(store, shape, repo, &pr.base_ref, &pr.base_sha),
        "head": branch_json(store, shape, repo, &pr.head_ref, &pr.head_sha),
        "merge_base": pr.base_sha,
        "created_at": ts(pr.created_at),
        "updated_at": ts(pr.updated_at),
        "allow_maintainer_edit": false,
        "requested_reviewers": [],
        "review_comments": 0
    })
}

async fn user(State(store): State<Shared>, headers: HeaderMap) -> Response {
    let store = store.read().unwrap();
    match viewer(&store, &headers) {
        Ok(Some(login)) => json_ok(&headers, &user_json(&store, &login)),
        _ => error(StatusCode::UNAUTHORIZED, "user does not exist"),
    }
}

async fn user_repos(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    let items = store
        .repos
        .iter()
        .map(|r| repo_json(&store, shape, r))
        .collect();
    let url = format!("{}/user/repos", api(&store, shape));
    paginated(&headers, &url, &q, items, None)
}

async fn one_repo(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = reader(&store, &headers) {
        return r;
    }
    match find(&store, &owner, &repo) {
        Ok(r) => json_ok(&headers, &repo_json(&store, shape, r)),
        Err(e) => e,
    }
}

async fn pulls(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut list: Vec<&PullRequest> = if q.get("state").map(String::as_str) == Some("closed") {
        Vec::new()
    } else {
        repo.pulls.iter().collect()
    };
    list.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let items = list
        .into_iter()
        .map(|p| pull_json(&store, shape, repo, p))
        .collect();
    let url = format!("{}/repos/{}/pulls", api(&store, shape), repo.full_name());
    paginated(&headers, &url, &q, items, None)
}

/// `pulls/{index}` and `pulls/{index}.diff` share the route.
async fn one_pull(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, index)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (number, diff) = match index.strip_suffix(".diff") {
        Some(n) => (pull_number(n), true),
        None => (pull_number(&index), false),
    };
    let Some(pr) = number.and_then(|n| repo.pull(n)) else {
        return not_found();
    };
    if diff {
        let mut r = respond(
            &headers,
            "text/plain;charset=utf-8",
            render::unified_diff(pr),
            None,
        );
        r.headers_mut().remove("x-github-media-type");
        return r;
    }
    json_ok(&headers, &pull_json(&store, shape, repo, pr))
}

fn readable<'a>(
    store: &'a Store,
    headers: &HeaderMap,
    owner: &str,
    repo: &str,
    index: u64,
) -> Result<(&'a Repo, &'a PullRequest), Response> {
    let repo = readable_repo(store, headers, owner, repo)?;
    let pr = repo.pull(index).ok_or_else(not_found)?;
    Ok((repo, pr))
}

async fn pull_files(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, index)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable(&store, &headers, &owner, &repo, index) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let full = repo.full_name();
    let items = pr
        .files
        .iter()
        .map(|f| {
            let (additions, deletions) = render::line_counts(f);
            let status = match render::Change::of(f) {
                render::Change::Added => "added",
                render::Change::Removed => "deleted",
                render::Change::Renamed => "renamed",
                render::Change::Modified => "modified",
            };
            json!({
                "filename": f.path,
                "previous_filename": f.previous_path.clone().unwrap_or_default(),
                "status": status,
                "additions": additions,
                "deletions": deletions,
                "changes": additions + deletions,
                "html_url": format!("{}/{full}/src/commit/{}/{}", store.base_url, pr.head_sha, f.path),
                "contents_url": format!("{}/repos/{full}/contents/{}?ref={}", api(&store, shape), f.path, pr.head_sha),
                "raw_url": format!("{}/{full}/raw/commit/{}/{}", store.base_url, pr.head_sha, f.path)
            })
        })
        .collect();
    let url = format!("{}/repos/{full}/pulls/{index}/files", api(&store, shape));
    paginated(&headers, &url, &q, items, None)
}

/// A commit as the commits lists show it.
struct CommitFacts<'a> {
    sha: &'a str,
    message: &'a str,
    author: &'a str,
    author_email: Option<&'a str>,
    committer: Option<&'a str>,
    date: DateTime<Utc>,
    parents: &'a [String],
}

fn commit_json(store: &Store, shape: Shape, repo: &Repo, c: CommitFacts<'_>) -> Value {
    let CommitFacts {
        sha,
        message,
        author,
        author_email,
        committer,
        date,
        parents,
    } = c;
    let full = repo.full_name();
    let base = api(store, shape);
    let account = |login: &str| {
        if store.user(login).is_some() {
            user_json(store, login)
        } else {
            Value::Null
        }
    };
    let committer_login = committer.unwrap_or(author);
    let email = |login: &str, e: Option<&str>| {
        e.map(str::to_owned)
            .unwrap_or_else(|| format!("{login}@noreply.localhost"))
    };
    json!({
        "sha": sha,
        "url": format!("{base}/repos/{full}/git/commits/{sha}"),
        "html_url": format!("{}/{full}/commit/{sha}", store.base_url),
        "created": ts(date),
        "commit": {
            "message": message,
            "url": format!("{base}/repos/{full}/git/commits/{sha}"),
            "author": {"name": author, "email": email(author, author_email), "date": ts(date)},
            "committer": {"name": committer_login, "email": email(committer_login, None), "date": ts(date)},
            "tree": {"sha": object_id(&[sha, "tree"]), "url": format!("{base}/repos/{full}/git/trees/{sha}"), "created": ts(date)}
        },
        "author": account(author),
        "committer": account(committer_login),
        "parents": parents.iter().map(|p| json!({"sha": p, "url": format!("{base}/repos/{full}/git/commits/{p}"), "created": ts(date)})).collect::<Vec<_>>()
    })
}

async fn pull_commits(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, index)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable(&store, &headers, &owner, &repo, index) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let mut parent = pr.base_sha.clone();
    let items = pr
        .commits
        .iter()
        .map(|c| {
            let v = commit_json(
                &store,
                shape,
                repo,
                CommitFacts {
                    sha: &c.sha,
                    message: &c.message,
                    author: &c.author,
                    author_email: c.author_email.as_deref(),
                    committer: c.committer.as_deref(),
                    date: c.date,
                    parents: std::slice::from_ref(&parent),
                },
            );
            parent = c.sha.clone();
            v
        })
        .collect();
    let url = format!(
        "{}/repos/{}/pulls/{index}/commits",
        api(&store, shape),
        repo.full_name()
    );
    paginated(&headers, &url, &q, items, None)
}

async fn pull_reviews(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, index)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable(&store, &headers, &owner, &repo, index) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let full = repo.full_name();
    let items = pr
        .reviews
        .iter()
        .enumerate()
        .map(|(i, (login, state, body))| {
            let state = match state.as_str() {
                "CHANGES_REQUESTED" => "REQUEST_CHANGES",
                "COMMENTED" => "COMMENT",
                other => other,
            };
            json!({
                "id": pr.id * 100 + i as u64,
                "user": user_json(&store, login),
                "body": body,
                "state": state,
                "commit_id": pr.head_sha,
                "official": true,
                "stale": false,
                "dismissed": false,
                "comments_count": 0,
                "submitted_at": ts(pr.updated_at),
                "updated_at": ts(pr.updated_at),
                "html_url": format!("{}/{full}/pulls/{index}#issuecomment-{}", store.base_url, pr.id * 100 + i as u64),
                "pull_request_url": format!("{}/{full}/pulls/{index}", store.base_url)
            })
        })
        .collect();
    let url = format!("{}/repos/{full}/pulls/{index}/reviews", api(&store, shape));
    paginated(&headers, &url, &q, items, None)
}

fn status_json(store: &Store, shape: Shape, repo: &Repo, s: &crate::store::CommitStatus) -> Value {
    let creator = if s.creator == shape.actions_user() {
        actions_user(store, shape)
    } else {
        user_json(store, &s.creator)
    };
    json!({
        "id": s.id,
        "status": s.state,
        "target_url": s.target_url.clone().unwrap_or_default(),
        "description": s.description,
        "url": format!("{}/repos/{}/statuses/{}", api(store, shape), repo.full_name(), s.id),
        "context": s.context,
        "creator": creator,
        "created_at": ts(s.created_at),
        "updated_at": ts(s.created_at)
    })
}

/// The statuses of a commit, latest per context; a pull request's check
/// runs appear as the statuses Gitea's Actions would have set for them.
async fn combined_status(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut latest: Vec<crate::store::CommitStatus> = Vec::new();
    for (s_sha, st) in repo.statuses.iter().rev() {
        if *s_sha == sha && !latest.iter().any(|l| l.context == st.context) {
            latest.push(st.clone());
        }
    }
    if let Some(pr) = repo.pulls.iter().find(|p| p.head_sha == sha) {
        for run in &pr.check_runs {
            if run.app.as_deref() == Some("github-actions")
                && !latest.iter().any(|l| l.context == run.name)
            {
                latest.push(crate::store::CommitStatus {
                    id: run.id,
                    context: run.name.clone(),
                    state: run.conclusion.clone(),
                    description: format!("{} {}", run.name, run.conclusion),
                    target_url: None,
                    creator: shape.actions_user().to_owned(),
                    created_at: run.completed_at,
                });
            }
        }
    }
    let state = if latest.is_empty() || latest.iter().any(|s| s.state == "pending") {
        "pending"
    } else if latest.iter().all(|s| s.state == "success") {
        "success"
    } else {
        "failure"
    };
    let full = repo.full_name();
    json_ok(
        &headers,
        &json!({
            "state": state,
            "sha": sha,
            "total_count": latest.len(),
            "statuses": latest.iter().map(|s| status_json(&store, shape, repo, s)).collect::<Vec<_>>(),
            "repository": repo_json(&store, shape, repo),
            "commit_url": format!("{}/repos/{full}/git/commits/{sha}", api(&store, shape)),
            "url": format!("{}/repos/{full}/commits/{sha}/status", api(&store, shape))
        }),
    )
}

async fn create_status(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let login = match writer(&store, &headers) {
        Ok(l) => l,
        Err(_) => return error(StatusCode::UNAUTHORIZED, "user does not exist"),
    };
    let state = body["state"].as_str().unwrap_or("");
    if !matches!(
        state,
        "pending" | "success" | "error" | "failure" | "warning" | "skipped"
    ) {
        return error(StatusCode::BAD_REQUEST, "invalid state");
    }
    let id = store.next_status_id();
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return not_found();
    };
    let status = crate::store::CommitStatus {
        id,
        context: body["context"].as_str().unwrap_or("default").to_owned(),
        state: state.to_owned(),
        description: body["description"].as_str().unwrap_or("").to_owned(),
        target_url: body["target_url"]
            .as_str()
            .filter(|u| !u.is_empty())
            .map(str::to_owned),
        creator: login,
        created_at: Utc::now(),
    };
    r.statuses.push((sha, status.clone()));
    let r = r.clone();
    created(&status_json(&store, shape, &r, &status))
}

fn comment_json(store: &Store, repo: &Repo, c: &crate::store::Comment) -> Value {
    let full = repo.full_name();
    json!({
        "id": c.id,
        "html_url": format!("{}/{full}/pulls/{}#issuecomment-{}", store.base_url, c.issue, c.id),
        "pull_request_url": format!("{}/{full}/pulls/{}", store.base_url, c.issue),
        "issue_url": "",
        "user": user_json(store, &c.author),
        "original_author": "",
        "original_author_id": 0,
        "body": c.body,
        "assets": [],
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at)
    })
}

async fn list_comments(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, index)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let items = repo
        .comments
        .iter()
        .filter(|c| c.issue == index)
        .map(|c| comment_json(&store, repo, c))
        .collect();
    let url = format!(
        "{}/repos/{}/issues/{index}/comments",
        api(&store, shape),
        repo.full_name()
    );
    paginated(&headers, &url, &q, items, None)
}

async fn create_comment(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, index)): Path<(String, String, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let login = match writer(&store, &headers) {
        Ok(l) => l,
        Err(_) => return error(StatusCode::UNAUTHORIZED, "user does not exist"),
    };
    let Some(text) = body["body"].as_str() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "[Body]: Required");
    };
    let id = store.next_comment_id();
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return not_found();
    };
    if r.pull(index).is_none() {
        return not_found();
    }
    let now = Utc::now();
    let comment = crate::store::Comment {
        id,
        issue: index,
        body: text.to_owned(),
        author: login,
        created_at: now,
        updated_at: now,
    };
    r.comments.push(comment.clone());
    let r = r.clone();
    created(&comment_json(&store, &r, &comment))
}

async fn update_comment(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let login = match writer(&store, &headers) {
        Ok(l) => l,
        Err(_) => return error(StatusCode::UNAUTHORIZED, "user does not exist"),
    };
    let Some(text) = body["body"].as_str() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "[Body]: Required");
    };
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return not_found();
    };
    let Some(c) = r.comments.iter_mut().find(|c| c.id == id) else {
        return not_found();
    };
    // Gitea lets only the poster (or an admin) edit a comment.
    if c.author != login {
        return error(StatusCode::FORBIDDEN, "user should be the poster");
    }
    c.body = text.to_owned();
    c.updated_at = Utc::now();
    let c = c.clone();
    let r = r.clone();
    json_ok(&HeaderMap::new(), &comment_json(&store, &r, &c))
}

/// The files at `git_ref` when it is a branch or commit written through the
/// contents API (`None` otherwise).
pub(crate) fn written_files(repo: &Repo, git_ref: &str) -> Option<BTreeMap<String, Vec<u8>>> {
    let commit = repo
        .git
        .refs
        .get(&format!("refs/heads/{git_ref}"))
        .cloned()
        .unwrap_or_else(|| git_ref.to_owned());
    crate::git::tree_files(repo, &commit)
}

/// Every path at `git_ref` (to answer for directories).
fn paths_at(repo: &Repo, git_ref: &str) -> BTreeSet<String> {
    if let Some(files) = written_files(repo, git_ref) {
        return files.into_keys().collect();
    }
    let mut paths: BTreeSet<String> = repo.base_files.keys().cloned().collect();
    if let Some(pr) = repo
        .pulls
        .iter()
        .find(|p| p.head_sha == git_ref || p.head_ref == git_ref)
    {
        for f in &pr.files {
            if f.new.is_some() {
                paths.insert(f.path.clone());
            } else {
                paths.remove(&f.path);
            }
        }
    }
    paths
}

pub(crate) fn file_at(repo: &Repo, path: &str, git_ref: &str) -> Option<Vec<u8>> {
    match written_files(repo, git_ref) {
        Some(files) => files.get(path).cloned(),
        None => repo.file_at(path, git_ref),
    }
}

pub(crate) fn blob_sha(bytes: &[u8]) -> String {
    object_id(&["blob", &hex::encode(bytes)])
}

fn content_json(
    store: &Store,
    shape: Shape,
    repo: &Repo,
    path: &str,
    git_ref: &str,
    bytes: &[u8],
) -> Value {
    let full = repo.full_name();
    let sha = blob_sha(bytes);
    let self_url = format!(
        "{}/repos/{full}/contents/{path}?ref={git_ref}",
        api(store, shape)
    );
    let git = format!("{}/repos/{full}/git/blobs/{sha}", api(store, shape));
    let html = format!("{}/{full}/src/{git_ref}/{path}", store.base_url);
    json!({
        "name": path.rsplit('/').next().unwrap_or(path),
        "path": path,
        "sha": sha,
        "type": "file",
        "size": bytes.len(),
        "encoding": "base64",
        "content": STANDARD.encode(bytes),
        "url": self_url,
        "html_url": html,
        "git_url": git,
        "download_url": format!("{}/{full}/raw/{git_ref}/{path}", store.base_url),
        "_links": {"self": self_url, "git": git, "html": html}
    })
}

async fn contents(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let git_ref = q
        .get("ref")
        .cloned()
        .unwrap_or_else(|| repo.default_branch.clone());
    if let Some(bytes) = file_at(repo, &path, &git_ref) {
        return json_ok(
            &headers,
            &content_json(&store, shape, repo, &path, &git_ref, &bytes),
        );
    }
    let dir = format!("{}/", path.trim_end_matches('/'));
    let inside: Vec<Value> = paths_at(repo, &git_ref)
        .into_iter()
        .filter_map(|p| {
            let rest = p.strip_prefix(&dir)?;
            let bytes = file_at(repo, &p, &git_ref)?;
            (!rest.contains('/')).then(|| {
                let mut v = content_json(&store, shape, repo, &p, &git_ref, &bytes);
                // Gitea lists a directory without the files' contents.
                v["content"] = Value::Null;
                v["encoding"] = Value::Null;
                v
            })
        })
        .collect();
    if inside.is_empty() {
        return not_found();
    }
    json_ok(&headers, &Value::Array(inside))
}

/// `POST` creates a file (on `new_branch` made from `branch`, if given);
/// `PUT` replaces one and must name the blob it replaces.
async fn write_contents(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    method: axum::http::Method,
    headers: HeaderMap,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let login = match writer(&store, &headers) {
        Ok(l) => l,
        Err(_) => return error(StatusCode::UNAUTHORIZED, "user does not exist"),
    };
    let Some(bytes) = body["content"]
        .as_str()
        .and_then(|c| STANDARD.decode(c).ok())
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "[Content]: Required, base64",
        );
    };
    let message = body["message"].as_str().unwrap_or("Update").to_owned();
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return not_found();
    };
    let branch = body["branch"]
        .as_str()
        .unwrap_or(&r.default_branch)
        .to_owned();
    let new_branch = body["new_branch"].as_str().filter(|b| !b.is_empty());
    let target = new_branch.unwrap_or(&branch).to_owned();
    if new_branch.is_some() && r.git.refs.contains_key(&format!("refs/heads/{target}")) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("branch already exists [name: {target}]"),
        );
    }
    // The branch the write starts from: one written here, or (for a new
    // branch) the base, whose files this sandbox does not keep as objects.
    let from = r.git.refs.get(&format!("refs/heads/{branch}")).cloned();
    if from.is_none() && branch != r.default_branch {
        return not_found();
    }
    let mut files = from
        .as_deref()
        .and_then(|c| crate::git::tree_files(r, c))
        .unwrap_or_default();
    let current = files
        .get(&path)
        .cloned()
        .or_else(|| from.is_none().then(|| r.file_at(&path, &branch)).flatten());
    match (method == axum::http::Method::PUT, &current) {
        (false, Some(_)) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("repository file already exists [path: {path}]"),
            )
        }
        (true, None) => return not_found(),
        (true, Some(old)) => {
            if body["sha"].as_str() != Some(blob_sha(old).as_str()) {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!(
                        "sha does not match [given: {}, expected: {}]",
                        body["sha"].as_str().unwrap_or(""),
                        blob_sha(old)
                    ),
                );
            }
        }
        (false, None) => {}
    }
    files.insert(path.clone(), bytes.clone());
    let parents: Vec<String> = from.iter().cloned().collect();
    let now = Utc::now();
    let commit = commit_on_branch(r, &target, &files, &parents, &message, now);
    let r = r.clone();
    let value = json!({
        "content": content_json(&store, shape, &r, &path, &target, &bytes),
        "commit": commit_json(&store, shape, &r, CommitFacts { sha: &commit, message: &message, author: &login, author_email: None, committer: None, date: now, parents: &parents }),
        "verification": {"verified": false, "reason": "gpg.error.not_signed_commit", "signature": "", "payload": ""}
    });
    if method == axum::http::Method::PUT {
        json_ok(&HeaderMap::new(), &value)
    } else {
        created(&value)
    }
}

/// `git/refs/{ref}` lists the refs whose names start with `refs/{ref}`.
async fn refs(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let prefix = format!("refs/{name}");
    let full = repo.full_name();
    let list: Vec<Value> = repo
        .git
        .refs
        .iter()
        .filter(|(r, _)| r.starts_with(&prefix))
        .map(|(r, sha)| {
            json!({
                "ref": r,
                "url": format!("{}/repos/{full}/git/{r}", api(&store, shape)),
                "object": {"type": "commit", "sha": sha, "url": format!("{}/repos/{full}/git/commits/{sha}", api(&store, shape))}
            })
        })
        .collect();
    if list.is_empty() {
        return not_found();
    }
    json_ok(&headers, &Value::Array(list))
}

/// `commits?sha=X&not=Y`: the commits written here reachable from X, newest
/// first (the default branch's own commits are not objects in this sandbox,
/// so `not` with the default branch leaves them out as Gitea would).
async fn commits(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(start) = q.get("sha").map(|s| {
        repo.git
            .refs
            .get(&format!("refs/heads/{s}"))
            .cloned()
            .unwrap_or_else(|| s.clone())
    }) else {
        return error(StatusCode::BAD_REQUEST, "sha is required here");
    };
    if !matches!(repo.git.objects.get(&start), Some(GitObject::Commit { .. })) {
        return not_found();
    }
    let mut seen = BTreeSet::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut items = Vec::new();
    while let Some(sha) = queue.pop_front() {
        if !seen.insert(sha.clone()) {
            continue;
        }
        let Some(GitObject::Commit {
            parents,
            message,
            date,
            ..
        }) = repo.git.objects.get(&sha)
        else {
            continue;
        };
        items.push(commit_json(
            &store,
            shape,
            repo,
            CommitFacts {
                sha: &sha,
                message,
                author: &store.viewer,
                author_email: None,
                committer: None,
                date: *date,
                parents,
            },
        ));
        queue.extend(parents.iter().cloned());
    }
    let url = format!("{}/repos/{}/commits", api(&store, shape), repo.full_name());
    paginated(&headers, &url, &q, items, None)
}

async fn runs(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let full = repo.full_name();
    let items: Vec<Value> = repo
        .workflow_runs
        .iter()
        .filter(|r| q.get("head_sha").is_none_or(|sha| &r.head_sha == sha))
        .map(|run| {
            let file = run.path.rsplit('/').next().unwrap_or(&run.path);
            let url = format!("{}/repos/{full}/actions/runs/{}", api(&store, shape), run.id);
            let html = format!("{}/{full}/actions/runs/{}", store.base_url, run.id);
            match shape {
                Shape::Gitea => json!({
                    "id": run.id,
                    "url": url,
                    "html_url": html,
                    "display_title": run.name,
                    "path": format!("{file}@refs/heads/{}", run.head_branch),
                    "event": "pull_request",
                    "run_attempt": 1,
                    "run_number": run.id - 30_000,
                    "head_sha": run.head_sha,
                    "head_branch": run.head_branch,
                    "status": run.status,
                    "conclusion": if run.status == "completed" { run.conclusion.as_str() } else { "" },
                    "started_at": ts(run.created_at),
                    "completed_at": ts(run.created_at + chrono::Duration::minutes(4)),
                    "repository_id": repo.id
                }),
                Shape::Forgejo => json!({
                    "id": run.id,
                    "html_url": html,
                    "title": run.name,
                    "workflow_id": file,
                    "index_in_repo": run.id - 30_000,
                    "event": "pull_request",
                    "trigger_event": "pull_request",
                    "commit_sha": run.head_sha,
                    "prettyref": run.head_branch,
                    "status": if run.status == "completed" { run.conclusion.as_str() } else { "running" },
                    "created": ts(run.created_at),
                    "started": ts(run.created_at),
                    "updated": ts(run.created_at + chrono::Duration::minutes(4)),
                    "stopped": ts(run.created_at + chrono::Duration::minutes(4)),
                    "duration": 240_000_000_000i64,
                    "need_approval": false,
                    "is_fork_pull_request": false,
                    "is_ref_deleted": false,
                    "approved_by": 0,
                    "ScheduleID": 0,
                    "event_payload": ""
                }),
            }
        })
        .collect();
    let url = format!("{}/repos/{full}/actions/runs", api(&store, shape));
    paginated(&headers, &url, &q, items, Some("workflow_runs"))
}

async fn run_artifacts(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(run) = repo.workflow_runs.iter().find(|r| r.id == run_id) else {
        return not_found();
    };
    let full = repo.full_name();
    let items: Vec<Value> = run
        .artifacts
        .iter()
        .map(|a| {
            let url = format!(
                "{}/repos/{full}/actions/artifacts/{}",
                api(&store, shape),
                a.id
            );
            let mut v = json!({
                "id": a.id,
                "name": a.name,
                "size_in_bytes": a.zip.len(),
                "expired": false,
                "created_at": ts(a.created_at),
                "updated_at": ts(a.created_at),
                "expires_at": ts(a.created_at + chrono::Duration::days(90)),
                "archive_download_url": format!("{url}/zip")
            });
            match shape {
                Shape::Gitea => {
                    v["url"] = json!(url);
                    v["workflow_run"] =
                        json!({"id": run.id, "head_sha": run.head_sha, "repository_id": repo.id});
                }
                Shape::Forgejo => v["run_id"] = json!(run.id),
            }
            v
        })
        .collect();
    let url = format!(
        "{}/repos/{full}/actions/runs/{run_id}/artifacts",
        api(&store, shape)
    );
    let wrap = (shape == Shape::Gitea).then_some("artifacts");
    paginated(&headers, &url, &q, items, wrap)
}

/// Gitea answers 302 to a signed storage URL; Forgejo sends the zip itself.
async fn artifact_zip(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> Response {
    let store = store.read().unwrap();
    match viewer(&store, &headers) {
        Ok(Some(_)) => {}
        _ => return error(StatusCode::UNAUTHORIZED, "user does not exist"),
    }
    let repo = match find(&store, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(artifact) = repo
        .workflow_runs
        .iter()
        .flat_map(|r| &r.artifacts)
        .find(|a| a.id == id)
    else {
        return not_found();
    };
    match shape {
        Shape::Gitea => (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("{}/_blobs/artifacts/{id}", store.base_url),
            )],
        )
            .into_response(),
        Shape::Forgejo => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/zip")],
            artifact.zip.clone(),
        )
            .into_response(),
    }
}

/// A blob by id: one written here, or a file of the base or of a change.
async fn blob(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable_repo(&store, &headers, &owner, &repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let written = match repo.git.objects.get(&sha) {
        Some(GitObject::Blob(b)) => Some(b.clone()),
        _ => None,
    };
    let known = written.or_else(|| {
        repo.base_files
            .values()
            .cloned()
            .chain(
                repo.pulls
                    .iter()
                    .flat_map(|p| &p.files)
                    .filter_map(|f| f.new.as_ref().map(|t| t.as_bytes().to_vec())),
            )
            .find(|b| blob_sha(b) == sha)
    });
    let Some(bytes) = known else {
        return not_found();
    };
    json_ok(
        &headers,
        &json!({
            "sha": sha,
            "size": bytes.len(),
            "url": format!("{}/repos/{}/git/blobs/{sha}", api(&store, shape), repo.full_name()),
            "encoding": "base64",
            "content": STANDARD.encode(&bytes)
        }),
    )
}

/// `POST /pulls` from a branch written through the contents API: its files
/// against the base branch's.
async fn create_pull(
    State(store): State<Shared>,
    Extension(shape): Extension<Shape>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let login = match writer(&store, &headers) {
        Ok(l) => l,
        Err(_) => return error(StatusCode::UNAUTHORIZED, "user does not exist"),
    };
    let (Some(title), Some(head), Some(base)) = (
        body["title"].as_str(),
        body["head"].as_str(),
        body["base"].as_str(),
    ) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "[Title]: Required");
    };
    let text = body["body"].as_str().unwrap_or_default().to_owned();
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return not_found();
    };
    let Some(pr) = pull_from_branch(r, title, text, head, base, &login) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("There are no changes between the head and the base [{base}...{head}]"),
        );
    };
    r.pulls.push(pr.clone());
    let r = r.clone();
    created(&pull_json(&store, shape, &r, &pr))
}

/// A new pull request from the branch `head` written here, against `base`:
/// the files of its tree that differ from the base branch's. `None` when the
/// branch is unknown or changes nothing.
pub(crate) fn pull_from_branch(
    r: &Repo,
    title: &str,
    body: String,
    head: &str,
    base: &str,
    login: &str,
) -> Option<PullRequest> {
    let head_sha = r.git.refs.get(&format!("refs/heads/{head}")).cloned()?;
    let new = crate::git::tree_files(r, &head_sha)?;
    let text_of = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
    let files: Vec<crate::store::FileChange> = new
        .iter()
        .filter_map(|(path, bytes)| {
            let old = r.file_at(path, base);
            (old.as_ref() != Some(bytes)).then(|| crate::store::FileChange {
                path: path.clone(),
                previous_path: None,
                old: old.as_ref().map(text_of),
                new: Some(text_of(bytes)),
            })
        })
        .collect();
    if files.is_empty() {
        return None;
    }
    let now = Utc::now();
    let number = r.pulls.iter().map(|p| p.number).max().unwrap_or(0) + 1;
    Some(PullRequest {
        number,
        id: 900_000 + number,
        title: title.to_owned(),
        body,
        author: login.to_owned(),
        labels: Vec::new(),
        draft: false,
        base_ref: base.to_owned(),
        base_sha: r
            .pulls
            .first()
            .map(|p| p.base_sha.clone())
            .unwrap_or_default(),
        head_ref: head.to_owned(),
        head_sha: head_sha.clone(),
        created_at: now,
        updated_at: now,
        files,
        commits: vec![crate::store::Commit {
            sha: head_sha,
            message: title.to_owned(),
            author: login.to_owned(),
            date: now,
            author_email: None,
            committer: None,
            committer_email: None,
        }],
        check_runs: Vec::new(),
        reviews: Vec::new(),
    })
}

/// Write `files` as a new commit on `parents` and move `branch` to it, as
/// the contents and commits APIs do; its id.
pub(crate) fn commit_on_branch(
    r: &mut Repo,
    branch: &str,
    files: &BTreeMap<String, Vec<u8>>,
    parents: &[String],
    message: &str,
    date: DateTime<Utc>,
) -> String {
    let mut entries = Vec::new();
    for (p, b) in files {
        let sha = blob_sha(b);
        r.git
            .objects
            .insert(sha.clone(), GitObject::Blob(b.clone()));
        entries.push((p.clone(), "100644".to_owned(), "blob".to_owned(), sha));
    }
    let tree = object_id(&["tree", &format!("{entries:?}")]);
    r.git.objects.insert(tree.clone(), GitObject::Tree(entries));
    let commit = object_id(&[
        "commit",
        &tree,
        &parents.join(","),
        message,
        &date.to_rfc3339(),
    ]);
    r.git.objects.insert(
        commit.clone(),
        GitObject::Commit {
            tree,
            parents: parents.to_vec(),
            message: message.to_owned(),
            date,
        },
    );
    r.git
        .refs
        .insert(format!("refs/heads/{branch}"), commit.clone());
    commit
}
