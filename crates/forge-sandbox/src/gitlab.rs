//! The same sandbox state in GitLab's REST v4 shape, under `/gitlab/api/v4`:
//! projects addressed by their URL-encoded path, merge requests by `iid`,
//! `PRIVATE-TOKEN` or `Authorization: Bearer`, `per_page`/`page` with `Link`
//! and `X-Total`; and GitLab's OAuth device authorization grant on its web
//! root (`/gitlab/oauth/…`). Records live
//! on branches written through the commits API, which names the last commit
//! of each file it updates.

// Handlers answer early with a ready response, as in `git.rs`.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::gitea::{blob_sha, file_at, written_files};
use crate::render;
use crate::routes::{respond, viewer, writer, Params, Shared};
use crate::store::{object_id, GitObject, PullRequest, Repo, Store};

/// Where the GitLab shape is served, and its web root.
pub(crate) const PREFIX: &str = "/gitlab/api/v4";
pub(crate) const WEB: &str = "/gitlab";

/// GitLab's OAuth device authorization grant (RFC 8628), on the web root.
pub(crate) fn web_routes() -> Router<Shared> {
    Router::new()
        .route("/oauth/authorize_device", post(device_code))
        .route("/oauth/token", post(device_token))
        // Not GitLab's API: the stand-in for the user entering the code
        // in the browser and approving.
        .route("/oauth/device", post(approve_device))
}

fn form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace('+', " ").replace("%3A", ":")))
        .collect()
}

/// `POST /oauth/authorize_device`.
async fn device_code(State(store): State<Shared>, body: String) -> Response {
    let mut store = store.write().unwrap();
    let f = form(&body);
    if f.get("client_id").is_none_or(|c| c.is_empty()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"error": "invalid_client"}).to_string(),
        )
            .into_response();
    }
    let n = store.device_codes.len() + 1;
    let device_code = object_id(&["gitlab-device", &n.to_string()]);
    let user_code = format!("GLAB{:04}", 1000 + n);
    store
        .device_codes
        .push((device_code.clone(), user_code.clone(), false));
    let verification = format!("{}{WEB}/oauth/device", store.base_url);
    json_ok(
        &HeaderMap::new(),
        &json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification,
            "verification_uri_complete": format!("{verification}?user_code={user_code}"),
            "expires_in": 300,
            "interval": 1
        }),
    )
}

async fn approve_device(State(store): State<Shared>, body: String) -> Response {
    let mut store = store.write().unwrap();
    let code = form(&body).get("user_code").cloned().unwrap_or_default();
    match store.device_codes.iter_mut().find(|d| d.1 == code) {
        Some(d) => {
            d.2 = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(),
    }
}

/// `POST /oauth/token` with the device-code grant: 400 and the RFC's error
/// until the user approves.
async fn device_token(State(store): State<Shared>, body: String) -> Response {
    let store = store.read().unwrap();
    let f = form(&body);
    let rfc = |error: &str| {
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"error": error, "error_description": error}).to_string(),
        )
            .into_response()
    };
    if f.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:device_code")
    {
        return rfc("unsupported_grant_type");
    }
    let code = f.get("device_code").cloned().unwrap_or_default();
    match store.device_codes.iter().find(|d| d.0 == code) {
        None => rfc("expired_token"),
        Some((_, _, false)) => rfc("authorization_pending"),
        Some((_, _, true)) => json_ok(
            &HeaderMap::new(),
            &json!({
                "access_token": crate::store::SANDBOX_TOKEN,
                "token_type": "Bearer",
                "expires_in": 7200,
                "scope": "api",
                "created_at": Utc::now().timestamp()
            }),
        ),
    }
}

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/user", get(user))
        .route("/projects", get(projects))
        .route("/projects/{id}", get(one_project))
        .route(
            "/projects/{id}/merge_requests",
            get(merge_requests).post(create_merge_request),
        )
        .route(
            "/projects/{id}/merge_requests/{iid}",
            get(one_merge_request),
        )
        .route("/projects/{id}/merge_requests/{iid}/diffs", get(diffs))
        .route(
            "/projects/{id}/merge_requests/{iid}/commits",
            get(mr_commits),
        )
        .route(
            "/projects/{id}/merge_requests/{iid}/approvals",
            get(approvals),
        )
        .route(
            "/projects/{id}/merge_requests/{iid}/notes",
            get(notes).post(create_note),
        )
        .route(
            "/projects/{id}/merge_requests/{iid}/notes/{note_id}",
            put(update_note),
        )
        .route(
            "/projects/{id}/repository/commits/{sha}/statuses",
            get(statuses),
        )
        .route("/projects/{id}/statuses/{sha}", post(create_status))
        .route("/projects/{id}/repository/files/{file_path}", get(file))
        .route("/projects/{id}/repository/branches", get(branches))
        .route("/projects/{id}/repository/branches/{branch}", get(branch))
        .route(
            "/projects/{id}/repository/commits",
            get(commits).post(create_commit),
        )
        .route("/projects/{id}/pipelines", get(pipelines))
        .route("/projects/{id}/pipelines/{pipeline_id}/jobs", get(jobs))
        .route("/projects/{id}/jobs/{job_id}/artifacts", get(job_artifacts))
        // Sandbox-only, as at the other shapes' roots.
        .route("/_sandbox/roster", post(crate::git::add_to_roster))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "404 Not Found") })
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// GitLab's error body.
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "message": message }).to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "404 Not found")
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn json_ok(request: &HeaderMap, value: &Value) -> Response {
    let mut r = respond(request, "application/json", value.to_string(), None);
    r.headers_mut().remove("x-github-media-type");
    r
}

