// GitLab's published REST description, for the routes Countersign's GitLab
// client uses, written out as a Swagger 2.0 document Prism can check against.
//
//     node gitlab-description.mjs OUT.json PREFIX
//
// GitLab publishes its description as `doc/api/openapi/openapi_v2.yaml` in
// its own repository (read at commit 0338625c4996c8b4dde44bd86d1767b654121ee7);
// it is on no package registry this project can install from, so it cannot be
// cut like Gitea's. This file states what that description says about each
// route used here — paths, parameters, status codes, and the type of each
// field of the entities involved — and marks every place where it is patched
// and why. PREFIX is where the sandbox serves GitLab's shape (Prism ignores
// `basePath`); GitLab's own paths start at `/api/v4`.
//
// Where the description is wrong about what GitLab sends (checked against
// GitLab's API documentation and the client's fault tests), it is patched:
//
// 1. GET repository/branches/{branch}: `branch` is declared an integer; every
//    other branch route, and GitLab, take a name.
// 2. GET merge_requests/{iid}/approvals: the project `id` is declared an
//    integer; every other project route, and GitLab, take the ID or the
//    URL-encoded path.
// 3. GET merge_requests/{iid}/commits and /diffs answer a list (they are
//    paginated); the description gives a single entity.
// 4. `approved_by` of MergeRequestApprovals, and `assignees`/`reviewers` of a
//    merge request, are lists; the description gives a single entity.
// 5. POST repository/commits takes JSON (branch, commit_message, actions…, as
//    GitLab's commits API documents); the description gives a multipart
//    `file`. Its body is written here from that documentation.
// 6. POST statuses/{sha} and POST repository/commits answer 201 Created, as
//    every Grape POST does unless told otherwise; the description says 200.
//    Both are accepted.
// 7. Entities the generator had no documentation for are written as
//    `type: string` with no example (`draft`, `labels`, `user_notes_count`,
//    `merge_status`…), though GitLab sends booleans, lists and numbers there:
//    those fields are left untyped (U below) rather than wrongly typed.
// 8. GitLab sends `null` for any field it has no value for; Swagger 2.0
//    cannot say so, so every response field is `x-nullable`.
// 9. 404 is added where the client reads "absent" from it (a file, a branch).
//
// Routes not found in the description: GET /user, and GET/POST/PUT on merge
// request notes. It is read 16 kB at a time; about 35 of its 135 pages were
// read, chosen by where each module's routes sit, and its tag list names no
// `notes`. These routes are listed with no response schema, so Prism checks
// only that they are called as routes; the sandbox follows GitLab's notes and
// users API documentation there. Entities referenced but not in the pages read
// (API_Entities_Commit, API_Entities_DiffRefs, API_Entities_ProjectWithAccess)
// are written from the entities they share fields with (CommitDetail,
// Project) and GitLab's documentation of `diff_refs`, as noted at each.

import { writeFileSync } from "node:fs";

const [target, prefix] = process.argv.slice(2);
if (!target || prefix === undefined) {
  throw new Error("usage: node gitlab-description.mjs OUT.json PREFIX");
}

const S = { type: "string" };
const I = { type: "integer" };
const B = { type: "boolean" };
const N = { type: "number" };
const T = { type: "string", format: "date-time" };
/** A field the description leaves undocumented (patch 7). */
const U = {};
const list = (items) => ({ type: "array", items });
const obj = (properties) => ({ type: "object", properties });
const ref = (name) => ({ $ref: `#/definitions/${name}` });

