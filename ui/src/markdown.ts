// A pull request's description, rendered from Markdown (CommonMark with GFM
// tables and strikethrough, by markdown-it) as DOM nodes built here from the
// parser's token stream: markdown-it's HTML renderer is never used, and raw
// HTML in the Markdown stays text. Images are not fetched (their address is
// shown as text). Links are inert: their full address is shown beside them.

import MarkdownIt from "markdown-it";
import type Token from "markdown-it/lib/token.mjs";

import { isWebAddress } from "./links";
import { visibleNodes } from "./visible";

// html: false makes raw HTML plain text tokens; linkify off: only written links.
const md = new MarkdownIt("commonmark", { html: false, linkify: false }).enable(["table", "strikethrough"]);

/// Elements a token may open; anything else becomes a `div` or a `span`.
const BLOCKS = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "pre", "code"]);
const INLINES = new Set(["em", "strong", "s", "code"]);

/// An element for `tag`, limited to the known harmless set.
function element(tag: string, inline: boolean): HTMLElement {
  const allowed = inline ? INLINES : BLOCKS;
  return document.createElement(allowed.has(tag) ? tag : inline ? "span" : "div");
}

/// A GFM task list item's `[ ]` / `[x]` shown as a disabled checkbox.
function taskBox(text: string): { box: HTMLInputElement | null; rest: string } {
  const m = /^\[([ xX])\]\s/.exec(text);
  if (m === null) return { box: null, rest: text };
  const box = document.createElement("input");
  box.type = "checkbox";
  box.disabled = true;
  box.checked = m[1] !== " ";
  return { box, rest: text.slice(m[0].length) };
}

function inline(tokens: Token[], into: HTMLElement): void {
  const stack: HTMLElement[] = [into];
  const top = () => stack[stack.length - 1];
  tokens.forEach((t, i) => {
    switch (t.type) {
      case "text": {
        const first = i === 0 && into.tagName === "LI" ? taskBox(t.content) : { box: null, rest: t.content };
        if (first.box) top().append(first.box);
        top().append(...visibleNodes(first.rest));
        break;
      }
      case "softbreak":
        top().append(" ");
        break;
      case "hardbreak":
        top().append(document.createElement("br"));
        break;
      case "code_inline": {
        const c = document.createElement("code");
        c.append(...visibleNodes(t.content));
        top().append(c);
        break;
      }
      case "image": {
        const alt = t.children?.map((c) => c.content).join("") ?? "";
        const span = document.createElement("span");
        span.className = "md-image";
        span.append(...visibleNodes(`[image: ${alt}] (${t.attrGet("src") ?? ""}, not loaded)`));
        top().append(span);
        break;
      }
      case "link_open": {
        const a = document.createElement("span");
        a.className = "md-link";
        // Reachable and announced as a link; opening it asks first (links.ts).
        a.setAttribute("role", "link");
        a.tabIndex = 0;
        const href = t.attrGet("href") ?? "";
        a.dataset.href = href;
        a.title = isWebAddress(href) ? href : `${href} (not a web address: inert)`;
        top().append(a);
        stack.push(a);
        break;
      }
      case "link_close": {
        const a = stack.pop();
        const href = a?.dataset.href ?? "";
        const shown = document.createElement("span");
        shown.className = "md-href muted";
        shown.append(...visibleNodes(` ⟨${href}⟩`));
        top().append(shown);
        break;
      }
      default:
        if (t.nesting === 1) {
          const e = element(t.tag, true);
          top().append(e);
          stack.push(e);
        } else if (t.nesting === -1) {
          stack.pop();
        } else if (t.content) {
          top().append(...visibleNodes(t.content));
        }
    }
  });
}

/// `source` (forge text) as a tree of nodes.
export function renderMarkdown(source: string): DocumentFragment {
  const out = document.createDocumentFragment();
  const root = document.createElement("div");
  out.append(root);
  const stack: HTMLElement[] = [root];
  const top = () => stack[stack.length - 1];
  for (const t of md.parse(source, {})) {
    if (t.type === "inline") {
      inline(t.children ?? [], top());
    } else if (t.type === "fence" || t.type === "code_block") {
      const pre = document.createElement("pre");
      // It may scroll sideways: reachable by keyboard.
      pre.tabIndex = 0;
      const code = document.createElement("code");
      code.append(...visibleNodes(t.content));
      pre.append(code);
      top().append(pre);
    } else if (t.type === "html_block" || t.type === "html_inline") {
      // Unreachable with html: false, kept so a configuration change cannot make it HTML.
      const p = document.createElement("p");
      p.append(...visibleNodes(t.content));
      top().append(p);
    } else if (t.nesting === 1) {
      const e = element(t.tag, false);
      top().append(e);
      stack.push(e);
    } else if (t.nesting === -1) {
      if (stack.length > 1) stack.pop();
    } else if (t.type === "hr") {
      top().append(document.createElement("hr"));
    }
  }
  return out;
}