fn created(value: &Value) -> Response {
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// One page (`page`, `per_page`, at most 100) with `Link` and `X-Total`.
fn paginated(
    request: &HeaderMap,
    url: &str,
    q: &HashMap<String, String>,
    items: Vec<Value>,
) -> Response {
    let crate::routes::Page { slice, total, link } =
        crate::routes::page_of(url, q, items, "per_page", 100);
    let mut r = respond(
        request,
        "application/json",
        Value::Array(slice).to_string(),
        link,
    );
    r.headers_mut().remove("x-github-media-type");
    r.headers_mut().insert(
        "x-total",
        HeaderValue::from_str(&total.to_string()).expect("digits"),
    );
    r
}

fn api(store: &Store) -> String {
    format!("{}{PREFIX}", store.base_url)
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "401 Unauthorized")
}

/// The project `id` names (its URL-encoded path, decoded, or its number).
fn find<'a>(store: &'a Store, id: &str) -> Result<&'a Repo, Response> {
    store
        .repos
        .iter()
        .find(|r| r.full_name() == id || r.id.to_string() == id)
        .ok_or_else(not_found)
}

fn find_mut<'a>(store: &'a mut Store, id: &str) -> Result<&'a mut Repo, Response> {
    store
        .repos
        .iter_mut()
        .find(|r| r.full_name() == id || r.id.to_string() == id)
        .ok_or_else(not_found)
}

fn readable<'a>(store: &'a Store, headers: &HeaderMap, id: &str) -> Result<&'a Repo, Response> {
    viewer(store, headers).map_err(|_| unauthorized())?;
    find(store, id)
}

fn readable_mr<'a>(
    store: &'a Store,
    headers: &HeaderMap,
    id: &str,
    iid: u64,
) -> Result<(&'a Repo, &'a PullRequest), Response> {
    let repo = readable(store, headers, id)?;
    let pr = repo.pull(iid).ok_or_else(not_found)?;
    Ok((repo, pr))
}

fn user_json(store: &Store, login: &str) -> Value {
    let u = store.user(login);
    json!({
        "id": u.map_or(0, |u| u.id),
        "username": login,
        "name": u.map_or(login, |u| u.name.as_str()),
        "state": "active",
        "locked": false,
        "avatar_url": format!("{}/uploads/{login}.png", store.base_url),
        "web_url": format!("{}/{login}", store.base_url)
    })
}