const definitions = {
  UserBasic: obj({
    id: I, username: S, public_email: S, name: S, state: S, locked: B,
    avatar_url: S, avatar_path: S, custom_attributes: list(obj({ key: S, value: S })),
    web_url: S,
  }),
  // Read: the entity and its `type: string` placeholders (patch 7).
  User: obj({
    id: I, username: S, public_email: S, name: S, state: S, locked: B,
    avatar_url: S, avatar_path: S, web_url: S, created_at: U, bio: U,
  }),
  // Not read: the fields GitLab's API_Entities_CommitDetail has beside it.
  Commit: obj({
    id: S, short_id: S, created_at: T, parent_ids: list(S), title: S, message: S,
    author_name: S, author_email: S, authored_date: T, committer_name: S,
    committer_email: S, committed_date: T, trailers: { type: "object" },
    extended_trailers: { type: "object" }, web_url: S,
  }),
  CommitDetail: obj({
    id: S, short_id: S, created_at: T, parent_ids: list(S), title: S, message: S,
    author_name: S, author_email: S, authored_date: T, committer_name: S,
    committer_email: S, committed_date: T, trailers: { type: "object" },
    extended_trailers: { type: "object" }, web_url: S,
    stats: obj({ additions: I, deletions: I, total: I }), status: S, project_id: I,
    last_pipeline: ref("PipelineBasic"),
  }),
  Branch: obj({
    name: S, commit: ref("Commit"), merged: B, protected: B, developers_can_push: B,
    developers_can_merge: B, can_push: B, default: B, web_url: S,
  }),
  CommitStatus: obj({
    id: I, sha: S, ref: S, status: S, name: S, target_url: S, description: S,
    created_at: T, started_at: T, finished_at: T, allow_failure: B, coverage: N,
    pipeline_id: I, author: ref("UserBasic"),
  }),
  PipelineBasic: obj({
    id: I, iid: I, project_id: I, sha: S, ref: S, status: S, source: S,
    created_at: T, updated_at: T, web_url: S,
  }),
  Job: obj({
    id: I, status: S, stage: S, name: S, ref: S, tag: B, coverage: N, allow_failure: B,
    created_at: T, started_at: T, finished_at: T, erased_at: T, duration: N,
    queued_duration: N, user: ref("User"), commit: ref("Commit"),
    pipeline: ref("PipelineBasic"), failure_reason: S, web_url: S,
    project: obj({ ci_job_token_scope_enabled: S }),
    artifacts_file: obj({ filename: S, size: I }),
    artifacts: list(obj({
      file_type: { type: "string", enum: [
        "archive", "metadata", "trace", "junit", "sast", "dependency_scanning",
        "container_scanning", "dast", "codequality", "license_scanning", "performance",
        "metrics", "metrics_referee", "network_referee", "lsif", "dotenv", "cobertura",
        "terraform", "accessibility", "cluster_applications", "secret_detection",
        "requirements", "coverage_fuzzing", "browser_performance", "load_performance",
        "api_fuzzing", "cluster_image_scanning", "cyclonedx", "requirements_v2",
        "annotations", "repository_xray", "jacoco", "scip",
      ] },
      size: I, filename: S,
      file_format: { type: "string", enum: ["raw", "zip", "gzip"] },
    })),
    runner: U, runner_manager: U, artifacts_expire_at: T, archived: B, tag_list: list(S),
  }),
  Diff: obj({
    diff: S, collapsed: B, too_large: B, new_path: S, old_path: S, a_mode: S, b_mode: S,
    new_file: B, renamed_file: B, deleted_file: B, generated_file: B,
  }),
  IssuableReferences: obj({ short: S, relative: S, full: S }),
  MergeRequestBasic: obj(mergeRequestFields()),
  MergeRequest: obj({
    ...mergeRequestFields(),
    subscribed: U, changes_count: U, latest_build_started_at: U,
    latest_build_finished_at: U, first_deployed_to_production_at: U,
    pipeline: ref("PipelineBasic"), head_pipeline: U,
    // Not read: API_Entities_DiffRefs.
    diff_refs: obj({ base_sha: S, head_sha: S, start_sha: S }),
    merge_error: U, rebase_in_progress: U, diverged_commits_count: U,
    first_contribution: U, user: obj({ can_merge: U }),
  }),
  MergeRequestApprovals: obj({
    user_has_approved: B, user_can_approve: B, approved: B,
    approved_by: list(obj({ user: ref("UserBasic"), approved_at: T })), // patch 4
  }),
  BasicProjectDetails: obj(projectFields()),
  // Not read: API_Entities_ProjectWithAccess, which extends API_Entities_Project.
  ProjectWithAccess: obj({
    ...projectFields(),
    ci_config_path: S, empty_repo: B, archived: B, owner: ref("UserBasic"),
    permissions: U,
  }),
};

