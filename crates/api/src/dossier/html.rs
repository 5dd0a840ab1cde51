//! `index.html`: the dossier for reading in any browser and printing on A4
//! or Letter. Static, with a policy that lets nothing load or run.

use super::document::{Block, Document};

/// Text as HTML element content: written as text, never as markup (the
/// dossier puts none of it in an attribute).
fn text(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

pub(super) fn render(d: &Document) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
    h.push_str(&format!("<title>Dossier: {}</title>", text(&d.title)));
    h.push_str("<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.2rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}@page{margin:15mm}p{overflow-wrap:anywhere}</style></head><body>\n");
    h.push_str(&format!("<h1>{}</h1>\n", text(&d.title)));
    for s in &d.sections {
        h.push_str(&format!("<h2>{}</h2>\n", text(s.heading)));
        for b in &s.blocks {
            match b {
                Block::Text(t) => h.push_str(&format!("<p>{}</p>\n", text(t))),
                Block::Emphasis(t) => h.push_str(&format!("<p><strong>{}</strong></p>\n", text(t))),
                Block::Table { head, rows } => {
                    if rows.is_empty() {
                        h.push_str("<p>None.</p>\n");
                        continue;
                    }
                    h.push_str("<table><tr>");
                    for c in head {
                        h.push_str(&format!("<th>{}</th>", text(c)));
                    }
                    h.push_str("</tr>\n");
                    for row in rows {
                        h.push_str("<tr>");
                        for c in row {
                            h.push_str(&format!("<td>{}</td>", text(c)));
                        }
                        h.push_str("</tr>\n");
                    }
                    h.push_str("</table>\n");
                }
            }
        }
    }
    h.push_str("</body></html>\n");
    h
}
