//! Forge text shown outside the window (dossiers, desktop notifications):
//! shown as it is, never applied. Forge text is written by whoever wants a
//! change approved.

/// Every invisible or control character shown as a marked code point: the
/// reader sees what was there, and none of it takes effect.
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // The same rule that refuses such characters in what is signed.
        let invisible =
            (c.is_control() && c != '\n' && c != '\t') || countersign_signing::is_format(c);
        if invisible {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for a desktop notification's body. Notification servers may read
/// the body as markup (`<a href>`, `<img src>`: a link to follow, an image
/// fetched from anywhere), so forge text is escaped as the specification
/// says, after its invisible characters are marked.
pub fn for_notification(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in visible(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_control_characters_are_shown_not_applied() {
        assert_eq!(
            visible("a\u{202E}b\u{200B}c\u{7}d\ne"),
            "a<U+202E>b<U+200B>c<U+0007>d\ne"
        );
    }

    #[test]
    fn markup_in_forge_text_reaches_a_notification_as_text() {
        assert_eq!(
            for_notification("Fix <img src=\"http://x/p.png\"> & <a href='h'>t</a>\u{202E}"),
            "Fix &lt;img src=&quot;http://x/p.png&quot;&gt; &amp; &lt;a href=&apos;h&apos;&gt;t&lt;/a&gt;&lt;U+202E&gt;"
        );
    }
}
