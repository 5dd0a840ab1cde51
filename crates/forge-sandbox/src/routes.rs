use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Json;
use axum::Router;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::render;
use crate::store::{Store, SANDBOX_TOKEN};

pub(crate) type Shared = Arc<RwLock<Store>>;
pub(crate) type Params = Query<HashMap<String, String>>;

pub fn router(store: Shared) -> Router {
    Router::new()
        .route("/user", get(user))
        .route("/user/repos", get(user_repos))
        .route("/repos/{owner}/{repo}", get(one_repo))
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(pulls).post(crate::git::create_pull),
        )
        .route("/repos/{owner}/{repo}/pulls/{number}", get(one_pull))
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/reviews",
            get(pull_reviews),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/files",
            get(pull_files),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/commits",
            get(pull_commits),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{sha}/status",
            get(combined_status),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{sha}/check-runs",
            get(check_runs),
        )
        .route("/repos/{owner}/{repo}/statuses/{sha}", post(create_status))
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(list_comments).post(create_comment),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}",
            patch(update_comment).delete(delete_comment),
        )
        .merge(crate::git::routes())
        .nest(
            crate::Shape::Gitea.prefix(),
            crate::gitea::routes(crate::Shape::Gitea),
        )
        .nest(
            crate::Shape::Forgejo.prefix(),
            crate::gitea::routes(crate::Shape::Forgejo),
        )
        .nest(crate::gitlab::PREFIX, crate::gitlab::routes())
        .nest(crate::gitlab::WEB, crate::gitlab::web_routes())
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found") })
        .layer(axum::middleware::from_fn_with_state(
            store.clone(),
            crate::faults::apply,
        ))
        .with_state(store)
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.as_u16().to_string()
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// A request whose credential the sandbox does not accept.
pub(crate) struct BadCredentials;

impl IntoResponse for BadCredentials {
    fn into_response(self) -> Response {
        error(StatusCode::UNAUTHORIZED, "Bad credentials")
    }
}

/// `None` when the request carries no credential; `Err` when it carries a wrong one.
/// GitHub and Gitea send `Authorization`; GitLab sends `PRIVATE-TOKEN`.
pub(crate) fn viewer(store: &Store, headers: &HeaderMap) -> Result<Option<String>, BadCredentials> {
    let token = if let Some(value) = headers.get("private-token") {
        Some(value.to_str().unwrap_or(""))
    } else if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or("");
        value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("token "))
    } else {
        return Ok(None);
    };
    if token == Some(SANDBOX_TOKEN) {
        Ok(Some(store.viewer.clone()))
    } else {
        Err(BadCredentials)
    }
}

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

/// A body with GitHub's headers, or 304 when `If-None-Match` still matches.
pub(crate) fn respond(
    request: &HeaderMap,
    content_type: &str,
    body: String,
    link: Option<String>,
) -> Response {
    let etag = etag_of(body.as_bytes());
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut response = if matches {
        Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
    } else {
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
    }
    .expect("valid response");
    let h = response.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex etag"),
    );
    h.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    h.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
    h.insert("x-ratelimit-remaining", HeaderValue::from_static("4999"));
    h.insert("x-ratelimit-reset", HeaderValue::from_static("4102444800"));
    if let Some(link) = link {
        if let Ok(v) = HeaderValue::from_str(&link) {
            h.insert(header::LINK, v);
        }
    }
    response
}

pub(crate) fn json_ok(request: &HeaderMap, value: &Value) -> Response {
    respond(
        request,
        "application/json; charset=utf-8",
        value.to_string(),
        None,
    )
}

/// GitHub refuses issue comment bodies longer than this.
pub const GITHUB_COMMENT_MAX_CHARS: usize = 65_536;

/// One page of a list, with a GitHub-style `Link` header.
pub(crate) fn paginated(
    request: &HeaderMap,
    base_url: &str,
    path: &str,
    q: &HashMap<String, String>,
    items: Vec<Value>,
) -> Response {
    paginated_in(request, base_url, path, q, items, None)
}

