// Cut Gitea's or Forgejo's published Swagger 2.0 description (copied, MIT,
// into specs/) down to the operations Countersign's Gitea client uses, and
// patch what Prism needs or the forge does but the description leaves out.
// Regenerate, never hand-edit the output:
//
//     node cut-gitea-spec.mjs gitea|forgejo OUT.json PREFIX
//
// Patches, each for a reason found when running Prism against it:
// - paths: Prism ignores `basePath`, so PREFIX (where the sandbox serves this
//   shape, e.g. `/api/v1` or `/forgejo/api/v1`) is put in front of each path.
// - `contents/{filepath}` answers a list for a directory (the client asks
//   whether a workflow folder exists); the description says an object only,
//   and Swagger 2.0 cannot say "either", so that answer is left unchecked.
// - fields Go sends as `null` when unset (a directory entry's `content` and
//   `encoding`) are declared plain strings; they get `x-nullable`.
// - Gitea's artifact download is described as a bare 302; Prism's proxy
//   follows the redirect and validates the zip it fetches, so a 200 with
//   `application/zip` is added (the redirect itself is checked without Prism).
// - `pulls/{index}.{diffType}` answers `text/plain`; Prism needs the media
//   type on the response to accept it.
// - `{filepath}` and `{ref}` take slashes, which Prism's router does not: the
//   same operations are repeated for two and three path segments.

import { readFileSync, writeFileSync } from "node:fs";

const [flavor, target, prefix] = process.argv.slice(2);
const SOURCES = {
  gitea: "./specs/gitea-1.27.1.swagger.v1.json",
  forgejo: "./specs/forgejo-16.0.1.swagger.v1.json",
};
if (!SOURCES[flavor] || !target || prefix === undefined) {
  throw new Error("usage: node cut-gitea-spec.mjs gitea|forgejo OUT.json PREFIX");
}
const spec = JSON.parse(readFileSync(new URL(SOURCES[flavor], import.meta.url), "utf8"));

const run = flavor === "gitea" ? "{run}" : "{run_id}";
/** The operations the Gitea client calls, by path and method. */
const USED = {
  "/user": ["get"],
  "/user/repos": ["get"],
  "/repos/{owner}/{repo}": ["get"],
  "/repos/{owner}/{repo}/pulls": ["get", "post"],
  "/repos/{owner}/{repo}/pulls/{index}": ["get"],
  "/repos/{owner}/{repo}/pulls/{index}.{diffType}": ["get"],
  "/repos/{owner}/{repo}/pulls/{index}/files": ["get"],
  "/repos/{owner}/{repo}/pulls/{index}/commits": ["get"],
  "/repos/{owner}/{repo}/pulls/{index}/reviews": ["get"],
  "/repos/{owner}/{repo}/commits": ["get"],
  "/repos/{owner}/{repo}/commits/{ref}/status": ["get"],
  "/repos/{owner}/{repo}/statuses/{sha}": ["post"],
  "/repos/{owner}/{repo}/issues/{index}/comments": ["get", "post"],
  "/repos/{owner}/{repo}/issues/comments/{id}": ["patch"],
  "/repos/{owner}/{repo}/contents/{filepath}": ["get", "post", "put"],
  "/repos/{owner}/{repo}/git/blobs/{sha}": ["get"],
  "/repos/{owner}/{repo}/git/refs/{ref}": ["get"],
  "/repos/{owner}/{repo}/actions/runs": ["get"],
  [`/repos/{owner}/{repo}/actions/runs/${run}/artifacts`]: ["get"],
  "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/zip": ["get"],
};

const out = {
  swagger: spec.swagger,
  info: spec.info,
  consumes: spec.consumes,
  produces: spec.produces,
  securityDefinitions: spec.securityDefinitions,
  security: spec.security,
  paths: {},
  definitions: {},
  responses: {},
  parameters: {},
};

for (const [path, methods] of Object.entries(USED)) {
  const item = spec.paths[path];
  if (!item) throw new Error(`${flavor}'s description has no ${path}`);
  const kept = {};
  for (const m of methods) {
    if (!item[m]) throw new Error(`${flavor}'s description has no ${m.toUpperCase()} ${path}`);
    kept[m] = structuredClone(item[m]);
  }
  if (item.parameters) kept.parameters = structuredClone(item.parameters);
  out.paths[prefix + path] = kept;
}

// Keep only the definitions and shared responses reachable from the kept operations.
const keep = new Set();
function walk(node) {
  if (Array.isArray(node)) return node.forEach(walk);
  if (node === null || typeof node !== "object") return;
  if (typeof node.$ref === "string" && !keep.has(node.$ref)) {
    keep.add(node.$ref);
    const [, kind, name] = node.$ref.split("/");
    walk(spec[kind][name]);
  }
  Object.values(node).forEach(walk);
}
walk(out.paths);
for (const ref of keep) {
  const [, kind, name] = ref.split("/");
  out[kind][name] = structuredClone(spec[kind][name]);
}

const op = (path, method) => out.paths[prefix + path][method];

// A directory answers a list of entries, a file an object, and Swagger 2.0
// cannot say "either": this one answer goes unchecked by Prism (the client
// decodes it strictly, and the file shape is the definition's, checked on
// every other route that returns it: the contents writes).
op("/repos/{owner}/{repo}/contents/{filepath}", "get").responses["200"] = {
  description: "a file, or a directory's entries",
  schema: {},
};

for (const field of ["content", "encoding", "target", "submodule_git_url", "download_url"]) {
  const p = out.definitions.ContentsResponse?.properties?.[field];
  if (p) p["x-nullable"] = true;
}

// Prism follows the 302 and validates the zip it fetches.
const zip = op("/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/zip", "get");
zip.produces = ["application/zip", "application/json"];
zip.responses["200"] ??= { description: "the artifact archive", schema: { type: "string", format: "binary" } };

const diff = op("/repos/{owner}/{repo}/pulls/{index}.{diffType}", "get");
diff.produces = ["text/plain"];

// `{filepath}` and `{ref}` take slashes on the forge (`heads/countersign/pr-42`,
// `.gitea/workflows`); Prism routes a template parameter as one segment. The
// same operation is described again for two and three segments.
for (const [path, param] of [
  ["/repos/{owner}/{repo}/contents/{filepath}", "filepath"],
  ["/repos/{owner}/{repo}/git/refs/{ref}", "ref"],
]) {
  const item = out.paths[prefix + path];
  for (const depth of [2, 3]) {
    const names = Array.from({ length: depth }, (_, i) => `${param}${i + 1}`);
    const copy = structuredClone(item);
    for (const opItem of Object.values(copy)) {
      if (!opItem || typeof opItem !== "object" || !Array.isArray(opItem.parameters)) continue;
      const at = opItem.parameters.findIndex((p) => p.in === "path" && p.name === param);
      if (at < 0) continue;
      const template = opItem.parameters[at];
      opItem.parameters.splice(at, 1, ...names.map((name) => ({ ...template, name })));
    }
    out.paths[prefix + path.replace(`{${param}}`, names.map((n) => `{${n}}`).join("/"))] = copy;
  }
}

writeFileSync(target, JSON.stringify(out));
console.error(`cut ${Object.keys(out.paths).length} ${flavor} paths, ${keep.size} references -> ${target}`);
