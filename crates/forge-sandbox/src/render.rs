//! The store rendered in GitHub's REST shapes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use similar::TextDiff;

use crate::store::{object_id, FileChange, PullRequest, Repo, Store, User};

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn simple_user(store: &Store, login: &str) -> Value {
    let fallback = User {
        id: 0,
        login: login.to_owned(),
        name: login.to_owned(),
    };
    let u = store.user(login).unwrap_or(&fallback);
    let base = &store.base_url;
    let html = format!("{base}/{}", u.login);
    let api = format!("{base}/users/{}", u.login);
    json!({
        "login": u.login,
        "id": u.id,
        "node_id": format!("U_{}", u.id),
        "avatar_url": format!("{base}/avatars/{}", u.id),
        "gravatar_id": "",
        "url": api,
        "html_url": html,
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": "User",
        "user_view_type": "public",
        "site_admin": false
    })
}

/// `GET /user`: the private form, with the fields only the owner sees.
pub fn private_user(store: &Store, login: &str) -> Value {
    let mut v = simple_user(store, login);
    let name = store
        .user(login)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let obj = v.as_object_mut().expect("object");
    for (k, val) in [
        ("name", json!(name)),
        ("company", json!("ACME Medical")),
        ("blog", json!("")),
        ("location", Value::Null),
        ("email", Value::Null),
        ("hireable", Value::Null),
        ("bio", Value::Null),
        ("public_repos", json!(1)),
        ("public_gists", json!(0)),
        ("followers", json!(0)),
        ("following", json!(0)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2026-01-01T00:00:00Z")),
        ("private_gists", json!(0)),
        ("total_private_repos", json!(0)),
        ("owned_private_repos", json!(0)),
        ("disk_usage", json!(0)),
        ("collaborators", json!(0)),
        ("two_factor_authentication", json!(true)),
        (
            "plan",
            json!({"collaborators": 0, "name": "pro", "space": 976562499, "private_repos": 9999}),
        ),
    ] {
        obj.insert(k.to_owned(), val);
    }
    v
}

pub fn repository(store: &Store, repo: &Repo) -> Value {
    let base = &store.base_url;
    let full = repo.full_name();
    let api = format!("{base}/repos/{full}");
    let html = format!("{base}/{full}");
    let mut v = json!({
        "id": repo.id,
        "node_id": format!("R_{}", repo.id),
        "name": repo.name,
        "full_name": full,
        "private": false,
        "owner": simple_user(store, &repo.owner),
        "html_url": html,
        "description": repo.description,
        "fork": false,
        "url": api,
        "default_branch": repo.default_branch,
        "created_at": ts(repo.created_at),
        "updated_at": ts(repo.created_at),
        "pushed_at": ts(repo.created_at),
        "visibility": "public",
        "archived": false,
        "disabled": false,
        "clone_url": format!("{html}.git"),
        "git_url": format!("git://127.0.0.1/{full}.git"),
        "ssh_url": format!("git@127.0.0.1:{full}.git"),
        "svn_url": html,
        "mirror_url": null,
        "homepage": null,
        "language": "Rust",
        "license": null,
        "size": 2048,
        "forks": 0,
        "forks_count": 0,
        "watchers": 3,
        "watchers_count": 3,
        "stargazers_count": 3,
        "open_issues": repo.pulls.len(),
        "open_issues_count": repo.pulls.len(),
        "has_issues": true,
        "has_projects": false,
        "has_wiki": false,
        "has_pages": false,
        "has_downloads": false
    });
    // The URL templates GitHub sends with every repository.
    let templates = [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ];
    let obj = v.as_object_mut().expect("object");
    for (key, suffix) in templates {
        obj.insert(key.to_owned(), json!(format!("{api}{suffix}")));
    }
    v
}

/// `GET /repos/{owner}/{repo}`: the repository with the fields only that endpoint has.
pub fn full_repository(store: &Store, repo: &Repo) -> Value {
    let mut v = repository(store, repo);
    let obj = v.as_object_mut().expect("object");
    obj.insert("has_discussions".into(), json!(false));
    obj.insert("network_count".into(), json!(0));
    obj.insert("subscribers_count".into(), json!(3));
    obj.insert(
        "permissions".into(),
        json!({"admin": false, "maintain": false, "push": true, "triage": true, "pull": true}),
    );
    v
}

fn label(repo: &Repo, name: &str, idx: usize) -> Value {
    let color = match name {
        n if n.ends_with("high") => "b60205",
        n if n.ends_with("medium") => "fbca04",
        n if n.ends_with("low") => "0e8a16",
        _ => "c5def5",
    };
    json!({
        "id": repo.id * 100 + idx as u64,
        "node_id": format!("LA_{}_{idx}", repo.id),
        "url": format!("/repos/{}/labels/{name}", repo.full_name()),
        "name": name,
        "description": "",
        "color": color,
        "default": false
    })
}

fn branch(store: &Store, repo: &Repo, name: &str, sha: &str) -> Value {
    json!({
        "label": format!("{}:{name}", repo.owner),
        "ref": name,
        "sha": sha,
        "user": simple_user(store, &repo.owner),
        "repo": repository(store, repo)
    })
}

pub fn pull(store: &Store, repo: &Repo, pr: &PullRequest, full: bool) -> Value {
    let base = &store.base_url;
    let full_name = repo.full_name();
    let api = format!("{base}/repos/{full_name}/pulls/{}", pr.number);
    let html = format!("{base}/{full_name}/pull/{}", pr.number);
    let labels: Vec<Value> = pr
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| label(repo, l, i))
        .collect();
    let mut v = json!({
        "url": api,
        "id": pr.id,
        "node_id": format!("PR_{}", pr.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": format!("{base}/repos/{full_name}/issues/{}", pr.number),
        "commits_url": format!("{api}/commits"),
        "review_comments_url": format!("{api}/comments"),
        "review_comment_url": format!("{base}/repos/{full_name}/pulls/comments{{/number}}"),
        "comments_url": format!("{base}/repos/{full_name}/issues/{}/comments", pr.number),
        "statuses_url": format!("{base}/repos/{full_name}/statuses/{}", pr.head_sha),
        "number": pr.number,
        "state": "open",
        "locked": false,
        "title": pr.title,
        "user": simple_user(store, &pr.author),
        "body": pr.body,
        "labels": labels,
        "milestone": null,
        "active_lock_reason": null,
        "created_at": ts(pr.created_at),
        "updated_at": ts(pr.updated_at),
        "closed_at": null,
        "merged_at": null,
        "merge_commit_sha": null,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": branch(store, repo, &pr.head_ref, &pr.head_sha),
        "base": branch(store, repo, &pr.base_ref, &pr.base_sha),
        "_links": {
            "self": {"href": api},
            "html": {"href": html},
            "issue": {"href": format!("{base}/repos/{full_name}/issues/{}", pr.number)},
            "comments": {"href": format!("{base}/repos/{full_name}/issues/{}/comments", pr.number)},
            "review_comments": {"href": format!("{api}/comments")},
            "review_comment": {"href": format!("{base}/repos/{full_name}/pulls/comments{{/number}}")},
            "commits": {"href": format!("{api}/commits")},
            "statuses": {"href": format!("{base}/repos/{full_name}/statuses/{}", pr.head_sha)}
        },
        "author_association": if pr.author == "outside-contributor" { "FIRST_TIME_CONTRIBUTOR" } else { "MEMBER" },
        "auto_merge": null,
        "draft": pr.draft
    });
    if full {
        let (additions, deletions) = pr
            .files
            .iter()
            .map(line_counts)
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let obj = v.as_object_mut().expect("object");
        for (k, val) in [
            ("merged", json!(false)),
            ("mergeable", json!(true)),
            ("rebaseable", json!(true)),
            ("mergeable_state", json!("clean")),
            ("merged_by", Value::Null),
            ("comments", json!(0)),
            ("review_comments", json!(0)),
            ("maintainer_can_modify", json!(false)),
            ("commits", json!(pr.commits.len())),
            ("additions", json!(additions)),
            ("deletions", json!(deletions)),
            ("changed_files", json!(pr.files.len())),
        ] {
            obj.insert(k.to_owned(), val);
        }
    }
    v
}

/// What a change does to one file; each forge shape words it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Added,
    Removed,
    Renamed,
    Modified,
}