/// One page of a list and its `Link` header value.
pub(crate) struct Page {
    pub(crate) slice: Vec<Value>,
    pub(crate) total: usize,
    pub(crate) link: Option<String>,
}

/// Page `q["page"]` of `items`, `q[size_key]` (default 30, at most `max`)
/// to a page, with `next`/`last`/`first`/`prev` links to `url` that keep the
/// other query parameters.
pub(crate) fn page_of(
    url: &str,
    q: &HashMap<String, String>,
    items: Vec<Value>,
    size_key: &str,
    max: usize,
) -> Page {
    let total = items.len();
    let size: usize = q
        .get(size_key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .clamp(1, max);
    let page: usize = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let last = total.div_ceil(size).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    let mut others: Vec<(&String, &String)> = q.iter().filter(|(k, _)| *k != "page").collect();
    others.sort();
    let query: String = others.iter().map(|(k, v)| format!("{k}={v}&")).collect();
    let at = |p: usize, rel: &str| format!("<{url}?{query}page={p}>; rel=\"{rel}\"");
    let mut links = Vec::new();
    if page < last {
        links.push(at(page + 1, "next"));
        links.push(at(last, "last"));
    }
    if page > 1 {
        links.push(at(1, "first"));
        links.push(at(page - 1, "prev"));
    }
    Page {
        slice,
        total,
        link: (!links.is_empty()).then(|| links.join(", ")),
    }
}

/// A page of `items`, as a bare array or, with `key`, wrapped as GitHub's
/// Actions endpoints answer: `{"total_count": n, key: [...]}`.
pub(crate) fn paginated_in(
    request: &HeaderMap,
    base_url: &str,
    path: &str,
    q: &HashMap<String, String>,
    items: Vec<Value>,
    key: Option<&str>,
) -> Response {
    let Page { slice, total, link } =
        page_of(&format!("{base_url}{path}"), q, items, "per_page", 100);
    let body = match key {
        None => Value::Array(slice),
        Some(key) => serde_json::json!({"total_count": total, key: slice}),
    };
    respond(
        request,
        "application/json; charset=utf-8",
        body.to_string(),
        link,
    )
}

async fn user(State(store): State<Shared>, headers: HeaderMap) -> Response {
    let store = store.read().unwrap();
    match viewer(&store, &headers) {
        Ok(Some(login)) => json_ok(&headers, &render::private_user(&store, &login)),
        Ok(None) => error(StatusCode::UNAUTHORIZED, "Requires authentication"),
        Err(r) => r.into_response(),
    }
}

async fn user_repos(State(store): State<Shared>, headers: HeaderMap, Query(q): Params) -> Response {
    let store = store.read().unwrap();
    match viewer(&store, &headers) {
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::UNAUTHORIZED, "Requires authentication"),
        Err(r) => return r.into_response(),
    }
    let items = store
        .repos
        .iter()
        .map(|r| render::repository(&store, r))
        .collect();
    paginated(&headers, &store.base_url, "/user/repos", &q, items)
}

async fn pulls(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = viewer(&store, &headers) {
        return r.into_response();
    }
    let Some(repo) = store.repo(&owner, &repo) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let state = q.get("state").map(String::as_str).unwrap_or("open");
    if !matches!(state, "open" | "closed" | "all") {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    }
    let mut pulls: Vec<_> = repo.pulls.iter().filter(|_| state != "closed").collect();
    pulls.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    if q.get("direction").map(String::as_str) == Some("asc") {
        pulls.reverse();
    }
    let items = pulls
        .into_iter()
        .map(|p| render::pull(&store, repo, p, false))
        .collect();
    paginated(
        &headers,
        &store.base_url,
        &format!("/repos/{}/pulls", repo.full_name()),
        &q,
        items,
    )
}

fn wants_diff(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.contains("application/vnd.github.diff")
                || v.contains("application/vnd.github.v3.diff")
        })
}

