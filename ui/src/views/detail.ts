// The change being reviewed: its header, then tabs — Overview (verdict, risk,
// what is still required), Files (the diff viewer), Evidence, Conversation
// (the description rendered from Markdown, the forge's reviews) and
// Signatures — with the signing panel in its own pane beside them, always
// in view.

import type { ApiError, ChangeRequestDetail, Review } from "../ipc/contract";
import { el, replaceChildren } from "../dom";
import { localTime, shortSha } from "../format";
import { confirmLinks } from "../links";
import { renderMarkdown } from "../markdown";
import { visibleSpan } from "../visible";
import { riskBadge } from "./queue";
import { call } from "../backend";
import { diffViewer, type DiffViewer } from "./diffViewer";
import { reviewView } from "./review";
import { signingPanel } from "./signing";

export interface DetailView {
  root: HTMLElement;
  /// The keyboard's way into the open change (n/p, ]/[, v), when one is open.
  diff(): DiffViewer | null;
  empty(): void;
  loading(title: string): void;
  show(detail: ChangeRequestDetail): void;
  failed(error: ApiError): void;
}

const TABS = ["overview", "files", "evidence", "conversation", "signatures"] as const;
type Tab = (typeof TABS)[number];
const TAB_TITLE: Record<Tab, string> = {
  overview: "Overview",
  files: "Files",
  evidence: "Evidence",
  conversation: "Conversation",
  signatures: "Signatures",
};

/// The tab last chosen, kept across changes: an approver reading files reads
/// the next change's files too.
let chosen: Tab = "overview";

function tabs(panels: Record<Tab, HTMLElement>, labels: Partial<Record<Tab, string>>): HTMLElement {
  const buttons = TABS.map((t) =>
    el("button", { type: "button", role: "tab", id: `tab-${t}`, "aria-controls": `panel-${t}`, "data-testid": `tab-${t}` }, labels[t] ?? TAB_TITLE[t]),
  );
  const select = (t: Tab, focus: boolean) => {
    chosen = t;
    TABS.forEach((name, i) => {
      const on = name === t;
      buttons[i].setAttribute("aria-selected", String(on));
      buttons[i].tabIndex = on ? 0 : -1;
      panels[name].hidden = !on;
      if (on && focus) buttons[i].focus();
    });
  };
  buttons.forEach((b, i) => {
    b.addEventListener("click", () => select(TABS[i], false));
    // Arrow keys move between tabs, as the ARIA tabs pattern says.
    b.addEventListener("keydown", (e) => {
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (step !== 0) select(TABS[(i + step + TABS.length) % TABS.length], true);
    });
  });
  for (const t of TABS) {
    panels[t].setAttribute("role", "tabpanel");
    panels[t].id = `panel-${t}`;
    panels[t].setAttribute("aria-labelledby", `tab-${t}`);
    panels[t].classList.add("tab-panel");
  }
  select(chosen, false);
  return el("div", { role: "tablist", class: "tabs", "aria-label": "Change request" }, ...buttons);
}