function mergeRequestFields() {
  return {
    id: I, iid: I, project_id: I, title: S, description: S, state: S,
    created_at: T, updated_at: T, merged_by: ref("UserBasic"), merge_user: ref("UserBasic"),
    merged_at: U, closed_by: ref("UserBasic"), closed_at: U, title_html: U,
    description_html: U, target_branch: U, source_branch: U, user_notes_count: U,
    upvotes: U, downvotes: U, author: ref("UserBasic"),
    assignees: list(ref("UserBasic")), // patch 4
    assignee: ref("UserBasic"),
    reviewers: list(ref("UserBasic")), // patch 4
    source_project_id: U, target_project_id: U, labels: U, draft: U, imported: U,
    imported_from: S, work_in_progress: U, milestone: U, merge_when_pipeline_succeeds: U,
    merge_status: U, detailed_merge_status: U, merge_after: U, sha: U,
    merge_commit_sha: U, squash_commit_sha: U, discussion_locked: U,
    should_remove_source_branch: U, force_remove_source_branch: U, prepared_at: U,
    allow_collaboration: U, allow_maintainer_to_push: U, reference: U,
    references: ref("IssuableReferences"), web_url: U, time_stats: U, squash: U,
    squash_on_merge: U, task_completion_status: U, has_conflicts: U,
    blocking_discussions_resolved: U, approvals_before_merge: U,
  };
}

function projectFields() {
  return {
    id: I, description: S, name: S, name_with_namespace: S, path: S,
    path_with_namespace: S, created_at: T, default_branch: S, tag_list: list(S),
    topics: list(S), ssh_url_to_repo: S, http_url_to_repo: S, web_url: S, readme_url: S,
    forks_count: I, license_url: S, license: U, avatar_url: S, star_count: I,
    last_activity_at: T, visibility: S,
    namespace: obj({
      id: I, name: S, path: S, kind: S, full_path: S, parent_id: I, avatar_url: S,
      web_url: S,
    }),
    custom_attributes: U, repository_storage: S,
  };
}

// Patch 8: GitLab writes `null` for an absent value anywhere in an answer.
function nullable(schema) {
  if (!schema || typeof schema !== "object") return;
  if (schema.properties) {
    for (const field of Object.values(schema.properties)) {
      if (!field.$ref) field["x-nullable"] = true;
      nullable(field);
    }
  }
  if (schema.items) nullable(schema.items);
}
// Each field is its own object so marking one never marks another.
for (const [name, def] of Object.entries(definitions)) {
  definitions[name] = JSON.parse(JSON.stringify(def));
  nullable(definitions[name]);
}

const projectId = {
  in: "path", name: "id", type: "string", required: true,
  description: "The ID or URL-encoded path of the project",
};
const iid = { in: "path", name: "merge_request_iid", type: "integer", required: true };
const page = [
  { in: "query", name: "page", type: "integer", required: false },
  { in: "query", name: "per_page", type: "integer", required: false },
];
const ok = (schema) => ({ description: "OK", ...(schema ? { schema } : {}) });
const created = (schema) => ({ description: "Created", schema });
const absent = { description: "Not found" };
const body = (schema) => ({ in: "body", name: "body", required: true, schema });
const noteBody = body({ type: "object", required: ["body"], properties: { body: S } });
const sort = { in: "query", name: "sort", type: "string", enum: ["asc", "desc"], required: false };

