// Links in forge text are inert until the reader asks: a click shows the
// whole address, and only a web address gets a button that hands it to the
// system browser (checked again in Rust before it is opened).

import { call } from "./backend";
import { el, replaceChildren } from "./dom";
import type { ApiError } from "./ipc/contract";
import { visibleSpan } from "./visible";

/// Whether `href` is an address the browser may be handed (Rust checks again).
export function isWebAddress(href: string): boolean {
  try {
    const u = new URL(href);
    return (u.protocol === "https:" || u.protocol === "http:") && u.username === "" && u.password === "";
  } catch {
    return false;
  }
}

/// Make the `.md-link`s inside `container` ask before anything opens.
export function confirmLinks(container: HTMLElement): void {
  const box = el("div", { class: "link-confirm", role: "dialog", "aria-label": "Open a link", "data-testid": "link-confirm", hidden: true });
  container.append(box);
  const ask = (link: HTMLElement) => {
    const href = link.dataset.href ?? "";
    const close = el("button", { type: "button", class: "secondary" }, "Close");
    close.addEventListener("click", () => (box.hidden = true));
    if (!isWebAddress(href)) {
      replaceChildren(box, el("p", {}, "This link is not a web address and is not opened: "), visibleSpan(href, "mono"), close);
    } else {
      const open = el("button", { type: "button", class: "primary", "data-testid": "link-open" }, "Open in browser");
      const outcome = el("span", { class: "muted", role: "status" });
      open.addEventListener("click", () => {
        call("open_link", { url: href }).then(
          () => (outcome.textContent = "Opened in your browser."),
          (e: ApiError) => (outcome.textContent = e.message),
        );
      });
      replaceChildren(box, el("p", {}, "Open this address in your browser?"), visibleSpan(href, "mono link-address"), el("div", { class: "row-actions" }, open, close, outcome));
    }
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  };
  container.addEventListener("click", (e) => {
    const link = (e.target as HTMLElement).closest<HTMLElement>(".md-link");
    if (link) ask(link);
  });
  container.addEventListener("keydown", (e) => {
    const link = (e.target as HTMLElement).closest<HTMLElement>(".md-link");
    if (link && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      ask(link);
    }
  });
}
