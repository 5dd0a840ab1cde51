import type { ApiError, ChangeRequestDetail, ChangedFile } from "../ipc/contract";
import { el, replaceChildren } from "../dom";
import { exactUtc, shortSha } from "../format";
import { riskBadge } from "./queue";
import { call } from "../backend";
import type { Review } from "../ipc/contract";
import { reviewView } from "./review";
import { signingPanel } from "./signing";

export interface DetailView {
  root: HTMLElement;
  empty(): void;
  loading(title: string): void;
  show(detail: ChangeRequestDetail): void;
  failed(error: ApiError): void;
}

function lineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff --git") || line.startsWith("index ")) {
    return "diff-line diff-file";
  }
  if (line.startsWith("@@")) return "diff-line diff-hunk";
  if (line.startsWith("+")) return "diff-line diff-add";
  if (line.startsWith("-")) return "diff-line diff-del";
  return "diff-line";
}

function diffBlock(diff: string): HTMLElement {
  const lines = diff.endsWith("\n") ? diff.slice(0, -1).split("\n") : diff.split("\n");
  const pre = el("pre", { class: "diff", "data-testid": "diff", tabindex: "0", "aria-label": "Unified diff" });
  const code = el("code", {});
  for (const line of lines) code.appendChild(el("span", { class: lineClass(line) }, line + "\n"));
  pre.appendChild(code);
  return pre;
}

function fileRow(f: ChangedFile): HTMLElement {
  return el(
    "li",
    { class: "file", "data-testid": "changed-file" },
    el("span", { class: `file-status status-${f.status}` }, f.status),
    el("span", { class: "file-path" }, f.previous_path ? `${f.previous_path} → ${f.path}` : f.path),
    el("span", { class: "adds" }, `+${f.additions}`),
    el("span", { class: "dels" }, `−${f.deletions}`),
    f.patch_available ? null : el("span", { class: "warning" }, "patch not sent by the forge"),
  );
}

export function detailView(): DetailView {
  const root = el("section", { class: "detail", "aria-label": "Change request", "data-testid": "detail" });

  return {
    root,
    empty() {
      replaceChildren(root, el("p", { class: "state muted" }, "Select a change request to review its description and diff."));
    },
    loading(title) {
      replaceChildren(root, el("p", { class: "state", "data-testid": "detail-loading" }, `Loading ${title}…`));
    },
    show(d) {
      const incomplete = d.files.some((f) => !f.patch_available);
      const review = reviewView();
      const loadReview = (): Promise<Review | null> =>
        call("review_change_request", { repo: d.item.repo, number: d.item.number }).then(
          (r) => {
            review.show(r);
            return r;
          },
          (e: ApiError) => {
            review.failed(e);
            return null;
          },
        );
      const reviewed = loadReview();
      replaceChildren(
        root,
        el(
          "header",
          { class: "detail-header" },
          el("div", { class: "detail-kicker" }, riskBadge(d.item.risk), el("span", { class: "muted" }, `${d.item.repo} #${d.item.number}`)),
          el("h1", { "data-testid": "detail-title" }, d.item.title),
          el(
            "p",
            { class: "muted" },
            `${d.item.author.name ?? d.item.author.login} (@${d.item.author.login}) wants to merge into ${d.base_ref} · opened ${exactUtc(d.item.created_at)}`,
          ),
          el(
            "dl",
            { class: "facts" },
            el("dt", {}, "Head commit"),
            el("dd", { class: "mono", "data-testid": "head-sha", title: d.item.head_sha }, shortSha(d.item.head_sha)),
            el("dt", {}, "Base commit"),
            el("dd", { class: "mono", title: d.base_sha }, shortSha(d.base_sha)),
            el("dt", {}, "Changes"),
            el("dd", {}, `${d.files.length} ${d.files.length === 1 ? "file" : "files"}, +${d.additions} −${d.deletions}`),
          ),
          el("div", { class: "labels" }, ...d.item.labels.map((l) => el("span", { class: "label" }, l))),
        ),
        d.offline
          ? el("p", { class: "state warning", role: "status", "data-testid": "detail-offline" }, `Offline copy, synced at ${exactUtc(d.synced_at)}.`)
          : null,
        review.root,
        signingPanel(d, reviewed, () => void loadReview()),
        el("h2", {}, "Description"),
        // Shown as text: Markdown rendering would need a sanitiser first.
        el("pre", { class: "description", "data-testid": "description" }, d.body || "No description."),
        el("h2", {}, "Files"),
        el("ul", { class: "files" }, ...d.files.map(fileRow)),
        d.missing.length > 0
          ? el(
              "div",
              { class: "state error", role: "alert", "data-testid": "diff-missing" },
              el("p", {}, "This diff is incomplete:"),
              el("ul", {}, ...d.missing.map((m) => el("li", {}, m))),
            )
          : incomplete
            ? el("p", { class: "state warning", role: "alert" }, "The forge left out some patches: this diff is incomplete.")
            : null,
        d.reconstructed.length > 0
          ? el(
              "p",
              { class: "state warning", "data-testid": "diff-reconstructed" },
              `The forge did not send these changes; they were rebuilt from the files at the base and head commits: ${d.reconstructed.join(", ")}`,
            )
          : null,
        el("h2", {}, "Diff"),
        diffBlock(d.diff),
      );
    },
    failed(error) {
      replaceChildren(
        root,
        el(
          "div",
          { class: "state error", role: "alert", "data-testid": "detail-error", "data-code": error.code },
          el("p", {}, "This change request could not be opened."),
          el("p", { class: "muted" }, error.message),
        ),
      );
    },
  };
}