fn project_json(store: &Store, repo: &Repo) -> Value {
    json!({
        "id": repo.id,
        "name": repo.name,
        "path": repo.name,
        "path_with_namespace": repo.full_name(),
        "name_with_namespace": format!("{} / {}", repo.owner, repo.name),
        "description": repo.description,
        "default_branch": repo.default_branch,
        "ci_config_path": store.gitlab_ci_config_path,
        "visibility": "private",
        "web_url": format!("{}/{}", store.base_url, repo.full_name()),
        "created_at": ts(repo.created_at),
        "last_activity_at": ts(repo.created_at)
    })
}

fn mr_json(store: &Store, repo: &Repo, pr: &PullRequest, full: bool) -> Value {
    let web = format!(
        "{}/{}/-/merge_requests/{}",
        store.base_url,
        repo.full_name(),
        pr.number
    );
    let mut v = json!({
        "id": pr.id,
        "iid": pr.number,
        "project_id": repo.id,
        "title": pr.title,
        "description": pr.body,
        "state": "opened",
        "created_at": ts(pr.created_at),
        "updated_at": ts(pr.updated_at),
        "target_branch": pr.base_ref,
        "source_branch": pr.head_ref,
        "author": user_json(store, &pr.author),
        "labels": pr.labels,
        "draft": pr.draft,
        "work_in_progress": pr.draft,
        "sha": pr.head_sha,
        "merge_status": "can_be_merged",
        "web_url": web,
        "references": {"short": format!("!{}", pr.number), "full": format!("{}!{}", repo.full_name(), pr.number)}
    });
    // The list leaves the commit refs and the count out; one merge request has them.
    if full {
        v["diff_refs"] =
            json!({"base_sha": pr.base_sha, "head_sha": pr.head_sha, "start_sha": pr.base_sha});
        v["changes_count"] = json!(pr.files.len().to_string());
    }
    v
}

async fn user(State(store): State<Shared>, headers: HeaderMap) -> Response {
    let store = store.read().unwrap();
    match viewer(&store, &headers) {
        Ok(Some(login)) => json_ok(&headers, &user_json(&store, &login)),
        _ => unauthorized(),
    }
}

async fn projects(State(store): State<Shared>, headers: HeaderMap, Query(q): Params) -> Response {
    let store = store.read().unwrap();
    if viewer(&store, &headers).is_err() {
        return unauthorized();
    }
    let items = store
        .repos
        .iter()
        .map(|r| project_json(&store, r))
        .collect();
    paginated(&headers, &format!("{}/projects", api(&store)), &q, items)
}

async fn one_project(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let store = store.read().unwrap();
    match readable(&store, &headers, &id) {
        Ok(r) => json_ok(&headers, &project_json(&store, r)),
        Err(e) => e,
    }
}

async fn merge_requests(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
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
        .map(|p| mr_json(&store, repo, p, false))
        .collect();
    let url = format!("{}/projects/{}/merge_requests", api(&store), repo.id);
    paginated(&headers, &url, &q, items)
}

async fn one_merge_request(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, iid)): Path<(String, u64)>,
) -> Response {
    let store = store.read().unwrap();
    match readable_mr(&store, &headers, &id, iid) {
        Ok((repo, pr)) => json_ok(&headers, &mr_json(&store, repo, pr, true)),
        Err(e) => e,
    }
}

async fn diffs(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, iid)): Path<(String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable_mr(&store, &headers, &id, iid) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let items = pr
        .files
        .iter()
        .map(|f| {
            let change = render::Change::of(f);
            json!({
                "old_path": f.previous_path.clone().unwrap_or_else(|| f.path.clone()),
                "new_path": f.path,
                "a_mode": if f.old.is_some() { "100644" } else { "0" },
                "b_mode": if f.new.is_some() { "100644" } else { "0" },
                "new_file": change == render::Change::Added,
                "renamed_file": change == render::Change::Renamed,
                "deleted_file": change == render::Change::Removed,
                "generated_file": false,
                "too_large": false,
                "collapsed": false,
                "diff": render::hunks(f)
            })
        })
        .collect();
    let url = format!(
        "{}/projects/{}/merge_requests/{iid}/diffs",
        api(&store),
        repo.id
    );
    paginated(&headers, &url, &q, items)
}

