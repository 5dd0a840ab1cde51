// The diff as an approver reads it: a file tree (status, +/−, viewed, what
// the forge left out or what had to be rebuilt) beside the diff, with old and
// new line numbers, the changed words marked, unified or side by side.
// Virtualized: only the rows in view are in the DOM, so a 100,000-line diff
// costs what a screenful does. Rows come typed from Rust (`DiffFile`); no
// forge text is ever parsed here, and every line goes in as text.

import { el, replaceChildren } from "../dom";
import { call } from "../backend";
import type { ChangeRequestDetail, DiffFile, DiffLine, FindingView, Review } from "../ipc/contract";
import { grammarFor, tokens, type Span } from "../highlight";
import { visibleNodes, visibleSpan } from "../visible";

/// Every row is this tall, so the row at a scroll offset is a division.
export const ROW_HEIGHT = 20;
/// Rows drawn above and below the viewport, so a fast scroll shows no gap.
const OVERSCAN = 8;

type Row =
  | { kind: "file"; file: number }
  | { kind: "hunk"; file: number; text: string }
  | { kind: "line"; file: number; line: DiffLine }
  | { kind: "pair"; file: number; left: DiffLine | null; right: DiffLine | null }
  | { kind: "note"; file: number; text: string }
  | { kind: "finding"; file: number; finding: FindingView }
  | { kind: "pending"; file: number };

export interface DiffViewer {
  root: HTMLElement;
  nextFile(step: 1 | -1): void;
  nextHunk(step: 1 | -1): void;
  toggleViewed(): void;
  /// Mark what the evidence says about the changed lines: those that never
  /// ran under the tests, and the findings on them, inline.
  annotate(review: Review): void;
}

const STATUS_MARK: Record<DiffFile["status"], string> = { added: "A", removed: "D", modified: "M", renamed: "R" };

function storageKey(d: ChangeRequestDetail): string {
  return `countersign.viewed.${d.item.repo}#${d.item.number}@${d.item.head_sha}`;
}

function loadViewed(d: ChangeRequestDetail): Set<string> {
  try {
    const raw = localStorage.getItem(storageKey(d));
    const list: unknown = raw === null ? [] : JSON.parse(raw);
    return new Set(Array.isArray(list) ? list.filter((p): p is string => typeof p === "string") : []);
  } catch {
    return new Set();
  }
}

/// Why a file shows no lines, when it shows none.
function note(f: DiffFile, hideWhitespace: boolean): string | null {
  if (f.origin === "left_out") return "The forge left this file out and it could not be rebuilt: the diff is not whole.";
  if (f.binary) return "Binary file: its bytes changed; there are no lines to show.";
  if (hideWhitespace && f.whitespace_only) return "Whitespace-only changes, hidden.";
  if (f.hunks.length === 0) return f.status === "renamed" ? "Renamed without changes to its content." : "No changed lines.";
  return null;
}

function markers(f: DiffFile): string[] {
  const m: string[] = [];
  if (f.origin === "rebuilt") m.push("rebuilt");
  if (f.origin === "left_out") m.push("left out by the forge");
  if (f.binary) m.push("binary");
  if (f.generated) m.push("generated");
  if (f.whitespace_only) m.push("whitespace only");
  return m;
}

/// The tokens of the lines drawn last, so that scrolling back costs nothing;
/// bounded, so that reading a 100,000-line change end to end does not keep
/// every line's tokens.
const tokenCache = new Map<DiffLine, Span[]>();
const TOKEN_CACHE_LINES = 4_000;

/// Lines longer than this are not highlighted (the tokenizer's cost grows with length).
const MAX_HIGHLIGHT = 2_000;

/// The line's text, coloured by its language's tokens, its changed words
/// marked and its invisible characters shown.
function codeCell(line: DiffLine | null, grammar: Prism.Grammar | null): HTMLElement {
  const cell = el("span", { class: "code" });
  if (line === null) return cell;
  const text = line.text;
  let spans = tokenCache.get(line);
  if (spans === undefined) {
    spans = grammar !== null && text.length <= MAX_HIGHLIGHT ? tokens(text, grammar) : [];
    if (tokenCache.size >= TOKEN_CACHE_LINES) tokenCache.clear();
    tokenCache.set(line, spans);
  }
  const cuts = new Set([0, text.length]);
  for (const [s, e] of line.emphasis) cuts.add(s).add(e);
  for (const [s, e] of spans) cuts.add(s).add(e);
  const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    let nodes: Node[] = visibleNodes(text.slice(a, b));
    const type = spans.find(([s, e]) => s <= a && b <= e)?.[2];
    if (type !== undefined) {
      const tok = el("span", { class: `tok tok-${type.replace(/[^a-z-]/g, "")}` });
      tok.append(...nodes);
      nodes = [tok];
    }
    if (line.emphasis.some(([s, e]) => s <= a && b <= e)) {
      const mark = el("mark", { class: "word" });
      mark.append(...nodes);
      nodes = [mark];
    }
    cell.append(...nodes);
  }
  return cell;
}

