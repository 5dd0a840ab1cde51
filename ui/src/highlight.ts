// Syntax highlighting for the diff, by Prism's tokenizer: it returns typed
// tokens, never HTML, and the viewer turns them into spans of text. Only the
// languages of the repositories reviewed here are loaded: C, Rust, TOML,
// YAML, Markdown and Python. Lines are tokenized one at a time, as they are
// drawn, so a string or comment spanning lines is coloured line by line.

import Prism from "prismjs";
import "prismjs/components/prism-clike";
import "prismjs/components/prism-c";
import "prismjs/components/prism-rust";
import "prismjs/components/prism-toml";
import "prismjs/components/prism-yaml";
import "prismjs/components/prism-markup";
import "prismjs/components/prism-markdown";
import "prismjs/components/prism-python";

const BY_EXTENSION: Record<string, string> = {
  c: "c",
  h: "c",
  rs: "rust",
  toml: "toml",
  yml: "yaml",
  yaml: "yaml",
  md: "markdown",
  py: "python",
};

/// `[start, end, token type]` over a line, in UTF-16 offsets.
export type Span = [number, number, string];

/// The grammar for a file's name, if it is one of the languages above.
export function grammarFor(path: string): Prism.Grammar | null {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  const name = BY_EXTENSION[ext];
  return name === undefined ? null : (Prism.languages[name] ?? null);
}

/// The typed spans of `text`: nested tokens are flattened, the innermost type winning.
export function tokens(text: string, grammar: Prism.Grammar): Span[] {
  const out: Span[] = [];
  let at = 0;
  const walk = (stream: Prism.TokenStream, type: string | null) => {
    if (typeof stream === "string") {
      if (type !== null && stream.length > 0) out.push([at, at + stream.length, type]);
      at += stream.length;
      return;
    }
    if (Array.isArray(stream)) {
      for (const part of stream) walk(part, type);
      return;
    }
    walk(stream.content, stream.type);
  };
  walk(Prism.tokenize(text, grammar), null);
  return out;
}
