//! The real window under Xvfb, driven over WebDriver, against a sandbox forge
//! that each test starts on a free port. Screenshots land in
//! `target/e2e-screenshots/`.

use countersign_forge_sandbox::{RunningSandbox, Seed};
use countersign_tests::free_port;
use countersign_tests::window::{desktop_binary, AppWindow};
use tokio::sync::Mutex;

// One window at a time: two WebKit processes on two cores make both slow.
static ONE_WINDOW: Mutex<()> = Mutex::const_new(());

async fn launch(name: &str, sandbox_url: &str) -> AppWindow {
    let binary = desktop_binary("debug");
    let args = vec!["--sandbox-url".to_owned(), sandbox_url.to_owned()];
    AppWindow::launch(name, &binary, &args)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Run `body` against a fresh window; the window is closed (and photographed)
/// whether or not `body` succeeds.
macro_rules! with_window {
    ($name:expr, $url:expr, |$app:ident| $body:block) => {{
        let _one = ONE_WINDOW.lock().await;
        let $app = launch($name, $url).await;
        let result: Result<(), String> = async { $body }.await;
        $app.close().await;
        if let Err(e) = result {
            panic!("{}: {e}", $name);
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_shows_the_sandbox_pull_requests_and_opens_a_diff() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    with_window!("queue-and-diff", &sandbox.api_base(), |app| {
        let badge = app
            .wait_for_text("[data-testid=forge-badge]", "Sandbox")
            .await?;
        assert!(badge.contains("Sandbox"), "{badge}");
        let rows = app.find_n("[data-testid=queue-item]", 4).await?;
        let mut titles = Vec::new();
        for row in &rows {
            titles.push(row.text().await.map_err(|e| e.to_string())?);
        }
        assert!(
            titles.iter().any(|t| t.contains("Clamp infusion rate")),
            "{titles:?}"
        );
        assert!(
            titles
                .iter()
                .any(|t| t.contains("HIGH RISK") || t.contains("High risk")),
            "{titles:?}"
        );

        app.find("[data-testid=queue-item][data-number='42']")
            .await?
            .click()
            .await
            .map_err(|e| e.to_string())?;
        app.wait_for_text("[data-testid=detail-title]", "Clamp infusion rate")
            .await?;
        let diff = app
            .wait_for_text("[data-testid=diff]", "MAX_RATE_ML_H")
            .await?;
        for path in [
            "firmware/src/dosing/rate.rs",
            "firmware/src/dosing/scheduler.rs",
            "docs/risk/RA-042.md",
        ] {
            assert!(diff.contains(&format!("+++ b/{path}")), "diff lacks {path}");
        }
        app.find_n("[data-testid=changed-file]", 3).await?;
        Ok(())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forge_text_is_shown_as_text_and_never_runs() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    with_window!("hostile-text", &sandbox.api_base(), |app| {
        app.find("[data-testid=queue-item][data-number='45']")
            .await?
            .click()
            .await
            .map_err(|e| e.to_string())?;
        let title = app
            .wait_for_text("[data-testid=detail-title]", "<script>")
            .await?;
        assert!(
            title.contains("onerror="),
            "the markup must be visible as text: {title}"
        );
        let body = app
            .wait_for_text("[data-testid=description]", "<script>")
            .await?;
        assert!(body.contains("javascript:"), "{body}");
        let injected = app
            .client
            .execute("return [document.title, document.querySelectorAll('#app script, #app img').length];", vec![])
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(
            injected,
            serde_json::json!(["Countersign", 0]),
            "forge text was parsed as HTML"
        );
        Ok(())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_forge_shows_the_empty_state() {
    let sandbox = RunningSandbox::start(0, Seed::NoPullRequests)
        .await
        .unwrap();
    with_window!("empty-queue", &sandbox.api_base(), |app| {
        app.wait_for_text("[data-testid=queue-empty]", "No change requests")
            .await?;
        app.find_n("[data-testid=queue-item]", 0).await?;
        Ok(())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_that_is_down_shows_a_clear_error() {
    let url = format!("http://127.0.0.1:{}/", free_port());
    with_window!("forge-down", &url, |app| {
        let error = app.find("[data-testid=queue-error]").await?;
        let code = error.attr("data-code").await.map_err(|e| e.to_string())?;
        assert_eq!(code.as_deref(), Some("forge.unreachable"));
        let text = error.text().await.map_err(|e| e.to_string())?;
        assert!(text.contains("could not be loaded"), "{text}");
        Ok(())
    });
}
