// Cut GitHub's official OpenAPI description (npm @octokit/openapi) down to the
// operations Countersign's client uses, and patch in what GitHub enforces but
// the description leaves out. Regenerate, never hand-edit the output:
//
//     node cut-spec.mjs OUT.json
//
// Patches, each for a reason found when running Prism against it:
// - media types: the description lists only application/json, but clients send
//   `Accept: application/vnd.github+json` and ask for diffs with
//   `application/vnd.github.diff`; without them Prism answers 406.
// - `per_page` has maximum 100 and a commit status description at most 140
//   characters: GitHub rejects more, the description does not say so.
// - `nullable: true` without `type` (e.g. commit author/committer) does not
//   compile in Prism's validator, which then skips the whole body silently;
//   such schemas become `anyOf: [schema, {type: "null"}]` and the run fails if
//   any remain.

import { readFileSync, writeFileSync } from "node:fs";

const SOURCE = new URL("./node_modules/@octokit/openapi/generated/api.github.com.json", import.meta.url);

/** The operations the forge client calls, by path and method. */
export const USED = {
  "/user": ["get"],
  "/user/repos": ["get"],
  "/repos/{owner}/{repo}": ["get"],
  "/repos/{owner}/{repo}/pulls": ["get", "post"],
  "/repos/{owner}/{repo}/pulls/{pull_number}": ["get"],
  "/repos/{owner}/{repo}/pulls/{pull_number}/files": ["get"],
  "/repos/{owner}/{repo}/pulls/{pull_number}/commits": ["get"],
  "/repos/{owner}/{repo}/pulls/{pull_number}/reviews": ["get"],
  "/repos/{owner}/{repo}/commits/{ref}/status": ["get"],
  "/repos/{owner}/{repo}/commits/{ref}/check-runs": ["get"],
  "/repos/{owner}/{repo}/statuses/{sha}": ["post"],
  "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
  "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["patch"],
  "/repos/{owner}/{repo}/contents/{path}": ["get"],
  "/repos/{owner}/{repo}/git/blobs": ["post"],
  "/repos/{owner}/{repo}/git/blobs/{file_sha}": ["get"],
  "/repos/{owner}/{repo}/git/trees": ["post"],
  "/repos/{owner}/{repo}/git/trees/{tree_sha}": ["get"],
  "/repos/{owner}/{repo}/git/commits": ["post"],
  "/repos/{owner}/{repo}/git/commits/{commit_sha}": ["get"],
  "/repos/{owner}/{repo}/git/ref/{ref}": ["get"],
  "/repos/{owner}/{repo}/git/matching-refs/{ref}": ["get"],
  "/repos/{owner}/{repo}/git/refs": ["post"],
  "/repos/{owner}/{repo}/git/refs/{ref}": ["patch"],
  "/repos/{owner}/{repo}/actions/runs": ["get"],
  "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts": ["get"],
  "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}": ["get"],
};

const spec = JSON.parse(readFileSync(SOURCE, "utf8"));
// Only what an HTTP client meets: webhooks and tags would pull in the rest.
const out = { openapi: spec.openapi, info: spec.info, servers: spec.servers, paths: {}, components: {} };

for (const [path, methods] of Object.entries(USED)) {
  const item = spec.paths[path];
  if (!item) throw new Error(`GitHub's description has no ${path}`);
  out.paths[path] = {};
  for (const m of methods) {
    if (!item[m]) throw new Error(`GitHub's description has no ${m.toUpperCase()} ${path}`);
    out.paths[path][m] = structuredClone(item[m]);
  }
  if (item.parameters) out.paths[path].parameters = structuredClone(item.parameters);
}

// Keep only the components reachable from the kept operations.
const keep = new Set();
function walk(node) {
  if (Array.isArray(node)) return node.forEach(walk);
  if (node === null || typeof node !== "object") return;
  if (typeof node.$ref === "string" && node.$ref.startsWith("#/components/")) {
    if (!keep.has(node.$ref)) {
      keep.add(node.$ref);
      const [, , kind, name] = node.$ref.split("/");
      walk(spec.components[kind][name]);
    }
  }
  Object.values(node).forEach(walk);
}
walk(out.paths);
for (const ref of keep) {
  const [, , kind, name] = ref.split("/");
  out.components[kind] ??= {};
  out.components[kind][name] = structuredClone(spec.components[kind][name]);
}

// Media types the description leaves out.
for (const [path, item] of Object.entries(out.paths)) {
  for (const op of Object.values(item)) {
    if (!op || typeof op !== "object" || !op.responses) continue;
    for (const resp of Object.values(op.responses)) {
      const json = resp.content?.["application/json"];
      if (json) resp.content["application/vnd.github+json"] = json;
    }
    if (op.requestBody?.content?.["application/json"]) {
      op.requestBody.content["application/vnd.github+json"] = op.requestBody.content["application/json"];
    }
  }
  if (path === "/repos/{owner}/{repo}/pulls/{pull_number}") {
    const ok = item.get.responses["200"];
    ok.content["application/vnd.github.diff"] = { schema: { type: "string" } };
  }
}

// Limits GitHub enforces.
if (out.components.parameters?.["per-page"]) out.components.parameters["per-page"].schema.maximum = 100;
const statusBody = out.paths["/repos/{owner}/{repo}/statuses/{sha}"].post.requestBody.content["application/json"].schema;
statusBody.properties.description.maxLength = 140;

// `nullable` without `type` → anyOf with null.
let rewritten = 0;
function fixNullable(node) {
  if (Array.isArray(node)) return node.forEach(fixNullable);
  if (node === null || typeof node !== "object") return;
  Object.values(node).forEach(fixNullable);
  if (node.nullable === true && node.type === undefined) {
    const inner = { ...node };
    delete inner.nullable;
    for (const k of Object.keys(node)) delete node[k];
    node.anyOf = [inner, { type: "null" }];
    rewritten++;
  }
}
fixNullable(out);
let left = 0;
JSON.stringify(out, (k, v) => {
  if (v && typeof v === "object" && v.nullable === true && v.type === undefined) left++;
  return v;
});
if (left > 0) throw new Error(`${left} nullable schemas without a type remain`);

const target = process.argv[2];
if (!target) throw new Error("usage: node cut-spec.mjs OUT.json");
writeFileSync(target, JSON.stringify(out));
console.error(`cut ${Object.keys(out.paths).length} paths, ${keep.size} components, rewrote ${rewritten} nullable schemas -> ${target}`);