/** The routes the GitLab client calls, by path (under /api/v4) and method. */
const paths = {
  // Not in the description (see the head of this file).
  "/user": { get: { responses: { default: ok() } } },
  "/projects": {
    get: {
      parameters: [
        { in: "query", name: "membership", type: "boolean", required: false },
        {
          in: "query", name: "order_by", type: "string", required: false,
          enum: [
            "id", "name", "path", "created_at", "updated_at", "last_activity_at",
            "similarity", "star_count", "storage_size", "repository_size", "wiki_size",
            "packages_size",
          ],
        },
        sort,
        ...page,
      ],
      responses: { 200: ok(list(ref("BasicProjectDetails"))) },
    },
  },
  "/projects/{id}": {
    get: { parameters: [projectId], responses: { 200: ok(ref("ProjectWithAccess")) } },
  },
  "/projects/{id}/merge_requests": {
    get: {
      parameters: [
        projectId,
        {
          in: "query", name: "state", type: "string", required: false,
          enum: ["opened", "closed", "locked", "merged", "all"],
        },
        {
          in: "query", name: "order_by", type: "string", required: false,
          enum: [
            "created_at", "label_priority", "milestone_due", "popularity", "priority",
            "title", "updated_at", "merged_at",
          ],
        },
        sort,
        ...page,
      ],
      responses: { 200: ok(list(ref("MergeRequestBasic"))), 404: absent },
    },
    // The body's entity was not read; GitLab takes source_branch,
    // target_branch and title (required), description.
    post: {
      parameters: [projectId, body(obj({
        source_branch: S, target_branch: S, title: S, description: S,
      }))],
      responses: { 201: created(ref("MergeRequest")) },
    },
  },
  "/projects/{id}/merge_requests/{merge_request_iid}": {
    get: { parameters: [projectId, iid], responses: { 200: ok(ref("MergeRequest")), 404: absent } },
  },
  "/projects/{id}/merge_requests/{merge_request_iid}/diffs": {
    get: {
      parameters: [projectId, iid, ...page],
      responses: { 200: ok(list(ref("Diff"))), 404: absent }, // patch 3
    },
  },
  "/projects/{id}/merge_requests/{merge_request_iid}/commits": {
    get: {
      parameters: [projectId, iid, ...page],
      responses: { 200: ok(list(ref("Commit"))), 404: absent }, // patch 3
    },
  },
  "/projects/{id}/merge_requests/{merge_request_iid}/approvals": {
    get: {
      parameters: [projectId, iid], // patch 2
      responses: { 200: ok(ref("MergeRequestApprovals")), 404: absent },
    },
  },
  // Not in the description (see the head of this file); the note's `body`
  // as GitLab's notes API documents it.
  "/projects/{id}/merge_requests/{noteable_id}/notes": {
    get: { parameters: [projectId, { ...iid, name: "noteable_id" }, ...page], responses: { default: ok() } },
    post: {
      parameters: [projectId, { ...iid, name: "noteable_id" }, noteBody],
      responses: { default: ok() },
    },
  },
  "/projects/{id}/merge_requests/{noteable_id}/notes/{note_id}": {
    put: {
      parameters: [
        projectId, { ...iid, name: "noteable_id" },
        { in: "path", name: "note_id", type: "integer", required: true },
        noteBody,
      ],
      responses: { default: ok() },
    },
  },
  "/projects/{id}/repository/commits/{sha}/statuses": {
    get: {
      parameters: [
        projectId,
        { in: "path", name: "sha", type: "string", required: true },
        { in: "query", name: "ref", type: "string", required: false },
        { in: "query", name: "all", type: "boolean", required: false },
        ...page,
      ],
      responses: { 200: ok(list(ref("CommitStatus"))), 404: absent },
    },
  },
  "/projects/{id}/statuses/{sha}": {
    post: {
      parameters: [
        projectId,
        { in: "path", name: "sha", type: "string", required: true },
        body({
          type: "object",
          required: ["state"],
          properties: {
            state: {
              type: "string",
              enum: ["pending", "running", "success", "failed", "canceled", "skipped"],
            },
            ref: S, target_url: S, description: S, name: S, context: S, coverage: N,
            pipeline_id: I,
          },
        }),
      ],
      // patch 6
      responses: { 200: ok(ref("CommitStatus")), 201: created(ref("CommitStatus")) },
    },
  },
  "/projects/{id}/repository/files/{file_path}": {
    get: {
      parameters: [
        projectId,
        { in: "path", name: "file_path", type: "string", required: true },
        { in: "query", name: "ref", type: "string", required: true },
      ],
      responses: { 200: ok(), 404: absent }, // no schema in the description; patch 9
    },
  },
  "/projects/{id}/repository/branches": {
    get: {
      parameters: [
        projectId,
        { in: "query", name: "search", type: "string", required: false },
        { in: "query", name: "regex", type: "string", required: false },
        {
          in: "query", name: "sort", type: "string", required: false,
          enum: ["name_asc", "updated_asc", "updated_desc"],
        },
        { in: "query", name: "page_token", type: "string", required: false },
        ...page,
      ],
      responses: { 200: ok(list(ref("Branch"))), 404: absent },
    },
  },
  "/projects/{id}/repository/branches/{branch}": {
    get: {
      parameters: [projectId, { in: "path", name: "branch", type: "string", required: true }], // patch 1
      responses: { 200: ok(ref("Branch")), 404: absent },
    },
  },
  "/projects/{id}/repository/commits": {
    get: {
      parameters: [
        projectId,
        { in: "query", name: "ref_name", type: "string", required: false },
        { in: "query", name: "path", type: "string", required: false },
        { in: "query", name: "all", type: "boolean", required: false },
        { in: "query", name: "first_parent", type: "boolean", required: false },
        {
          in: "query", name: "order", type: "string", required: false,
          enum: ["default", "topo"],
        },
        ...page,
      ],
      responses: { 200: ok(list(ref("Commit"))), 404: absent },
    },
    post: {
      parameters: [
        projectId,
        body({ // patch 5
          type: "object",
          required: ["branch", "commit_message", "actions"],
          properties: {
            branch: S, commit_message: S, start_branch: S, start_sha: S, author_email: S,
            author_name: S, force: B, stats: B,
            actions: list({
              type: "object",
              required: ["action", "file_path"],
              properties: {
                action: { type: "string", enum: ["create", "delete", "move", "update", "chmod"] },
                file_path: S, previous_path: S, content: S,
                encoding: { type: "string", enum: ["text", "base64"] },
                last_commit_id: S, execute_filemode: B,
              },
            }),
          },
        }),
      ],
      // patch 6
      responses: { 200: ok(ref("CommitDetail")), 201: created(ref("CommitDetail")) },
    },
  },
  "/projects/{id}/pipelines": {
    get: {
      parameters: [
        projectId,
        { in: "query", name: "sha", type: "string", required: false },
        { in: "query", name: "ref", type: "string", required: false },
        ...page,
      ],
      responses: { 200: ok(list(ref("PipelineBasic"))) },
    },
  },
  "/projects/{id}/pipelines/{pipeline_id}/jobs": {
    get: {
      parameters: [
        projectId,
        { in: "path", name: "pipeline_id", type: "integer", required: true },
        { in: "query", name: "include_retried", type: "boolean", required: false },
        ...page,
      ],
      responses: { 200: ok(list(ref("Job"))), 404: absent },
    },
  },
  "/projects/{id}/jobs/{job_id}/artifacts": {
    get: {
      parameters: [projectId, { in: "path", name: "job_id", type: "integer", required: true }],
      // The archive itself: no schema in the description.
      produces: ["application/zip", "application/octet-stream"],
      responses: { 200: ok(), 404: absent },
    },
  },
};

const spec = {
  swagger: "2.0",
  info: { title: "GitLab API (the routes Countersign uses)", version: "v4" },
  produces: ["application/json"],
  consumes: ["application/json"],
  paths: Object.fromEntries(
    Object.entries(paths).map(([path, ops]) => [`${prefix}/api/v4${path}`, ops]),
  ),
  definitions,
};
writeFileSync(target, JSON.stringify(spec, null, 1));