export function detailView(signPane: HTMLElement): DetailView {
  const root = el("section", { class: "detail", "aria-label": "Change request", "data-testid": "detail" });
  let viewer: DiffViewer | null = null;

  return {
    root,
    diff: () => viewer,
    empty() {
      viewer = null;
      replaceChildren(root, el("p", { class: "state muted" }, "Select a change request to review its description and diff."));
      replaceChildren(signPane);
    },
    loading(title) {
      viewer = null;
      replaceChildren(root, el("p", { class: "state", "data-testid": "detail-loading" }, `Loading ${title}…`));
      replaceChildren(signPane);
    },
    show(d) {
      const review = reviewView();
      const loadReview = (): Promise<Review | null> =>
        call("review_change_request", { repo: d.item.repo, number: d.item.number }).then(
          (r) => {
            review.show(r);
            viewer?.annotate(r);
            return r;
          },
          (e: ApiError) => {
            review.failed(e);
            return null;
          },
        );
      const reviewed = loadReview();
      viewer = diffViewer(d);
      const incomplete = d.missing.length > 0 || d.diff_files.some((f) => f.origin === "left_out");
      const files = el(
        "div",
        {},
        d.missing.length > 0
          ? el(
              "div",
              { class: "state error", role: "alert", "data-testid": "diff-missing" },
              el("p", {}, "This diff is incomplete:"),
              el("ul", {}, ...d.missing.map((m) => el("li", {}, m))),
            )
          : incomplete
            ? el("p", { class: "state warning", role: "alert" }, "The forge left out some patches: this diff is incomplete (marked in the tree).")
            : null,
        d.reconstructed.length > 0
          ? el(
              "p",
              { class: "state warning", "data-testid": "diff-reconstructed" },
              `The forge did not send these changes; they were rebuilt from the files at the base and head commits: ${d.reconstructed.join(", ")}`,
            )
          : null,
        viewer.root,
      );
      const description = el("div", { class: "description markdown", "data-testid": "description" });
      description.append(d.body ? renderMarkdown(d.body) : "No description.");
      confirmLinks(description);
      const conversation = el("div", {}, el("h2", {}, "Description"), description, review.conversation);
      const panels: Record<Tab, HTMLElement> = {
        overview: review.overview,
        files,
        evidence: review.evidence,
        conversation,
        signatures: review.signatures,
      };
      const author = d.item.author.name ?? d.item.author.login;
      replaceChildren(
        root,
        el(
          "header",
          { class: "detail-header" },
          el("div", { class: "detail-kicker" }, riskBadge(d.item.risk), el("span", { class: "muted" }, `${d.item.repo} #${d.item.number}`), dossierButton(d)),
          el("h1", { "data-testid": "detail-title" }, visibleSpan(d.item.title)),
          el(
            "p",
            { class: "muted byline" },
            visibleSpan(`${author} (@${d.item.author.login})`),
            ` wants to merge into ${d.base_ref} ← `,
            el("span", { class: "mono", "data-testid": "head-sha", title: d.item.head_sha }, shortSha(d.item.head_sha)),
            " · opened ",
            localTime(d.item.created_at),
            ` · ${d.diff_files.length} ${d.diff_files.length === 1 ? "file" : "files"}, +${d.additions} −${d.deletions} · base `,
            el("span", { class: "mono", title: d.base_sha }, shortSha(d.base_sha)),
          ),
          el("div", { class: "labels" }, ...d.item.labels.map((l) => el("span", { class: "label" }, visibleSpan(l)))),
          d.offline
            ? el("p", { class: "state warning", role: "status", "data-testid": "detail-offline" }, "Offline copy, synced at ", localTime(d.synced_at), ".")
            : null,
        ),
        tabs(panels, { files: `Files (${d.diff_files.length})` }),
        ...TABS.map((t) => panels[t]),
      );
      replaceChildren(signPane, signingPanel(d, reviewed, () => void loadReview()));
    },
    failed(error) {
      viewer = null;
      replaceChildren(signPane);
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

/// Writes the inspector's dossier of this change (HTML, PDF, records,
/// evidence, manifest) and says where.
function dossierButton(d: ChangeRequestDetail): HTMLElement {
  const state = el("span", { class: "muted dossier-state", role: "status", "data-testid": "dossier-result" });
  const button = el(
    "button",
    { type: "button", class: "secondary", "data-testid": "dossier", title: "Write this change's dossier for an inspector: who approved it, what they saw and why, as HTML and PDF with the records and evidence" },
    "Dossier",
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    state.textContent = "Writing the dossier…";
    try {
      const w = await call("write_dossier", { repo: d.item.repo, number: d.item.number });
      state.textContent = `Dossier written: ${w.files} files in ${w.dir}, and ${w.zip}`;
    } catch (e) {
      state.textContent = `No dossier: ${(e as ApiError).message}`;
    } finally {
      button.disabled = false;
    }
  });
  return el("span", { class: "dossier" }, button, " ", state);
}