async fn one_pull(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable_pull(&store, &headers, &owner, &repo, number) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    if wants_diff(&headers) {
        if store
            .diff_limit_files
            .is_some_and(|limit| pr.files.len() > limit)
        {
            return error(
                StatusCode::NOT_ACCEPTABLE,
                "Sorry, the diff exceeded the maximum number of files. Consider using 'List pull requests files' API or locally cloning the repository instead.",
            );
        }
        return respond(
            &headers,
            "application/vnd.github.diff; charset=utf-8",
            render::unified_diff(pr),
            None,
        );
    }
    json_ok(&headers, &render::pull(&store, repo, pr, true))
}

async fn pull_files(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable_pull(&store, &headers, &owner, &repo, number) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let items = pr
        .files
        .iter()
        .take(store.files_list_cap)
        .map(|f| render::file(&store, repo, pr, f))
        .collect();
    paginated(
        &headers,
        &store.base_url,
        &format!("/repos/{}/pulls/{number}/files", repo.full_name()),
        &q,
        items,
    )
}

async fn pull_commits(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable_pull(&store, &headers, &owner, &repo, number) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let mut parent = pr.base_sha.clone();
    let items = pr
        .commits
        .iter()
        .take(store.commits_list_cap)
        .map(|c| {
            let v = render::commit(&store, repo, c, &parent);
            parent = c.sha.clone();
            v
        })
        .collect();
    paginated(
        &headers,
        &store.base_url,
        &format!("/repos/{}/pulls/{number}/commits", repo.full_name()),
        &q,
        items,
    )
}

async fn combined_status(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = viewer(&store, &headers) {
        return r.into_response();
    }
    let Some(repo) = store.repo(&owner, &repo) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    json_ok(&headers, &render::combined_status(&store, repo, &sha))
}

async fn check_runs(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = viewer(&store, &headers) {
        return r.into_response();
    }
    let Some(repo) = store.repo(&owner, &repo) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    match repo.pulls.iter().find(|p| p.head_sha == sha) {
        Some(pr) => json_ok(&headers, &render::check_runs(&store, repo, pr)),
        None => json_ok(&headers, &json!({"total_count": 0, "check_runs": []})),
    }
}

/// Why a write was refused before it started.
pub(crate) enum Refused {
    Anonymous,
    BadCredentials,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::Anonymous => error(StatusCode::UNAUTHORIZED, "Requires authentication"),
            Self::BadCredentials => BadCredentials.into_response(),
        }
    }
}

/// Why a read found nothing to show.
enum Unreadable {
    BadCredentials,
    NotFound,
}

impl IntoResponse for Unreadable {
    fn into_response(self) -> Response {
        match self {
            Self::BadCredentials => BadCredentials.into_response(),
            Self::NotFound => error(StatusCode::NOT_FOUND, "Not Found"),
        }
    }
}

/// The repository and pull request a read names, once the credential is accepted.
fn readable_pull<'a>(
    store: &'a Store,
    headers: &HeaderMap,
    owner: &str,
    repo: &str,
    number: u64,
) -> Result<(&'a crate::store::Repo, &'a crate::store::PullRequest), Unreadable> {
    viewer(store, headers).map_err(|BadCredentials| Unreadable::BadCredentials)?;
    let repo = store.repo(owner, repo).ok_or(Unreadable::NotFound)?;
    let pr = repo.pull(number).ok_or(Unreadable::NotFound)?;
    Ok((repo, pr))
}

/// Writes need the signed-in user.
pub(crate) fn writer(store: &Store, headers: &HeaderMap) -> Result<String, Refused> {
    match viewer(store, headers) {
        Ok(Some(login)) => Ok(login),
        Ok(None) => Err(Refused::Anonymous),
        Err(BadCredentials) => Err(Refused::BadCredentials),
    }
}

