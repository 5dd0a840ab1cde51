// Text that can lie, shown for what it is: bidi controls, zero-width and
// other invisible format characters, and control characters become a marked
// `<U+202E>` instead of being applied or drawn as nothing. Forge text goes
// through here wherever a name, a title or a line of code is shown.

// Unicode Cf (format) and Cc (control), but not the tab and the line feed,
// which text and code use as themselves.
const INVISIBLE = /[\p{Cf}\p{Cc}]/u;
const INVISIBLE_ALL = /[\p{Cf}\p{Cc}]/gu;
const SPACING = new Set(["\t", "\n"]);

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/// `text` as nodes: plain text, with each invisible character as a marked span.
export function visibleNodes(text: string): Node[] {
  if (!hasInvisible(text)) return [document.createTextNode(text)];
  const out: Node[] = [];
  let last = 0;
  for (const m of text.matchAll(INVISIBLE_ALL)) {
    const at = m.index ?? 0;
    if (SPACING.has(m[0])) continue;
    if (at > last) out.push(document.createTextNode(text.slice(last, at)));
    const mark = document.createElement("span");
    mark.className = "invisible-char";
    mark.textContent = `<${codePoint(m[0])}>`;
    mark.title = `An invisible character (${codePoint(m[0])}) is here in the text`;
    out.push(mark);
    last = at + m[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/// A span showing `text` with its invisible characters marked; the whole
/// text (marked the same way) on hover, for names that are cut.
export function visibleSpan(text: string, cls = ""): HTMLSpanElement {
  const span = document.createElement("span");
  if (cls) span.className = cls;
  span.append(...visibleNodes(text));
  span.title = text.replace(INVISIBLE_ALL, (ch) => (SPACING.has(ch) ? ch : `<${codePoint(ch)}>`));
  return span;
}

/// Whether `text` holds anything `visibleNodes` would mark.
export function hasInvisible(text: string): boolean {
  return INVISIBLE.test(text.replace(/[\t\n]/g, ""));
}
