import { call } from "../backend";
import type { ApiError, Queue, QueueItem, RiskClass } from "../ipc/contract";
import { ErrorCodes } from "../ipc/contract";
import { visibleSpan } from "../visible";
import { el, replaceChildren } from "../dom";
import { age, exactUtc } from "../format";

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

export function queueView(onOpen: (item: QueueItem) => void): QueueView {
  const list = el("div", { class: "queue-body" });
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
    el("div", { class: "pane-actions" }, keep, keepState),
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
    button.addEventListener("click", () => onOpen(item));
    return button;
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
          ? el("p", { class: "state warning", role: "status", "data-testid": "offline-banner" }, `Offline: the forge cannot be reached. Showing what was synced at ${exactUtc(queue.synced_at)}.`)
          : null,
      );
      const ago = age(queue.synced_at);
      synced.textContent = ago === "just now" ? "synced just now" : `synced ${ago} ago`;
      synced.title = exactUtc(queue.synced_at);
      const problems = queue.problems.map((p) =>
        el("p", { class: "state warning", "data-testid": "queue-problem" }, `${p.repo}: ${p.error.message}`),
      );
      if (queue.items.length === 0) {
        replaceChildren(
          list,
          ...problems,
          el("p", { class: "state", "data-testid": "queue-empty" }, "No change requests are waiting for review."),
        );
        return;
      }
      const rows = queue.items.map((item) =>
        row(item, selected !== null && selected.repo === item.repo && selected.number === item.number),
      );
      replaceChildren(list, ...problems, ...rows);
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
