//! `dossier.pdf`: the same document as `index.html`, on A4 pages, made by
//! a PDF library rather than a browser so that it comes out the same on every
//! machine. One embedded monospaced font (DejaVu Sans Mono, every Latin,
//! Greek and Cyrillic name) makes line breaking exact without a layout
//! engine; tables print as one block per row, which a narrow page can hold.

use std::io::Cursor;

use printpdf::{IndirectFontRef, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference};

use super::document::{Block, Document};
use crate::{ApiError, ErrorCode};

const FONT: &[u8] = include_bytes!("../../fonts/DejaVuSansMono.ttf");

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
/// DejaVu Sans Mono's advance: 1233 of 2048 units per em.
const ADVANCE_EM: f32 = 1233.0 / 2048.0;
const PT_TO_MM: f32 = 25.4 / 72.0;

const BODY: f32 = 8.5;
const HEADING: f32 = 11.0;
const TITLE: f32 = 13.0;

/// How many characters of `size` points fit across the text width.
fn columns(size: f32) -> usize {
    ((PAGE_W - 2.0 * MARGIN) / (size * ADVANCE_EM * PT_TO_MM)) as usize
}

/// `text` broken into lines of at most `width` characters, the first
/// indented by `first` spaces and the others by `rest`: at spaces where
/// there are any, else anywhere (digests, long names).
fn wrap(text: &str, width: usize, first: usize, rest: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for paragraph in text.split('\n') {
        let started = out.len();
        let mut line = String::new();
        let mut len = 0usize;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let room = width - if out.is_empty() { first } else { rest };
                let need = if len > 0 {
                    len + 1 + word.len()
                } else {
                    word.len()
                };
                if need <= room {
                    if len > 0 {
                        line.push(' ');
                        len += 1;
                    }
                    line.extend(word.iter());
                    len += word.len();
                    break;
                }
                if len > 0 {
                    out.push(std::mem::take(&mut line));
                    len = 0;
                    continue;
                }
                let rest = word.split_off(room);
                out.push(word.iter().collect());
                word = rest;
            }
        }
        if len > 0 || out.len() == started {
            out.push(line);
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, l)| format!("{}{l}", " ".repeat(if i == 0 { first } else { rest })))
        .collect()
}

struct Pages {
    doc: PdfDocumentReference,
    font: IndirectFontRef,
    layer: PdfLayerReference,
    /// Where the next line's baseline goes, from the page's bottom.
    y: f32,
}

impl Pages {
    fn line(&mut self, text: &str, size: f32) {
        let height = size * 1.35 * PT_TO_MM;
        if self.y - height < MARGIN {
            let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "text");
            self.layer = self.doc.get_page(page).get_layer(layer);
            self.y = PAGE_H - MARGIN;
        }
        self.y -= height;
        if !text.is_empty() {
            self.layer
                .use_text(text, size, Mm(MARGIN), Mm(self.y), &self.font);
        }
    }

    fn text(&mut self, text: &str, size: f32, first: usize, rest: usize) {
        for l in wrap(text, columns(size), first, rest) {
            self.line(&l, size);
        }
    }

    fn gap(&mut self) {
        self.y -= BODY * 0.6 * PT_TO_MM;
    }
}

pub(super) fn render(
    d: &Document,
    made_at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, ApiError> {
    let failed = |e: &dyn std::fmt::Display| {
        ApiError::new(ErrorCode::Internal, format!("cannot make the PDF: {e}"))
    };
    let when = printpdf::OffsetDateTime::from_unix_timestamp(made_at.timestamp())
        .map_err(|e| failed(&e))?;
    let (doc, page, layer) = PdfDocument::new(
        format!("Dossier: {}", d.title),
        Mm(PAGE_W),
        Mm(PAGE_H),
        "text",
    );
    let doc = doc
        .with_producer("Countersign")
        .with_creation_date(when)
        .with_mod_date(when)
        .with_metadata_date(when);
    let font = doc
        .add_external_font(Cursor::new(FONT))
        .map_err(|e| failed(&e))?;
    let layer = doc.get_page(page).get_layer(layer);
    let mut p = Pages {
        doc,
        font,
        layer,
        y: PAGE_H - MARGIN,
    };
    p.text(&d.title, TITLE, 0, 2);
    for s in &d.sections {
        p.gap();
        p.gap();
        p.text(s.heading, HEADING, 0, 2);
        for b in &s.blocks {
            p.gap();
            match b {
                Block::Text(t) => p.text(t, BODY, 0, 0),
                Block::Emphasis(t) => p.text(t, HEADING, 0, 0),
                Block::Table { head, rows } => {
                    if rows.is_empty() {
                        p.text("None.", BODY, 0, 0);
                    }
                    for row in rows {
                        let mut cells = head.iter().zip(row);
                        if let Some((h, first)) = cells.next() {
                            p.text(&format!("- {h}: {first}"), BODY, 0, 4);
                        }
                        for (h, c) in cells {
                            p.text(&format!("{h}: {c}"), BODY, 2, 4);
                        }
                    }
                }
            }
        }
    }
    p.doc.save_to_bytes().map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn lines_break_at_spaces_else_anywhere_and_never_run_over() {
        let digest = "a".repeat(25);
        let lines = wrap(&format!("SHA-256 {digest} ok"), 10, 0, 2);
        assert!(lines.iter().all(|l| l.chars().count() <= 10), "{lines:?}");
        assert_eq!(
            lines.concat().replace(' ', ""),
            format!("SHA-256{digest}ok")
        );
        assert_eq!(lines[0], "SHA-256");
        assert!(lines[1].starts_with("  a"), "{lines:?}");
    }
}
