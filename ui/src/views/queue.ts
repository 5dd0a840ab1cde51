import { call } from "../backend";
import type { ApiError, Queue, QueueItem, RiskClass } from "../ipc/contract";
import { ErrorCodes } from "../ipc/contract";
import { visibleSpan } from "../visible";
import { el, replaceChildren } from "../dom";
import { age, exactUtc, localTime } from "../format";

const RISK_TEXT: Record<RiskClass, string> = {
  high: "High risk",
  medium: "Medium risk",
  low: "Low risk",
  unassessed: "Unassessed",
};

export function riskBadge(risk: RiskClass): HTMLElement {
  return el("span", { class: `risk risk-${risk}`, "data-testid": "risk" }, RISK_TEXT[risk]);
}

export interface QueueView {
  root: HTMLElement;
  loading(): void;
  show(queue: Queue, selected: QueueItem | null): void;
  failed(error: ApiError, retry: () => void): void;
}

/// The head commit each change request had when last opened here: a change
/// whose head moved since is "changed since I last looked".
const SEEN_KEY = "countersign.queue.seen";

function seenHeads(): Record<string, string> {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(SEEN_KEY) ?? "{}");
    return typeof v === "object" && v !== null ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function markSeen(item: QueueItem): void {
  const seen = seenHeads();
  seen[`${item.repo}#${item.number}`] = item.head_sha;
  try {
    localStorage.setItem(SEEN_KEY, JSON.stringify(seen));
  } catch {
    // Not kept: the mark lasts for this window.
  }
}