fn commit_json(
    sha: &str,
    message: &str,
    author: &str,
    email: &str,
    date: DateTime<Utc>,
    parents: &[String],
) -> Value {
    json!({
        "id": sha,
        "short_id": &sha[..8.min(sha.len())],
        "title": message.lines().next().unwrap_or(""),
        "message": message,
        "author_name": author,
        "author_email": email,
        "authored_date": ts(date),
        "committer_name": author,
        "committer_email": email,
        "committed_date": ts(date),
        "created_at": ts(date),
        "parent_ids": parents
    })
}

async fn mr_commits(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, iid)): Path<(String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable_mr(&store, &headers, &id, iid) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let roster = repo
        .base_files
        .get(crate::seed::POLICY_PATH)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let mut parent = pr.base_sha.clone();
    let mut items: Vec<Value> = pr
        .commits
        .iter()
        .map(|c| {
            // GitLab keeps no account link on a commit, only the address
            // the author configured: the team's work address, which the
            // roster lists; anyone else's own.
            let email = c.author_email.clone().unwrap_or_else(|| {
                store
                    .user(&c.author)
                    .map(|u| crate::seed::work_address(&u.name))
                    .filter(|a| roster.contains(a.as_str()))
                    .unwrap_or_else(|| format!("{}@users.noreply.gitlab.example", c.author))
            });
            let v = commit_json(
                &c.sha,
                &c.message,
                &c.author,
                &email,
                c.date,
                std::slice::from_ref(&parent),
            );
            parent = c.sha.clone();
            v
        })
        .collect();
    // Newest first, as GitLab lists them.
    items.reverse();
    let url = format!(
        "{}/projects/{}/merge_requests/{iid}/commits",
        api(&store),
        repo.id
    );
    paginated(&headers, &url, &q, items)
}

async fn approvals(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, iid)): Path<(String, u64)>,
) -> Response {
    let store = store.read().unwrap();
    let (_, pr) = match readable_mr(&store, &headers, &id, iid) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let approved_by: Vec<Value> = pr
        .reviews
        .iter()
        .filter(|(_, state, _)| state == "APPROVED")
        .map(|(login, _, _)| json!({ "user": user_json(&store, login) }))
        .collect();
    json_ok(
        &headers,
        &json!({
            "id": pr.id,
            "iid": pr.number,
            "approved": !approved_by.is_empty(),
            "approved_by": approved_by
        }),
    )
}

fn note_json(store: &Store, c: &crate::store::Comment) -> Value {
    json!({
        "id": c.id,
        "type": null,
        "body": c.body,
        "author": user_json(store, &c.author),
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "system": false,
        "noteable_type": "MergeRequest",
        "noteable_iid": c.issue
    })
}

async fn notes(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, iid)): Path<(String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, _) = match readable_mr(&store, &headers, &id, iid) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let items = repo
        .comments
        .iter()
        .filter(|c| c.issue == iid)
        .map(|c| note_json(&store, c))
        .collect();
    let url = format!(
        "{}/projects/{}/merge_requests/{iid}/notes",
        api(&store),
        repo.id
    );
    paginated(&headers, &url, &q, items)
}

