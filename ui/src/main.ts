import "./styles.css";

import { call } from "./backend";
import { el, replaceChildren } from "./dom";
import type { ApiError, AppInfo, Queue, QueueItem } from "./ipc/contract";
import { adminView } from "./views/admin";
import { auditView } from "./views/audit";
import { detailView } from "./views/detail";
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
  const detail = detailView();
  const queue = queueView(open);
  const top = el("div", {});
  const reviewLayout = el("main", { class: "layout" }, queue.root, detail.root);
  const page = el("div", {}, reviewLayout);
  const toReview = el("button", { type: "button", class: "nav", "data-testid": "nav-review", "aria-pressed": "true" }, "Review");
  const toAudit = el("button", { type: "button", class: "nav", "data-testid": "nav-audit", "aria-pressed": "false" }, "Audit trail");
  const toAdmin = el("button", { type: "button", class: "nav", "data-testid": "nav-admin", "aria-pressed": "false" }, "Policy");
  const toSettings = el("button", { type: "button", class: "nav", "data-testid": "nav-settings", "aria-pressed": "false" }, "Settings");
  const tabs = [toReview, toAudit, toAdmin, toSettings];
  const choose = (tab: HTMLElement, content: () => HTMLElement) =>
    tab.addEventListener("click", () => {
      for (const t of tabs) t.setAttribute("aria-pressed", String(t === tab));
      replaceChildren(page, content());
    });
  choose(toReview, () => reviewLayout);
  choose(toAudit, () => el("main", { class: "single" }, auditView()));
  choose(toSettings, () => el("main", { class: "single" }, settingsView()));
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

  async function open(item: QueueItem): Promise<void> {
    selected = item;
    const ticket = ++latest;
    detail.loading(`${item.repo} #${item.number}`);
    void refresh(false);
    try {
      const d = await call("open_change_request", { repo: item.repo, number: item.number });
      if (ticket === latest) detail.show(d);
    } catch (e) {
      if (ticket === latest) detail.failed(e as ApiError);
    }
  }

  async function refresh(fetch: boolean): Promise<void> {
    if (!fetch && lastQueue !== null) {
      queue.show(lastQueue, selected);
      return;
    }
    queue.loading();
    try {
      lastQueue = await call("load_queue");
      queue.show(lastQueue, selected);
    } catch (e) {
      queue.failed(e as ApiError, () => void refresh(true));
    }
  }

  await firstLoad;
}

const root = document.getElementById("app");
if (root !== null) void start(root);