pub(crate) fn created(value: &Value) -> Response {
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

async fn create_status(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let login = match writer(&store, &headers) {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let state = body["state"].as_str().unwrap_or("");
    let description = body["description"].as_str().unwrap_or("");
    if !matches!(state, "error" | "failure" | "pending" | "success")
        || description.chars().count() > 140
    {
        // GitHub's own answer to a description over 140 characters.
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    }
    let id = store.next_status_id();
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let status = crate::store::CommitStatus {
        id,
        context: body["context"].as_str().unwrap_or("default").to_owned(),
        state: state.to_owned(),
        description: description.to_owned(),
        target_url: body["target_url"].as_str().map(str::to_owned),
        creator: login,
        created_at: chrono::Utc::now(),
    };
    r.statuses.push((sha, status.clone()));
    let r = r.clone();
    created(&render::status(&store, &r, &status))
}

async fn list_comments(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = viewer(&store, &headers) {
        return r.into_response();
    }
    let Some(repo) = store.repo(&owner, &repo) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let items = repo
        .comments
        .iter()
        .filter(|c| c.issue == number)
        .map(|c| render::comment(&store, repo, c))
        .collect();
    paginated(
        &headers,
        &store.base_url,
        &format!("/repos/{}/issues/{number}/comments", repo.full_name()),
        &q,
        items,
    )
}

async fn create_comment(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    let login = match writer(&store, &headers) {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let Some(text) = body["body"].as_str() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    };
    if text.chars().count() > GITHUB_COMMENT_MAX_CHARS {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: body is too long (maximum is 65536 characters)",
        );
    }
    let id = store.next_comment_id();
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if r.pull(number).is_none() {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let now = chrono::Utc::now();
    let comment = crate::store::Comment {
        id,
        issue: number,
        body: text.to_owned(),
        author: login,
        created_at: now,
        updated_at: now,
    };
    r.comments.push(comment.clone());
    let r = r.clone();
    created(&render::comment(&store, &r, &comment))
}

async fn update_comment(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = store.write().unwrap();
    if let Err(r) = writer(&store, &headers) {
        return r.into_response();
    }
    let Some(text) = body["body"].as_str() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    };
    if text.chars().count() > GITHUB_COMMENT_MAX_CHARS {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: body is too long (maximum is 65536 characters)",
        );
    }
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let Some(c) = r.comments.iter_mut().find(|c| c.id == id) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    c.body = text.to_owned();
    c.updated_at = chrono::Utc::now();
    let c = c.clone();
    let r = r.clone();
    let value = render::comment(&store, &r, &c);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

async fn delete_comment(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> Response {
    let mut store = store.write().unwrap();
    if let Err(r) = writer(&store, &headers) {
        return r.into_response();
    }
    let Some(r) = store
        .repos
        .iter_mut()
        .find(|r| r.owner == owner && r.name == repo)
    else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let before = r.comments.len();
    r.comments.retain(|c| c.id != id);
    if r.comments.len() == before {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn one_repo(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    let store = store.read().unwrap();
    if let Err(r) = viewer(&store, &headers) {
        return r.into_response();
    }
    match store.repo(&owner, &repo) {
        Some(r) => json_ok(&headers, &render::full_repository(&store, r)),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn pull_reviews(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Params,
) -> Response {
    let store = store.read().unwrap();
    let (repo, pr) = match readable_pull(&store, &headers, &owner, &repo, number) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let base = &store.base_url;
    let full = repo.full_name();
    let items = pr
        .reviews
        .iter()
        .enumerate()
        .map(|(i, (login, state, body))| {
            let id = pr.id * 100 + i as u64;
            let html = format!("{base}/{full}/pull/{number}#pullrequestreview-{id}");
            let api = format!("{base}/repos/{full}/pulls/{number}");
            json!({
                "id": id,
                "node_id": format!("PRR_{id}"),
                "user": render::simple_user(&store, login),
                "body": body,
                "state": state,
                "commit_id": pr.head_sha,
                "html_url": html,
                "pull_request_url": api,
                "_links": {"html": {"href": html}, "pull_request": {"href": api}},
                "submitted_at": pr.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "author_association": "MEMBER"
            })
        })
        .collect();
    paginated(
        &headers,
        &store.base_url,
        &format!("/repos/{full}/pulls/{number}/reviews"),
        &q,
        items,
    )
}