export function queueView(onOpen: (item: QueueItem) => void, onRefresh: () => void = () => {}): QueueView {
  const list = el("div", { class: "queue-body" });
  // Filters, applied here to the list the forge sent.
  const search = el("input", { type: "search", placeholder: "Search titles", "aria-label": "Search titles", "data-testid": "queue-search" });
  const repoFilter = el("select", { "aria-label": "Repository", "data-testid": "queue-repo" });
  const riskFilter = el("select", { "aria-label": "Risk class", "data-testid": "queue-risk" });
  const changedOnly = el("input", { type: "checkbox", "data-testid": "queue-changed" });
  const mineOnly = el("input", { type: "checkbox", "data-testid": "queue-mine" });
  const shownCount = el("span", { class: "muted", "data-testid": "queue-count", role: "status" });
  const refresh = el("button", { type: "button", class: "secondary", "data-testid": "queue-refresh", title: "Ask the forge again now (it also refreshes every minute while the window is in view)" }, "Refresh");
  refresh.addEventListener("click", () => onRefresh());
  let last: { queue: Queue; selected: QueueItem | null } | null = null;
  for (const control of [search, repoFilter, riskFilter, changedOnly, mineOnly]) {
    for (const event of ["input", "change"]) {
      control.addEventListener(event, () => {
        if (last) render(last.queue, last.selected);
      });
    }
  }
  const synced = el("span", { class: "muted", "data-testid": "synced-at" });
  const offline = el("div", {});
  const keep = el("button", { type: "button", class: "secondary", "data-testid": "sync-offline", title: "Fetch every change request with its evidence and keep it, encrypted, for reading offline" }, "Keep for offline");
  const keepState = el("span", { class: "muted", "data-testid": "sync-offline-result" });
  keep.addEventListener("click", async () => {
    keep.disabled = true;
    keepState.textContent = "Syncing…";
    try {
      const r = await call("sync_offline");
      keepState.textContent = `${r.change_requests} kept for offline reading${r.problems.length ? `; not kept: ${r.problems.join("; ")}` : ""}`;
    } catch (e) {
      keepState.textContent = (e as ApiError).message;
    } finally {
      keep.disabled = false;
    }
  });
  const root = el(
    "section",
    { class: "queue", "aria-label": "Change requests waiting for review", "data-testid": "queue" },
    el("header", { class: "pane-header" }, el("h2", {}, "Review queue"), synced),
    el("div", { class: "pane-actions" }, refresh, keep, keepState),
    el(
      "div",
      { class: "queue-filters" },
      search,
      repoFilter,
      riskFilter,
      el("label", {}, changedOnly, " Changed since I looked"),
      el("label", { title: "Judged from your last review of each change at its current head; open a change to judge it" }, mineOnly, " Waiting for my role"),
      shownCount,
    ),
    offline,
    list,
  );

  function row(item: QueueItem, selected: boolean): HTMLElement {
    const button = el(
      "button",
      {
        class: selected ? "queue-item selected" : "queue-item",
        "data-testid": "queue-item",
        "data-number": String(item.number),
        "aria-current": selected ? "true" : undefined,
        type: "button",
      },
      el(
        "div",
        { class: "queue-item-top" },
        riskBadge(item.risk),
        item.for_me === "waiting" ? el("span", { class: "badge for-me", "data-testid": "for-me" }, "Waits for you") : null,
        el("span", { class: "muted", title: exactUtc(item.created_at) }, age(item.created_at)),
      ),
      el("div", { class: "queue-item-title", "data-testid": "queue-item-title" }, visibleSpan(item.title)),
      el(
        "div",
        { class: "muted queue-item-meta" },
        visibleSpan(`${item.repo} #${item.number} · ${item.author.name ?? item.author.login}`),
        item.draft ? " · draft" : "",
      ),
    );
    button.addEventListener("click", () => {
      markSeen(item);
      onOpen(item);
    });
    return button;
  }

  /// Options with the number of change requests each would show.
  function options(select: HTMLSelectElement, all: string, values: [string, string, number][]): void {
    const current = select.value;
    replaceChildren(select, el("option", { value: "" }, all), ...values.map(([v, label, n]) => el("option", { value: v }, `${label} (${n})`)));
    select.value = values.some(([v]) => v === current) ? current : "";
  }

  function render(queue: Queue, selected: QueueItem | null): void {
    const problems = queue.problems.map((p) =>
      el("p", { class: "state warning", "data-testid": "queue-problem" }, `${p.repo}: ${p.error.message}`),
    );
    if (queue.items.length === 0) {
      shownCount.textContent = "";
      replaceChildren(
        list,
        ...problems,
        el("p", { class: "state", "data-testid": "queue-empty" }, "No change requests are waiting for review."),
      );
      return;
    }
    const repos = [...new Set(queue.items.map((i) => i.repo))].sort();
    options(repoFilter, "All repositories", repos.map((r) => [r, r, queue.items.filter((i) => i.repo === r).length]));
    const risks: RiskClass[] = ["high", "medium", "low", "unassessed"];
    options(
      riskFilter,
      "Any risk",
      risks.filter((r) => queue.items.some((i) => i.risk === r)).map((r) => [r, RISK_TEXT[r], queue.items.filter((i) => i.risk === r).length]),
    );
    const seen = seenHeads();
    const words = search.value.trim().toLowerCase();
    const shown = queue.items.filter(
      (i) =>
        (words === "" || i.title.toLowerCase().includes(words)) &&
        (repoFilter.value === "" || i.repo === repoFilter.value) &&
        (riskFilter.value === "" || i.risk === riskFilter.value) &&
        (!changedOnly.checked || seen[`${i.repo}#${i.number}`] !== i.head_sha) &&
        (!mineOnly.checked || i.for_me === "waiting"),
    );
    const changed = queue.items.filter((i) => seen[`${i.repo}#${i.number}`] !== i.head_sha).length;
    const waiting = queue.items.filter((i) => i.for_me === "waiting").length;
    const unjudged = queue.items.filter((i) => i.for_me === "not_judged").length;
    shownCount.textContent =
      `${shown.length} of ${queue.items.length} shown · ${changed} changed since you looked · ${waiting} waiting for your role` +
      (unjudged ? ` (${unjudged} not opened at their current head, so not known)` : "");
    const rows = shown.map((item) =>
      row(item, selected !== null && selected.repo === item.repo && selected.number === item.number),
    );
    replaceChildren(list, ...problems, ...(rows.length ? rows : [el("p", { class: "state muted" }, "No change request matches these filters.")]));
  }

  return {
    root,
    loading() {
      replaceChildren(list, el("p", { class: "state", "data-testid": "queue-loading" }, "Loading change requests…"));
    },
    show(queue, selected) {
      replaceChildren(
        offline,
        queue.offline
          ? el("p", { class: "state warning", role: "status", "data-testid": "offline-banner" }, "Offline: the forge cannot be reached. Showing what was synced at ", localTime(queue.synced_at), ".")
          : null,
      );
      const ago = age(queue.synced_at);
      synced.textContent = ago === "just now" ? "synced just now" : `synced ${ago} ago`;
      synced.title = exactUtc(queue.synced_at);
      last = { queue, selected };
      render(queue, selected);
    },
    failed(error, retry) {
      if (error.code === ErrorCodes.ForgeRateLimited) {
        // A state, not an error loop: say when, and try again once by ourselves.
        replaceChildren(
          list,
          el(
            "div",
            { class: "state warning", role: "status", "data-testid": "queue-rate-limited", "data-code": error.code },
            el("p", {}, "The forge's rate limit is used up for now. Countersign will try again in a minute."),
            el("p", { class: "muted" }, error.message),
          ),
        );
        setTimeout(retry, 60_000);
        return;
      }
      const button = el("button", { type: "button", class: "secondary" }, "Try again");
      button.addEventListener("click", retry);
      replaceChildren(
        list,
        el(
          "div",
          { class: "state error", role: "alert", "data-testid": "queue-error", "data-code": error.code },
          el("p", {}, "The change requests could not be loaded."),
          el("p", { class: "muted" }, error.message),
          button,
        ),
      );
    },
  };
}