async fn create_note(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, iid)): Path<(String, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let Ok(login) = writer(&store, &headers) else {
        return unauthorized();
    };
    let Some(text) = body["body"].as_str() else {
        return bad_request("400 Bad request - body is missing");
    };
    let next = store.next_comment_id();
    let r = match find_mut(&mut store, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if r.pull(iid).is_none() {
        return not_found();
    }
    let now = Utc::now();
    let note = crate::store::Comment {
        id: next,
        issue: iid,
        body: text.to_owned(),
        author: login,
        created_at: now,
        updated_at: now,
    };
    r.comments.push(note.clone());
    created(&note_json(&store, &note))
}

async fn update_note(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, iid, note_id)): Path<(String, u64, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let Ok(login) = writer(&store, &headers) else {
        return unauthorized();
    };
    let Some(text) = body["body"].as_str() else {
        return bad_request("400 Bad request - body is missing");
    };
    let r = match find_mut(&mut store, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(c) = r
        .comments
        .iter_mut()
        .find(|c| c.id == note_id && c.issue == iid)
    else {
        return not_found();
    };
    // Only the author edits a note (maintainers can too on GitLab; the
    // records are checked by signature either way).
    if c.author != login {
        return error(StatusCode::FORBIDDEN, "403 Forbidden");
    }
    c.body = text.to_owned();
    c.updated_at = Utc::now();
    let c = c.clone();
    json_ok(&HeaderMap::new(), &note_json(&store, &c))
}

/// GitLab's word for a state written in the sandbox's GitHub words.
fn gitlab_state(state: &str) -> &str {
    match state {
        "failure" => "failed",
        "error" => "canceled",
        other => other,
    }
}

fn status_json(store: &Store, sha: &str, s: &crate::store::CommitStatus) -> Value {
    json!({
        "id": s.id,
        "sha": sha,
        "ref": null,
        "status": gitlab_state(&s.state),
        "name": s.context,
        "target_url": s.target_url,
        "description": s.description,
        "created_at": ts(s.created_at),
        "started_at": null,
        "finished_at": ts(s.created_at),
        "allow_failure": false,
        "coverage": null,
        "author": user_json(store, &s.creator)
    })
}

/// Statuses of a commit, newest first: those posted through the API, and
/// the jobs of its CI pipeline (which GitLab lists here too).
async fn statuses(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, sha)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut items: Vec<Value> = repo
        .statuses
        .iter()
        .rev()
        .filter(|(s_sha, _)| *s_sha == sha)
        .map(|(_, s)| status_json(&store, &sha, s))
        .collect();
    for job in check_jobs(repo, &sha) {
        items.push(json!({
            "id": job.0, "sha": sha, "status": job.2, "name": job.1,
            "author": user_json(&store, &store.viewer), "allow_failure": false,
            "created_at": ts(Utc::now())
        }));
    }
    let url = format!(
        "{}/projects/{}/repository/commits/{sha}/statuses",
        api(&store),
        repo.id
    );
    paginated(&headers, &url, &q, items)
}

async fn create_status(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, sha)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let Ok(login) = writer(&store, &headers) else {
        return unauthorized();
    };
    let state = match body["state"].as_str().unwrap_or("") {
        "pending" | "running" => "pending",
        "success" => "success",
        "failed" => "failure",
        "canceled" => "error",
        _ => return bad_request("400 Bad request - state does not have a valid value"),
    };
    let next = store.next_status_id();
    let r = match find_mut(&mut store, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let status = crate::store::CommitStatus {
        id: next,
        context: body["name"].as_str().unwrap_or("default").to_owned(),
        state: state.to_owned(),
        description: body["description"].as_str().unwrap_or("").to_owned(),
        target_url: body["target_url"].as_str().map(str::to_owned),
        creator: login,
        created_at: Utc::now(),
    };
    r.statuses.push((sha.clone(), status.clone()));
    created(&status_json(&store, &sha, &status))
}

/// The commit of the file's last change on `git_ref`, as GitLab's
/// `last_commit_id` gives it (what an update must name).
fn last_commit_of(repo: &Repo, git_ref: &str, path: &str) -> String {
    let tip = repo
        .git
        .refs
        .get(&format!("refs/heads/{git_ref}"))
        .cloned()
        .unwrap_or_else(|| git_ref.to_owned());
    let mut at = tip;
    loop {
        let Some(GitObject::Commit { parents, .. }) = repo.git.objects.get(&at) else {
            // Not written here: the base commit (or the change's head).
            return repo
                .pulls
                .iter()
                .find(|p| p.head_sha == at || p.head_ref == at)
                .map(|p| p.head_sha.clone())
                .or_else(|| repo.pulls.first().map(|p| p.base_sha.clone()))
                .unwrap_or(at);
        };
        let here = written_files(repo, &at).and_then(|f| f.get(path).cloned());
        let parent = parents.first().cloned();
        let before = parent
            .as_deref()
            .and_then(|p| written_files(repo, p))
            .and_then(|f| f.get(path).cloned());
        if here != before || parent.is_none() {
            return at;
        }
        at = parent.expect("checked");
    }
}

