//! Links written in forge text, opened in the system browser only: only web
//! addresses, only when the reader asks after seeing the whole address. The
//! shell provides the opener (Tauri's opener plugin), so this crate stays free
//! of Tauri and the check is testable here.

use std::sync::Arc;

use url::Url;

use crate::{ApiError, ErrorCode};

/// Hands a checked web address to the system browser.
pub type LinkOpener = Arc<dyn Fn(&Url) -> Result<(), String> + Send + Sync>;

/// `text` as a web address that may be opened, or why not.
pub fn web_address(text: &str) -> Result<Url, ApiError> {
    let refused = |why: &str| {
        ApiError::new(
            ErrorCode::LinkRefused,
            format!("{why}: {text:?} is not opened"),
        )
    };
    let url = Url::parse(text.trim()).map_err(|_| refused("not an address"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(refused(
            "only https: and http: addresses open in the browser",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // `https://bank.example@evil.example/` reads as the first host and goes to the second.
        return Err(refused("an address with a user name or password in it"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refused("an address with no host"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_web_addresses_pass() {
        assert_eq!(
            web_address("https://example.org/a?b#c").unwrap().as_str(),
            "https://example.org/a?b#c"
        );
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<script>",
            "https://bank.example@evil.example/",
            "countersign://review/x",
            "not a url",
        ] {
            assert_eq!(
                web_address(bad).unwrap_err().code,
                ErrorCode::LinkRefused,
                "{bad}"
            );
        }
    }
}