impl Change {
    pub(crate) fn of(f: &FileChange) -> Self {
        match (&f.old, &f.new) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            _ if f.previous_path.is_some() => Change::Renamed,
            _ => Change::Modified,
        }
    }

    /// GitHub's `status` word.
    fn github(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Renamed => "renamed",
            Change::Modified => "modified",
        }
    }
}

pub(crate) fn line_counts(f: &FileChange) -> (usize, usize) {
    let old = f.old.as_deref().unwrap_or("");
    let new = f.new.as_deref().unwrap_or("");
    let diff = TextDiff::from_lines(old, new);
    let mut add = 0;
    let mut del = 0;
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => add += 1,
            similar::ChangeTag::Delete => del += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    (add, del)
}

/// The hunks of one file, as GitHub's `patch` field carries them (no file header).
pub fn hunks(f: &FileChange) -> String {
    let old = f.old.as_deref().unwrap_or("");
    let new = f.new.as_deref().unwrap_or("");
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

pub fn file(store: &Store, repo: &Repo, pr: &PullRequest, f: &FileChange) -> Value {
    let (additions, deletions) = line_counts(f);
    let blob = object_id(&[f.new.as_deref().unwrap_or(""), &f.path]);
    let base = &store.base_url;
    let mut v = json!({
        "sha": blob,
        "filename": f.path,
        "status": Change::of(f).github(),
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": format!("{base}/{}/blob/{}/{}", repo.full_name(), pr.head_sha, f.path),
        "raw_url": format!("{base}/{}/raw/{}/{}", repo.full_name(), pr.head_sha, f.path),
        "contents_url": format!("{base}/repos/{}/contents/{}?ref={}", repo.full_name(), f.path, pr.head_sha),
        "patch": hunks(f)
    });
    let patch_len = v["patch"].as_str().map_or(0, str::len);
    if store
        .patch_limit_bytes
        .is_some_and(|limit| patch_len > limit)
    {
        // As GitHub does for large files: the key is absent, not null.
        v.as_object_mut().expect("object").remove("patch");
    }
    if let Some(prev) = &f.previous_path {
        v["previous_filename"] = json!(prev);
    }
    v
}

/// `Accept: application/vnd.github.diff`: the whole change as `git diff` prints it.
pub fn unified_diff(pr: &PullRequest) -> String {
    let mut out = String::new();
    for f in &pr.files {
        let old_path = f.previous_path.as_deref().unwrap_or(&f.path);
        let old_id = &object_id(&[f.old.as_deref().unwrap_or(""), old_path])[..7];
        let new_id = &object_id(&[f.new.as_deref().unwrap_or(""), &f.path])[..7];
        out.push_str(&format!("diff --git a/{old_path} b/{}\n", f.path));
        match (&f.old, &f.new) {
            (None, _) => {
                out.push_str("new file mode 100644\n");
                out.push_str(&format!(
                    "index 0000000..{new_id}\n--- /dev/null\n+++ b/{}\n",
                    f.path
                ));
            }
            (_, None) => {
                out.push_str("deleted file mode 100644\n");
                out.push_str(&format!(
                    "index {old_id}..0000000\n--- a/{old_path}\n+++ /dev/null\n"
                ));
            }
            _ => {
                out.push_str(&format!(
                    "index {old_id}..{new_id} 100644\n--- a/{old_path}\n+++ b/{}\n",
                    f.path
                ));
            }
        }
        out.push_str(&hunks(f));
    }
    out
}

pub fn commit(store: &Store, repo: &Repo, c: &crate::store::Commit, parent: &str) -> Value {
    let base = &store.base_url;
    let full = repo.full_name();
    // As GitHub: the git identity is whatever the commit says; the account
    // links are the forge's, `null` when no account has that e-mail.
    let person = |login: &str, email: &Option<String>| {
        let user = store.user(login);
        let name = user.map_or_else(|| login.to_owned(), |u| u.name.clone());
        let email = email.clone().unwrap_or_else(|| match user {
            Some(u) => format!("{}+{}@users.noreply.github.com", u.id, u.login),
            None => format!("{login}@unknown.example"),
        });
        (
            json!({"name": name, "email": email, "date": ts(c.date)}),
            user.map_or(Value::Null, |u| simple_user(store, &u.login)),
        )
    };
    let (author, author_account) = person(&c.author, &c.author_email);
    let (committer, committer_account) = match &c.committer {
        Some(login) => person(login, &c.committer_email),
        None => person(&c.author, &c.author_email),
    };
    json!({
        "url": format!("{base}/repos/{full}/commits/{}", c.sha),
        "sha": c.sha,
        "node_id": format!("C_{}", &c.sha[..12]),
        "html_url": format!("{base}/{full}/commit/{}", c.sha),
        "comments_url": format!("{base}/repos/{full}/commits/{}/comments", c.sha),
        "commit": {
            "url": format!("{base}/repos/{full}/git/commits/{}", c.sha),
            "author": author,
            "committer": committer,
            "message": c.message,
            "comment_count": 0,
            "tree": {"sha": object_id(&[&c.sha, "tree"]), "url": format!("{base}/repos/{full}/git/trees/{}", object_id(&[&c.sha, "tree"]))},
            "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null}
        },
        "author": author_account,
        "committer": committer_account,
        "parents": [{"sha": parent, "url": format!("{base}/repos/{full}/commits/{parent}"), "html_url": format!("{base}/{full}/commit/{parent}")}]
    })
}

pub fn combined_status(store: &Store, repo: &Repo, sha: &str) -> Value {
    let base = &store.base_url;
    let full = repo.full_name();
    // Latest status per context wins, as on GitHub.
    let mut latest: Vec<&crate::store::CommitStatus> = Vec::new();
    for (s_sha, st) in repo.statuses.iter().rev() {
        if s_sha == sha && !latest.iter().any(|l| l.context == st.context) {
            latest.push(st);
        }
    }
    let state = if latest.is_empty() || latest.iter().any(|s| s.state == "pending") {
        "pending"
    } else if latest.iter().all(|s| s.state == "success") {
        "success"
    } else {
        "failure"
    };
    let statuses: Vec<Value> = latest.iter().map(|s| status(store, repo, s)).collect();
    json!({
        "state": state,
        "statuses": statuses,
        "sha": sha,
        "total_count": latest.len(),
        "repository": repository(store, repo),
        "commit_url": format!("{base}/repos/{full}/commits/{sha}"),
        "url": format!("{base}/repos/{full}/commits/{sha}/status")
    })
}

pub fn status(store: &Store, repo: &Repo, s: &crate::store::CommitStatus) -> Value {
    json!({
        "url": format!("{}/repos/{}/statuses/{}", store.base_url, repo.full_name(), s.id),
        "avatar_url": null,
        "id": s.id,
        "node_id": format!("SC_{}", s.id),
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": ts(s.created_at),
        "updated_at": ts(s.created_at),
        "creator": simple_user(store, &s.creator)
    })
}

/// A GitHub App as check runs name their creator.
fn app(store: &Store, slug: &str) -> Value {
    let base = &store.base_url;
    let id = crate::store::object_id(&[slug])[..6]
        .chars()
        .fold(0u64, |n, c| n * 16 + u64::from(c.to_digit(16).unwrap_or(0)));
    json!({
        "id": id,
        "slug": slug,
        "node_id": format!("A_{id}"),
        "owner": simple_user(store, slug),
        "name": slug,
        "description": null,
        "external_url": format!("{base}/apps/{slug}"),
        "html_url": format!("{base}/apps/{slug}"),
        "created_at": "2018-07-30T09:30:17Z",
        "updated_at": "2024-04-10T20:33:16Z",
        "permissions": {"checks": "write", "metadata": "read"},
        "events": ["check_run"]
    })
}

pub fn check_runs(store: &Store, repo: &Repo, pr: &PullRequest) -> Value {
    let base = &store.base_url;
    let runs: Vec<Value> = pr
        .check_runs
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "head_sha": pr.head_sha,
                "node_id": format!("CR_{}", r.id),
                "external_id": "",
                "url": format!("{base}/repos/{}/check-runs/{}", repo.full_name(), r.id),
                "html_url": format!("{base}/{}/runs/{}", repo.full_name(), r.id),
                "details_url": format!("{base}/{}/runs/{}", repo.full_name(), r.id),
                "status": "completed",
                "conclusion": r.conclusion,
                "started_at": ts(r.started_at),
                "completed_at": ts(r.completed_at),
                "output": {"title": r.name, "summary": format!("{} {}", r.name, r.conclusion), "text": null, "annotations_count": 0, "annotations_url": format!("{base}/repos/{}/check-runs/{}/annotations", repo.full_name(), r.id)},
                "name": r.name,
                "check_suite": {"id": r.id},
                "app": r.app.as_deref().map_or(Value::Null, |slug| app(store, slug)),
                "pull_requests": []
            })
        })
        .collect();
    json!({"total_count": runs.len(), "check_runs": runs})
}

pub fn comment(store: &Store, repo: &Repo, c: &crate::store::Comment) -> Value {
    let base = &store.base_url;
    let full = repo.full_name();
    json!({
        "id": c.id,
        "node_id": format!("IC_{}", c.id),
        "url": format!("{base}/repos/{full}/issues/comments/{}", c.id),
        "html_url": format!("{base}/{full}/pull/{}#issuecomment-{}", c.issue, c.id),
        "issue_url": format!("{base}/repos/{full}/issues/{}", c.issue),
        "body": c.body,
        "user": simple_user(store, &c.author),
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "author_association": "MEMBER"
    })
}