async fn file(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, file_path)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(git_ref) = q.get("ref") else {
        return bad_request("400 Bad request - ref is missing");
    };
    let Some(bytes) = file_at(repo, &file_path, git_ref) else {
        return error(StatusCode::NOT_FOUND, "404 File Not Found");
    };
    json_ok(
        &headers,
        &json!({
            "file_name": file_path.rsplit('/').next().unwrap_or(&file_path),
            "file_path": file_path,
            "size": bytes.len(),
            "encoding": "base64",
            "content": STANDARD.encode(&bytes),
            "content_sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            "ref": git_ref,
            "blob_id": blob_sha(&bytes),
            "commit_id": last_commit_of(repo, git_ref, &file_path),
            "last_commit_id": last_commit_of(repo, git_ref, &file_path)
        }),
    )
}

fn branch_json(name: &str, sha: &str, date: DateTime<Utc>) -> Value {
    json!({
        "name": name,
        "merged": false,
        "protected": false,
        "default": false,
        "developers_can_push": true,
        "developers_can_merge": true,
        "can_push": true,
        "commit": commit_json(sha, "records", "sandbox", "sandbox@example.invalid", date, &[])
    })
}

fn branch_date(repo: &Repo, sha: &str) -> DateTime<Utc> {
    match repo.git.objects.get(sha) {
        Some(GitObject::Commit { date, .. }) => *date,
        _ => repo.created_at,
    }
}

async fn branch(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match repo.git.refs.get(&format!("refs/heads/{name}")) {
        Some(sha) => json_ok(&headers, &branch_json(&name, sha, branch_date(repo, sha))),
        None => error(StatusCode::NOT_FOUND, "404 Branch Not Found"),
    }
}

/// Branches written here; `search=^prefix` anchors at the start.
async fn branches(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let search = q.get("search").cloned().unwrap_or_default();
    let items = repo
        .git
        .refs
        .iter()
        .filter_map(|(r, sha)| Some((r.strip_prefix("refs/heads/")?, sha)))
        .filter(|(name, _)| match search.strip_prefix('^') {
            Some(prefix) => name.starts_with(prefix),
            None => name.contains(&search),
        })
        .map(|(name, sha)| branch_json(name, sha, branch_date(repo, sha)))
        .collect();
    let url = format!("{}/projects/{}/repository/branches", api(&store), repo.id);
    paginated(&headers, &url, &q, items)
}

/// `ref_name=A..B` (the commits of B not on A) or a branch: the commits
/// written here, newest first (the default branch's own commits are not
/// objects in this sandbox, so `default..branch` leaves them out as GitLab would).
async fn commits(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let wanted = q.get("ref_name").cloned().unwrap_or_default();
    let tip_name = wanted.rsplit("..").next().unwrap_or("");
    let start = repo
        .git
        .refs
        .get(&format!("refs/heads/{tip_name}"))
        .cloned()
        .unwrap_or_else(|| tip_name.to_owned());
    if !matches!(repo.git.objects.get(&start), Some(GitObject::Commit { .. })) {
        return error(StatusCode::NOT_FOUND, "404 Commit Not Found");
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
        let email = format!("{}@users.noreply.gitlab.example", store.viewer);
        items.push(commit_json(
            &sha,
            message,
            &store.viewer,
            &email,
            *date,
            parents,
        ));
        queue.extend(parents.iter().cloned());
    }
    let url = format!("{}/projects/{}/repository/commits", api(&store), repo.id);
    paginated(&headers, &url, &q, items)
}