const SIGN: Record<DiffLine["kind"], string> = { context: " ", added: "+", removed: "−", no_newline: "\\" };

function number(n: number | null): HTMLElement {
  return el("span", { class: "ln" }, n === null ? "" : String(n));
}

export function diffViewer(d: ChangeRequestDetail, onViewedChange: () => void = () => {}): DiffViewer {
  // Whole files replace their placeholders as they arrive (large changes).
  const files = [...d.diff_files];
  const asked = new Set<number>();
  const grammars = files.map((f) => grammarFor(f.path));
  const viewed = loadViewed(d);
  const collapsed = new Set<number>();
  let hideWhitespace = false;
  let split = false;
  let rows: Row[] = [];
  let fileStarts: number[] = [];
  let current = 0;
  // path → new line numbers that never ran; path → line → findings there.
  let uncovered = new Map<string, Set<number>>();
  let findings = new Map<string, Map<number, FindingView[]>>();

  const viewport = el("div", { class: "diff-viewport", tabindex: "0", "data-testid": "diff", role: "region", "aria-label": "Diff" });
  const spacer = el("div", { class: "diff-spacer" });
  const windowEl = el("div", { class: "diff-window" });
  spacer.append(windowEl);
  viewport.append(spacer);

  const count = el("span", { class: "muted", "data-testid": "viewed-count", role: "status" });
  const tree = el("ul", { class: "file-tree", role: "tree", "aria-label": "Changed files", "data-testid": "file-tree" });

  function saveViewed(): void {
    try {
      localStorage.setItem(storageKey(d), JSON.stringify([...viewed]));
    } catch {
      // Storage full or refused: the marks last for this window only.
    }
    count.textContent = `${files.filter((f) => viewed.has(f.path)).length} of ${files.length} files viewed`;
    onViewedChange();
  }

  function buildRows(): void {
    rows = [];
    fileStarts = [];
    files.forEach((f, i) => {
      fileStarts.push(rows.length);
      rows.push({ kind: "file", file: i });
      if (collapsed.has(i)) return;
      if (!f.loaded) {
        // Its rows, waiting for its hunks: the rows below stay where they are.
        for (let k = 0; k < f.rows; k++) rows.push({ kind: "pending", file: i });
        return;
      }
      const why = note(f, hideWhitespace);
      if (why !== null) {
        rows.push({ kind: "note", file: i, text: why });
        return;
      }
      for (const h of f.hunks) {
        rows.push({ kind: "hunk", file: i, text: h.header });
        if (!split) {
          for (const line of h.lines) {
            rows.push({ kind: "line", file: i, line });
            if (line.kind !== "removed" && line.new !== null) {
              for (const finding of findings.get(f.path)?.get(line.new) ?? []) rows.push({ kind: "finding", file: i, finding });
            }
          }
          continue;
        }
        // Side by side: context on both sides; a run of removed lines beside the added run after it.
        let k = 0;
        while (k < h.lines.length) {
          const line = h.lines[k];
          if (line.kind !== "removed" && line.kind !== "added") {
            rows.push({ kind: "pair", file: i, left: line, right: line });
            k += 1;
            continue;
          }
          const removed: DiffLine[] = [];
          const added: DiffLine[] = [];
          while (k < h.lines.length && h.lines[k].kind === "removed") removed.push(h.lines[k++]);
          while (k < h.lines.length && h.lines[k].kind === "added") added.push(h.lines[k++]);
          for (let j = 0; j < Math.max(removed.length, added.length); j++) {
            rows.push({ kind: "pair", file: i, left: removed[j] ?? null, right: added[j] ?? null });
          }
        }
      }
    });
    spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
  }

  function rowElement(r: Row, index: number): HTMLElement {
    const e = rowContent(r);
    // CSSOM, not a style attribute: the page's CSP refuses inline styles.
    e.style.top = `${index * ROW_HEIGHT}px`;
    return e;
  }

  function rowContent(r: Row): HTMLElement {
    const f = files[r.file];
    switch (r.kind) {
      case "file": {
        const toggle = el("button", { type: "button", class: "collapse", "aria-expanded": String(!collapsed.has(r.file)), "aria-label": `Collapse ${f.path}` }, collapsed.has(r.file) ? "▸" : "▾");
        toggle.addEventListener("click", () => {
          if (collapsed.has(r.file)) collapsed.delete(r.file);
          else collapsed.add(r.file);
          rerender();
        });
        return el(
          "div",
          { class: "row row-file", "data-file": f.path },
          toggle,
          el("span", { class: `status status-${f.status}` }, STATUS_MARK[f.status]),
          f.previous_path ? visibleSpan(`${f.previous_path} → ${f.path}`, "path") : visibleSpan(f.path, "path"),
          el("span", { class: "adds" }, `+${f.additions}`),
          el("span", { class: "dels" }, `−${f.deletions}`),
          ...markers(f).map((m) => el("span", { class: "marker" }, m)),
        );
      }
      case "hunk":
        return el("div", { class: "row row-hunk" }, el("span", { class: "code" }, r.text));
      case "note":
        return el("div", { class: "row row-note", "data-testid": "diff-note" }, r.text);
      case "pending":
        return el("div", { class: "row row-pending" }, el("span", { class: "code muted" }, "…"));
      case "finding":
        return el(
          "div",
          { class: `row row-finding level-${r.finding.level}`, "data-testid": "inline-finding" },
          el("span", { class: "code" }, visibleSpan(`${r.finding.level}: ${r.finding.rule} — ${r.finding.message}`)),
        );
      case "line": {
        const never = r.line.kind === "added" && r.line.new !== null && (uncovered.get(f.path)?.has(r.line.new) ?? false);
        return el(
          "div",
          { class: `row row-${r.line.kind}${never ? " uncovered" : ""}`, title: never ? "This changed line never ran under the tests" : undefined },
          number(r.line.old),
          number(r.line.new),
          el("span", { class: "sign" }, SIGN[r.line.kind]),
          codeCell(r.line, grammars[r.file]),
        );
      }
      case "pair":
        return el(
          "div",
          { class: "row row-pair" },
          el("span", { class: `half row-${r.left?.kind ?? "empty"}` }, number(r.left?.old ?? null), codeCell(r.left, grammars[r.file])),
          el("span", { class: `half row-${r.right?.kind ?? "empty"}` }, number(r.right?.new ?? null), codeCell(r.right, grammars[r.file])),
        );
    }
  }

  // The rows in the DOM, by index: a scroll removes the rows that left the
  // view and adds those that entered it; the others stay as they are.
  let shown = new Map<number, HTMLElement>();
  let drawn = "";
  function draw(): void {
    const height = viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((viewport.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    const key = `${first}:${last}:${rows.length}`;
    if (key === drawn) return;
    drawn = key;
    const next = new Map<number, HTMLElement>();
    for (const [i, e] of shown) {
      if (i >= first && i < last) next.set(i, e);
      else e.remove();
    }
    const added = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      if (next.has(i)) continue;
      const e = rowElement(rows[i], i);
      next.set(i, e);
      added.append(e);
    }
    windowEl.append(added);
    shown = next;
    // Files in view whose hunks have not come yet: ask for them (and the next few).
    for (let i = first; i < last; i++) {
      const r = rows[i];
      if (r.kind === "pending" && !asked.has(r.file)) fetchFrom(r.file);
    }
  }

  const PAGE_FILES = 25;
  // Pages fetched, oldest first; past this many, the oldest not in view goes
  // back to placeholders (and is asked for again if it returns), so reading a
  // huge change end to end holds a bounded part of it.
  const KEPT_PAGES = 4;
  const pages: number[] = [];
  function fetchFrom(file: number): void {
    for (let k = file; k < Math.min(files.length, file + PAGE_FILES); k++) asked.add(k);
    call("diff_files", { change_request: { repo: d.item.repo, number: d.item.number }, from: file, count: PAGE_FILES }).then(
      (page) => {
        page.files.forEach((f, k) => (files[page.from + k] = f));
        pages.push(page.from);
        const inView = rows[Math.floor(viewport.scrollTop / ROW_HEIGHT)]?.file ?? 0;
        while (pages.length > KEPT_PAGES) {
          const old = pages.findIndex((from) => inView < from || inView >= from + PAGE_FILES);
          if (old < 0) break;
          const [from] = pages.splice(old, 1);
          for (let k = from; k < Math.min(files.length, from + PAGE_FILES); k++) {
            files[k] = { ...files[k], hunks: [], loaded: false };
            asked.delete(k);
          }
        }
        rerender();
      },
      () => {
        // Asked again when the rows come back into view.
        for (let k = file; k < Math.min(files.length, file + PAGE_FILES); k++) asked.delete(k);
      },
    );
  }

  let pending = false;
  viewport.addEventListener("scroll", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  });

  function rerender(): void {
    buildRows();
    for (const e of shown.values()) e.remove();
    shown = new Map();
    drawn = "";
    draw();
  }

  function jumpTo(file: number): void {
    current = Math.max(0, Math.min(files.length - 1, file));
    viewport.scrollTop = (fileStarts[current] ?? 0) * ROW_HEIGHT;
    for (const item of tree.querySelectorAll("[role=treeitem]")) {
      item.setAttribute("aria-selected", String(item.getAttribute("data-index") === String(current)));
    }
    draw();
  }

  function treeItem(f: DiffFile, i: number): HTMLElement {
    const box = el("input", { type: "checkbox", "aria-label": `Viewed: ${f.path}`, "data-testid": "viewed-box" });
    box.checked = viewed.has(f.path);
    box.addEventListener("change", () => {
      if (box.checked) viewed.add(f.path);
      else viewed.delete(f.path);
      saveViewed();
    });
    const name = el("button", { type: "button", class: "tree-name" }, visibleSpan(f.path.split("/").pop() ?? f.path, "name"));
    name.addEventListener("click", () => jumpTo(i));
    const dir = f.path.includes("/") ? f.path.slice(0, f.path.lastIndexOf("/") + 1) : "";
    return el(
      "li",
      { role: "treeitem", "aria-selected": "false", "data-index": String(i), "data-testid": "changed-file", "data-origin": f.origin, class: `tree-item origin-${f.origin}` },
      box,
      el("span", { class: `status status-${f.status}`, title: f.status }, STATUS_MARK[f.status]),
      el("span", { class: "tree-path" }, dir ? visibleSpan(dir, "dir muted") : null, name, f.previous_path ? visibleSpan(` ← ${f.previous_path}`, "muted") : null),
      el("span", { class: "adds" }, `+${f.additions}`),
      el("span", { class: "dels" }, `−${f.deletions}`),
      ...markers(f).map((m) => el("span", { class: "marker", "data-testid": "file-marker" }, m)),
    );
  }

  const unified = el("input", { type: "radio", name: "diff-mode", value: "unified", "data-testid": "diff-unified" });
  unified.checked = true;
  const sideBySide = el("input", { type: "radio", name: "diff-mode", value: "split", "data-testid": "diff-split" });
  const whitespace = el("input", { type: "checkbox", "data-testid": "hide-whitespace" });
  for (const input of [unified, sideBySide]) {
    input.addEventListener("change", () => {
      split = sideBySide.checked;
      rerender();
    });
  }
  whitespace.addEventListener("change", () => {
    hideWhitespace = whitespace.checked;
    rerender();
  });

  replaceChildren(tree, ...files.map(treeItem));
  const root = el(
    "div",
    { class: "diff-viewer" },
    el(
      "div",
      { class: "diff-toolbar" },
      count,
      el("label", {}, unified, " Unified"),
      el("label", {}, sideBySide, " Side by side"),
      el("label", {}, whitespace, " Hide whitespace-only changes"),
    ),
    el("div", { class: "diff-body" }, el("nav", { class: "tree-pane", "aria-label": "Files" }, tree), viewport),
  );
  saveViewed();
  buildRows();
  // Drawn once it has a size; until then, a screenful.
  requestAnimationFrame(() => draw());
  draw();

  return {
    root,
    nextFile(step) {
      jumpTo(current + step);
    },
    nextHunk(step) {
      const here = Math.floor(viewport.scrollTop / ROW_HEIGHT) + (step > 0 ? 1 : -1);
      const hunks = rows.map((r, i) => (r.kind === "hunk" ? i : -1)).filter((i) => i >= 0);
      const target = step > 0 ? hunks.find((i) => i >= here) : [...hunks].reverse().find((i) => i <= here);
      if (target !== undefined) {
        viewport.scrollTop = target * ROW_HEIGHT;
        draw();
      }
    },
    annotate(review) {
      uncovered = new Map(review.coverage_files.map((c) => [c.path, new Set(c.uncovered_changed)]));
      findings = new Map();
      for (const f of review.finding_list) {
        if (f.path === null || f.line === null) continue;
        const byLine = findings.get(f.path) ?? new Map<number, FindingView[]>();
        byLine.set(f.line, [...(byLine.get(f.line) ?? []), f]);
        findings.set(f.path, byLine);
      }
      rerender();
    },
    toggleViewed() {
      const f = files[current];
      if (f === undefined) return;
      if (viewed.has(f.path)) viewed.delete(f.path);
      else viewed.add(f.path);
      const box = tree.querySelector<HTMLInputElement>(`[data-index="${current}"] input`);
      if (box) box.checked = viewed.has(f.path);
      saveViewed();
    },
  };
}
