import "./styles.css";

import { call } from "./backend";
import { retryOutbox } from "./outbox";
import { el, replaceChildren } from "./dom";
import type { ApiError, AppInfo, Queue, QueueItem, RequestedChange } from "./ipc/contract";
import { ErrorCodes } from "./ipc/contract";
import { adminView } from "./views/admin";
import { auditView } from "./views/audit";
import { detailView } from "./views/detail";
import { identityView } from "./views/identity";
import { queueView } from "./views/queue";
import { settingsView } from "./views/settings";

function header(info: AppInfo | null, nav: HTMLElement): HTMLElement {
  return el(
    "header",
    { class: "app-header" },
    el("span", { class: "app-name" }, "Countersign"),
    nav,
    info === null
      ? null
      : el(
          "span",
          {
            class: info.sandbox ? "forge-badge sandbox" : "forge-badge",
            "data-testid": "forge-badge",
            title: info.forge_url,
          },
          info.sandbox ? "Sandbox — demo data, nothing you sign here is real" : info.forge_label,
        ),
    info === null ? null : el("span", { class: "muted version" }, `v${info.version}`),
  );
}

async function start(root: HTMLElement): Promise<void> {
  let selected: QueueItem | null = null;
  const signPane = el("aside", { class: "sign-pane", "aria-label": "Electronic signature", "data-testid": "sign-pane" });
  const detail = detailView(signPane);
  const queue = queueView(open, () => void refresh(true));
  // The queue keeps itself current: every minute while the window is in
  // view, and when it comes back into focus (conditional requests: an
  // unchanged list costs the forge a 304).
  setInterval(() => {
    if (document.visibilityState === "visible") void refresh(true, true);
  }, 60_000);
  window.addEventListener("focus", () => void refresh(true, true));
  const top = el("div", {});
  const reviewLayout = el(
    "main",
    { class: "layout" },
    queue.root,
    splitter("queue", -1),
    detail.root,
    splitter("sign", 1),
    signPane,
  );
  applyWidths(reviewLayout);
  document.addEventListener("keydown", (e) => shortcut(e));
  const page = el("div", {}, reviewLayout);
  const toReview = el("button", { type: "button", class: "nav", "data-testid": "nav-review", "aria-pressed": "true" }, "Review");
  const toAudit = el("button", { type: "button", class: "nav", "data-testid": "nav-audit", "aria-pressed": "false" }, "Audit trail");
  const toAdmin = el("button", { type: "button", class: "nav", "data-testid": "nav-admin", "aria-pressed": "false" }, "Policy");
  const toIdentity = el("button", { type: "button", class: "nav", "data-testid": "nav-identity", "aria-pressed": "false" }, "My identity");
  const toSettings = el("button", { type: "button", class: "nav", "data-testid": "nav-settings", "aria-pressed": "false" }, "Settings");
  const tabs = [toReview, toAudit, toAdmin, toIdentity, toSettings];
  const choose = (tab: HTMLElement, content: () => HTMLElement) =>
    tab.addEventListener("click", () => {
      for (const t of tabs) t.setAttribute("aria-pressed", String(t === tab));
      replaceChildren(page, content());
    });
  choose(toReview, () => reviewLayout);
  choose(toAudit, () => el("main", { class: "single" }, auditView()));
  choose(toSettings, () => el("main", { class: "single" }, settingsView()));
  choose(toIdentity, () => el("main", { class: "single" }, identityView()));
  choose(toAdmin, () => el("main", { class: "single" }, adminView(selected?.repo ?? lastQueue?.items[0]?.repo ?? null)));
  const nav = el("nav", { class: "app-nav" }, ...tabs);
  replaceChildren(root, top, page);
  replaceChildren(top, header(null, nav));
  detail.empty();

  let lastQueue: Queue | null = null;
  let latest = 0;
  // Both at once: the queue is what the approver came for, and the header
  // must not hold it back.
  const info = call("app_info");
  const firstLoad = refresh(true);
  try {
    replaceChildren(top, header(await info, nav));
  } catch (e) {
    console.error("app_info failed", e);
  }

  /// The keyboard: every review action without a mouse.
  function shortcut(e: KeyboardEvent): void {
    const target = e.target as HTMLElement | null;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const diff = detail.diff();
    const items = lastQueue?.items ?? [];
    const at = items.findIndex((i) => i.repo === selected?.repo && i.number === selected?.number);
    switch (e.key) {
      case "j":
      case "k": {
        const next = items[Math.max(0, Math.min(items.length - 1, at + (e.key === "j" ? 1 : -1)))];
        if (next) void open(next);
        break;
      }
      case "n":
      case "p":
        diff?.nextFile(e.key === "n" ? 1 : -1);
        break;
      case "]":
      case "[":
        diff?.nextHunk(e.key === "]" ? 1 : -1);
        break;
      case "v":
        diff?.toggleViewed();
        break;
      case "?":
        help.hidden = !help.hidden;
        break;
      case "Escape":
        help.hidden = true;
        break;
      default:
        return;
    }
    e.preventDefault();
  }
  const help = el(
    "div",
    { class: "shortcuts", role: "dialog", "aria-label": "Keyboard shortcuts", "data-testid": "shortcuts", hidden: true },
    el("h2", {}, "Keyboard shortcuts"),
    el(
      "dl",
      { class: "facts" },
      ...[
        ["j / k", "next / previous change request"],
        ["n / p", "next / previous file"],
        ["] / [", "next / previous hunk"],
        ["v", "mark the current file viewed (or not)"],
        ["← / →", "previous / next tab, on the tabs"],
        ["?", "show or hide this list"],
      ].flatMap(([k, what]) => [el("dt", { class: "mono" }, k), el("dd", {}, what)]),
    ),
  );
  root.append(help);

  async function open(item: QueueItem): Promise<void> {
    selected = item;
    const ticket = ++latest;
    detail.loading(`${item.repo} #${item.number}`);
    void refresh(false);
    try {
      const d = await call("open_change", { repo: item.repo, number: item.number });
      if (ticket === latest) detail.show(d);
    } catch (e) {
      if (ticket === latest) detail.failed(e as ApiError);
    }
  }

  async function refresh(fetch: boolean, quietly = false): Promise<void> {
    if (!fetch && lastQueue !== null) {
      queue.show(lastQueue, selected);
      return;
    }
    // A background refresh keeps the list in view until the new one arrives.
    if (!quietly || lastQueue === null) queue.loading();
    try {
      lastQueue = await call("load_queue");
      queue.show(lastQueue, selected);
    } catch (e) {
      queue.failed(e as ApiError, () => void refresh(true));
    }
  }

  await firstLoad;
  // Launched onto a change (a countersign:// link, or its web address): open it.
  async function openRequested(requested: RequestedChange, fetchFirst: boolean): Promise<void> {
    const wanted = requested.change;
    if (wanted) {
      // A later launch may name a change newer than the list in view.
      if (fetchFirst) await refresh(true, true);
      // Filled in by `refresh` (TypeScript cannot see the assignment in the closure).
      const queueNow = lastQueue as Queue | null;
      const item = queueNow?.items.find((i) => i.repo === wanted.repo && i.number === wanted.number);
      if (item) void open(item);
      else detail.failed({ code: ErrorCodes.LinkRefused, message: `${wanted.repo} #${wanted.number} is not among the open change requests of this forge.` });
    } else if (requested.refused) {
      detail.failed({ code: ErrorCodes.LinkRefused, message: requested.refused });
    }
  }
  try {
    await openRequested(await call("requested_change"), false);
  } catch (e) {
    console.error("requested_change failed", e);
  }
  // A second launch hands its link to this window (one window per ledger).
  void (async () => {
    for (;;) {
      try {
        await openRequested(await call("next_requested_change"), true);
      } catch (e) {
        console.error("next_requested_change failed", e);
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  })();
  // A record that reached the forge on its own changes the open change's status.
  retryOutbox(() => {
    if (selected) void open(selected);
  });
}

/// Pane widths, chosen by dragging the splitters and kept for this user.
const WIDTHS_KEY = "countersign.layout.widths";

function widths(): { queue: number; sign: number } {
  try {
    const w = JSON.parse(localStorage.getItem(WIDTHS_KEY) ?? "{}") as { queue?: unknown; sign?: unknown };
    return {
      queue: typeof w.queue === "number" ? w.queue : 280,
      sign: typeof w.sign === "number" ? w.sign : 320,
    };
  } catch {
    return { queue: 280, sign: 320 };
  }
}

function applyWidths(layout: HTMLElement): void {
  const w = widths();
  layout.style.setProperty("--queue-width", `${w.queue}px`);
  layout.style.setProperty("--sign-width", `${w.sign}px`);
}

/// A draggable (and keyboard-movable) edge between two panes.
function splitter(pane: "queue" | "sign", direction: 1 | -1): HTMLElement {
  const bar = el("div", {
    class: "splitter",
    role: "separator",
    tabindex: "0",
    "aria-orientation": "vertical",
    "aria-label": pane === "queue" ? "Resize the queue" : "Resize the signing panel",
  });
  bar.setAttribute("aria-valuemin", "220");
  bar.setAttribute("aria-valuemax", "720");
  bar.setAttribute("aria-valuenow", String(widths()[pane]));
  const set = (width: number) => {
    const w = widths();
    w[pane] = Math.max(220, Math.min(720, Math.round(width)));
    bar.setAttribute("aria-valuenow", String(w[pane]));
    try {
      localStorage.setItem(WIDTHS_KEY, JSON.stringify(w));
    } catch {
      // Not kept: the width still applies now.
    }
    const layout = bar.parentElement;
    if (layout) applyWidths(layout);
  };
  bar.addEventListener("pointerdown", (down) => {
    const start = widths()[pane];
    bar.setPointerCapture(down.pointerId);
    const move = (e: PointerEvent) => set(start - direction * (e.clientX - down.clientX));
    const up = () => {
      bar.removeEventListener("pointermove", move);
      bar.removeEventListener("pointerup", up);
    };
    bar.addEventListener("pointermove", move);
    bar.addEventListener("pointerup", up);
  });
  bar.addEventListener("keydown", (e) => {
    const step = e.key === "ArrowLeft" ? -16 : e.key === "ArrowRight" ? 16 : 0;
    if (step !== 0) set(widths()[pane] - direction * step);
  });
  return bar;
}

const root = document.getElementById("app");
if (root !== null) void start(root);