/// One commit applying `actions` on `branch` (made from `start_branch` when
/// the branch is new). An update must name the file's last commit.
async fn create_commit(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let Ok(login) = writer(&store, &headers) else {
        return unauthorized();
    };
    let r = match find_mut(&mut store, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (Some(branch), Some(message), Some(actions)) = (
        body["branch"].as_str(),
        body["commit_message"].as_str(),
        body["actions"].as_array(),
    ) else {
        return bad_request("400 Bad request - branch, commit_message, actions are missing");
    };
    if body["force"].as_bool() == Some(true) {
        return bad_request("the sandbox takes no forced commits");
    }
    let existing = r.git.refs.get(&format!("refs/heads/{branch}")).cloned();
    let start = body["start_branch"].as_str();
    let from_ref = match (&existing, start) {
        (Some(_), Some(_)) => {
            return bad_request(&format!("A branch called '{branch}' already exists"))
        }
        (Some(_), None) => branch.to_owned(),
        (None, Some(s))
            if s == r.default_branch || r.git.refs.contains_key(&format!("refs/heads/{s}")) =>
        {
            s.to_owned()
        }
        (None, _) => {
            return bad_request("You can only create or edit files when you are on a branch")
        }
    };
    let from = r.git.refs.get(&format!("refs/heads/{from_ref}")).cloned();
    let mut files: BTreeMap<String, Vec<u8>> = from
        .as_deref()
        .and_then(|c| crate::git::tree_files(r, c))
        .unwrap_or_default();
    for a in actions {
        let (Some(action), Some(path)) = (a["action"].as_str(), a["file_path"].as_str()) else {
            return bad_request("400 Bad request - actions[action] is missing");
        };
        let content = match a["encoding"].as_str() {
            Some("base64") => match a["content"].as_str().and_then(|c| STANDARD.decode(c).ok()) {
                Some(b) => b,
                None => return bad_request("content is not base64"),
            },
            _ => a["content"].as_str().unwrap_or("").as_bytes().to_vec(),
        };
        let current = file_at(r, path, &from_ref);
        match (action, &current) {
            ("create", Some(_)) => return bad_request("A file with this name already exists"),
            ("update", None) => return bad_request("A file with this name doesn't exist"),
            ("update", Some(_)) => {
                if let Some(expected) = a["last_commit_id"].as_str() {
                    if expected != last_commit_of(r, &from_ref, path) {
                        return bad_request("You are attempting to update a file that has changed since you started editing it.");
                    }
                }
            }
            ("create", None) => {}
            _ => {
                return bad_request("400 Bad request - actions[action] does not have a valid value")
            }
        }
        files.insert(path.to_owned(), content);
    }
    let parents: Vec<String> = from.iter().cloned().collect();
    let now = Utc::now();
    let commit = crate::gitea::commit_on_branch(r, branch, &files, &parents, message, now);
    let email = format!("{login}@users.noreply.gitlab.example");
    created(&commit_json(
        &commit, message, &login, &email, now, &parents,
    ))
}

async fn create_merge_request(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let Ok(login) = writer(&store, &headers) else {
        return unauthorized();
    };
    let (Some(title), Some(source), Some(target)) = (
        body["title"].as_str(),
        body["source_branch"].as_str(),
        body["target_branch"].as_str(),
    ) else {
        return bad_request("400 Bad request - title, source_branch, target_branch are missing");
    };
    let text = body["description"].as_str().unwrap_or_default().to_owned();
    let r = match find_mut(&mut store, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(pr) = crate::gitea::pull_from_branch(r, title, text, source, target, &login) else {
        return bad_request("Validation failed: no changes between the source and target branches");
    };
    r.pulls.push(pr.clone());
    let r = r.clone();
    created(&mr_json(&store, &r, &pr, true))
}

/// The jobs a change's CI pipeline ran for its checks: (id, name, status).
fn check_jobs(repo: &Repo, sha: &str) -> Vec<(u64, String, String)> {
    repo.pulls
        .iter()
        .filter(|p| p.head_sha == sha)
        .flat_map(|p| &p.check_runs)
        .filter(|c| c.app.as_deref() == Some("github-actions"))
        .map(|c| (c.id, c.name.clone(), gitlab_state(&c.conclusion).to_owned()))
        .collect()
}

/// A pipeline of checks for a change's head (id 70 000 + the number), and
/// one per workflow run with artifacts.
async fn pipelines(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let sha = q.get("sha").cloned().unwrap_or_default();
    let mut items = Vec::new();
    for run in repo
        .workflow_runs
        .iter()
        .rev()
        .filter(|r| r.head_sha == sha)
    {
        let status = if run.status == "completed" {
            gitlab_state(&run.conclusion).to_owned()
        } else {
            "running".to_owned()
        };
        items.push(json!({
            "id": run.id, "iid": run.id - 30_000, "project_id": repo.id, "sha": run.head_sha,
            "ref": run.head_branch, "status": status, "source": "merge_request_event",
            "created_at": ts(run.created_at), "updated_at": ts(run.created_at),
            "web_url": format!("{}/{}/-/pipelines/{}", store.base_url, repo.full_name(), run.id)
        }));
    }
    if let Some(pr) = repo
        .pulls
        .iter()
        .find(|p| p.head_sha == sha && !p.check_runs.is_empty())
    {
        items.push(json!({
            "id": 70_000 + pr.number, "iid": pr.number, "project_id": repo.id, "sha": sha,
            "ref": pr.head_ref, "status": "success", "source": "merge_request_event",
            "created_at": ts(pr.updated_at), "updated_at": ts(pr.updated_at),
            "web_url": format!("{}/{}/-/pipelines/{}", store.base_url, repo.full_name(), 70_000 + pr.number)
        }));
    }
    let url = format!("{}/projects/{}/pipelines", api(&store), repo.id);
    paginated(&headers, &url, &q, items)
}

async fn jobs(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, pipeline_id)): Path<(String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let web = |job: u64| format!("{}/{}/-/jobs/{job}", store.base_url, repo.full_name());
    let items: Vec<Value> = if let Some(run) =
        repo.workflow_runs.iter().find(|r| r.id == pipeline_id)
    {
        run.artifacts
            .iter()
            .map(|a| {
                json!({
                    "id": a.id, "name": a.name, "stage": "test",
                    "status": if run.status == "completed" { gitlab_state(&run.conclusion) } else { "running" },
                    "created_at": ts(a.created_at), "web_url": web(a.id),
                    "artifacts_file": {"filename": "artifacts.zip", "size": a.zip.len()},
                    "artifacts": [{"file_type": "archive", "size": a.zip.len(), "filename": "artifacts.zip", "file_format": "zip"}],
                    "artifacts_expire_at": ts(a.created_at + chrono::Duration::days(30)),
                    "pipeline": {"id": run.id, "sha": run.head_sha, "status": gitlab_state(&run.conclusion)}
                })
            })
            .collect()
    } else if let Some(pr) = repo.pulls.iter().find(|p| 70_000 + p.number == pipeline_id) {
        check_jobs(repo, &pr.head_sha)
            .into_iter()
            .map(|(job, name, status)| {
                json!({
                    "id": job, "name": name, "stage": "test", "status": status,
                    "created_at": ts(pr.updated_at), "web_url": web(job),
                    "artifacts": [],
                    "pipeline": {"id": pipeline_id, "sha": pr.head_sha, "status": "success"}
                })
            })
            .collect()
    } else {
        return error(StatusCode::NOT_FOUND, "404 Pipeline Not Found");
    };
    let url = format!(
        "{}/projects/{}/pipelines/{pipeline_id}/jobs",
        api(&store),
        repo.id
    );
    paginated(&headers, &url, &q, items)
}

/// The job's artifacts archive, sent directly.
async fn job_artifacts(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((id, job_id)): Path<(String, u64)>,
) -> Response {
    let store = store.read().unwrap();
    let repo = match readable(&store, &headers, &id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(artifact) = repo
        .workflow_runs
        .iter()
        .flat_map(|r| &r.artifacts)
        .find(|a| a.id == job_id)
    else {
        return error(StatusCode::NOT_FOUND, "404 Not Found");
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/zip")],
        artifact.zip.clone(),
    )
        .into_response()
}
