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

/// The change request a link names: `countersign://review/<forge-host>/<owner>/<repo>/<number>`
/// (a desktop link), or the change's web address on this forge
/// (`https://<web-host>/<owner>/<repo>/pull/<number>`). A link to another
/// forge is refused, never followed.
pub fn change_from_link(
    link: &str,
    forge_host: &str,
    web_host: &str,
) -> Result<crate::contract::ChangeRequestRef, ApiError> {
    let refused = |why: &str| {
        ApiError::new(
            ErrorCode::LinkRefused,
            format!("{why}: {link:?} opens nothing"),
        )
    };
    let url = Url::parse(link.trim()).map_err(|_| refused("not a link"))?;
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let (owner, repo, number) = match (url.scheme(), url.host_str(), segments.as_slice()) {
        ("countersign", Some("review"), [host, owner, repo, number]) => {
            if !host.eq_ignore_ascii_case(forge_host) {
                return Err(refused(&format!(
                    "a link for {host}, and this window is on {forge_host}"
                )));
            }
            (*owner, *repo, *number)
        }
        (
            "https" | "http",
            Some(host),
            [owner, repo, "pull" | "pulls" | "merge_requests", number],
        ) => {
            web_address(link).map_err(|_| refused("not a plain web address"))?;
            if !host.eq_ignore_ascii_case(web_host) {
                return Err(refused(&format!(
                    "a change on {host}, and this window is on {web_host}"
                )));
            }
            (*owner, *repo, *number)
        }
        _ => return Err(refused("not a link to a change request")),
    };
    let repo_id: countersign_forge::RepoId = format!("{owner}/{repo}")
        .parse()
        .map_err(|_| refused("not a repository name"))?;
    let number: u32 = number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| refused("not a change request number"))?;
    Ok(crate::contract::ChangeRequestRef {
        repo: repo_id.to_string(),
        number,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_open_changes_on_this_forge_only() {
        let ok = |link: &str| {
            change_from_link(link, "github.com", "github.com").map(|c| (c.repo, c.number))
        };
        assert_eq!(
            ok("countersign://review/github.com/acme/pump/42").unwrap(),
            ("acme/pump".to_owned(), 42)
        );
        assert_eq!(
            ok("https://github.com/acme/pump/pull/43").unwrap(),
            ("acme/pump".to_owned(), 43)
        );
        for bad in [
            "countersign://review/evil.example/acme/pump/42",
            "https://evil.example/acme/pump/pull/42",
            "https://user@github.com/acme/pump/pull/42",
            "countersign://review/github.com/acme/../pump/42",
            "countersign://review/github.com/acme/pump/0",
            "countersign://review/github.com/acme/pump/x",
            "countersign://settings/github.com",
            "javascript:alert(1)",
        ] {
            assert_eq!(ok(bad).unwrap_err().code, ErrorCode::LinkRefused, "{bad}");
        }
    }

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
