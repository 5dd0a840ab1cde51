//! The real window under Xvfb, driven over WebDriver, against a sandbox forge
//! that each test starts on a free port. Screenshots land in
//! `target/e2e-screenshots/`.

use countersign_forge_sandbox::{RunningSandbox, Seed};
use countersign_tests::free_port;
use countersign_tests::keyring_session::KeyringHome;
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
        click(&app, "[data-testid=tab-files]").await?;
        app.wait_for_text("[data-testid=diff]", "MAX_RATE_ML_H")
            .await?;
        let tree = app
            .wait_for_text("[data-testid=file-tree]", "rate.rs")
            .await?;
        for path in [
            "firmware/src/dosing/rate.rs",
            "firmware/src/dosing/scheduler.rs",
            "docs/risk/RA-042.md",
        ] {
            assert!(tree.contains(path), "the file tree lacks {path}: {tree}");
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
        click(&app, "[data-testid=tab-conversation]").await?;
        let body = app
            .wait_for_text("[data-testid=description]", "<script>")
            .await?;
        assert!(body.contains("javascript:"), "{body}");
        let injected = js(
            &app,
            "return [document.title, document.querySelectorAll('#app script, #app img').length];",
        )
        .await?;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_then_sign_in_the_window_with_the_real_keychain() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-sign");
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let app = AppWindow::launch_with_keyring(
        "enrol-and-sign",
        &desktop_binary("debug"),
        &args,
        Some(&home),
    )
    .await
    .unwrap();
    let head43 = {
        let store = sandbox.store();
        let s = store.read().unwrap();
        s.repos[0].pull(43).unwrap().head_sha.clone()
    };
    let result: Result<(), String> = async {
        app.find("[data-testid=queue-item][data-number='43']")
            .await?
            .click()
            .await
            .map_err(|e| e.to_string())?;
        // The policy at the base commit, read before anyone signed.
        app.wait_for_text("[data-testid=status-line]", "0/1 — waiting for QA")
            .await?;
        app.wait_for_text("[data-testid=risk-class]", "medium")
            .await?;
        app.wait_for_text("[data-testid=risk-before]", "reduce as far as possible")
            .await?;
        click(&app, "[data-testid=tab-evidence]").await?;
        app.wait_for_text("[data-testid=tests-summary]", "4 passed, 0 failed")
            .await?;
        click(&app, "[data-testid=tab-overview]").await?;
        type_into(&app, "[data-testid=enrol-name]", "Bob Okafor").await?;
        let ack = app
            .wait_for_text("[data-testid=acknowledgement-text]", "Bob Okafor")
            .await?;
        assert!(ack.contains("legally binding"), "{ack}");
        type_into(&app, "[data-testid=enrol-password]", PASSWORD).await?;
        type_into(&app, "[data-testid=enrol-password-again]", PASSWORD).await?;
        // Without the acknowledgement there is no enrolment.
        click(&app, "[data-testid=enrol-submit]").await?;
        let refused = app.find("[data-testid=sign-error]").await?;
        assert_eq!(
            refused
                .attr("data-code")
                .await
                .map_err(|e| e.to_string())?
                .as_deref(),
            Some("signing.acknowledgement_required")
        );
        click(&app, "[data-testid=enrol-acknowledge]").await?;
        click(&app, "[data-testid=enrol-submit]").await?;
        app.wait_for_text("[data-testid=enrolled-fingerprint]", "SHA256:")
            .await?;
        click(&app, "[data-testid=enrol-continue]").await?;

        // The role comes from the policy: Bob is in QA, and only there.
        let role = app.find("[data-testid=sign-role]").await?;
        assert_eq!(
            role.prop("value")
                .await
                .map_err(|e| e.to_string())?
                .as_deref(),
            Some("qa")
        );
        type_into(
            &app,
            "[data-testid=sign-reason]",
            "Alarm text verified in formative usability test UT-9",
        )
        .await?;
        click(&app, "[data-testid=sign-review]").await?;
        app.wait_for_text("[data-testid=preview-commit]", &head43[..10])
            .await?;
        // What is previewed is what is signed: the form is locked (issue 12 §1).
        for locked in ["sign-reason", "sign-meaning", "sign-role"] {
            let control = app.find(&format!("[data-testid={locked}]")).await?;
            assert_eq!(
                control
                    .prop("disabled")
                    .await
                    .map_err(|e| e.to_string())?
                    .as_deref(),
                Some("true"),
                "{locked} stays editable after the preview"
            );
        }
        app.wait_for_text("[data-testid=preview-signed-at]", "fixed now")
            .await?;

        // The webview cannot sign without re-authentication: a wrong password is refused.
        type_into(&app, "[data-testid=sign-password]", "not my password").await?;
        click(&app, "[data-testid=sign-submit]").await?;
        let error = app.find("[data-testid=sign-error]").await?;
        assert_eq!(
            error
                .attr("data-code")
                .await
                .map_err(|e| e.to_string())?
                .as_deref(),
            Some("signing.bad_password")
        );

        type_into(&app, "[data-testid=sign-password]", PASSWORD).await?;
        click(&app, "[data-testid=sign-submit]").await?;
        let shown = app
            .wait_for_text("[data-testid=manifestation]", "Signed by Bob Okafor")
            .await?;
        for needle in [
            "approval — I approve this change",
            "Alarm text verified in formative usability test UT-9",
            "Date and time: ",
            "as qa",
        ] {
            assert!(
                shown.contains(needle),
                "manifestation lacks {needle:?}: {shown}"
            );
        }

        // The record goes to the forge: the ref, one comment, one green status,
        // and the window's review says so.
        app.wait_for_text("[data-testid=push-result]", "Pushed to the forge")
            .await?;
        app.wait_for_text(
            "[data-testid=status-line]",
            "Approved 1/1 (user-facing text): Bob Okafor",
        )
        .await?;
        {
            let store = sandbox.store();
            let s = store.read().unwrap();
            let comments = s.repos[0].comments.iter().filter(|c| c.issue == 43).count();
            let statuses: Vec<_> = s.repos[0]
                .statuses
                .iter()
                .filter(|(_, st)| st.context == "countersign/approval")
                .collect();
            assert_eq!((comments, statuses.len()), (1, 1));
            assert_eq!(statuses[0].0, head43);
            assert_eq!(statuses[0].1.state, "success");
            assert_eq!(
                statuses[0].1.description,
                "Approved 1/1 (user-facing text): Bob Okafor"
            );
            assert!(s.repos[0].git.refs.contains_key("refs/countersign/pr-43"));
        }
        // Anyone can check it without this machine: the gate, as CI runs it.
        let gate = run_gate(&sandbox, &home, &[])?;
        let report = String::from_utf8_lossy(&gate.stdout);
        assert!(
            gate.status.success() && report.contains("APPROVED: the policy is satisfied."),
            "{report}\n{}",
            String::from_utf8_lossy(&gate.stderr)
        );

        // Issue 18: the inspector's dossier, from the window, as HTML and PDF.
        click(&app, "[data-testid=dossier]").await?;
        let said = app
            .wait_for_text("[data-testid=dossier-result]", "Dossier written")
            .await?;
        let dir = said
            .split_once(" files in ")
            .and_then(|(_, rest)| rest.split_once(", and "))
            .map(|(dir, _)| std::path::PathBuf::from(dir))
            .ok_or_else(|| format!("no folder in {said:?}"))?;
        let pdf = std::process::Command::new("pdftotext")
            .arg(dir.join("dossier.pdf"))
            .arg("-")
            .output()
            .map_err(|e| format!("pdftotext (apt: poppler-utils): {e}"))?;
        let pdf = String::from_utf8_lossy(&pdf.stdout);
        assert!(
            pdf.contains("Bob Okafor")
                && pdf.contains("Alarm text verified in formative usability test UT-9"),
            "{pdf}"
        );
        let _ = std::fs::remove_dir_all(&dir);

        // The audit trail shows every step and verifies; the outbox is empty.
        click(&app, "[data-testid=nav-audit]").await?;
        let check = app.find("[data-testid=audit-check]").await?;
        assert_eq!(
            check
                .attr("data-holds")
                .await
                .map_err(|e| e.to_string())?
                .as_deref(),
            Some("true")
        );
        // The sandbox adds the new key to its policy at enrolment, so the
        // review after signing sees a second policy version.
        let rows = app.find_n("[data-testid=audit-row]", 8).await?;
        let mut kinds = Vec::new();
        for row in &rows {
            kinds.push(
                row.attr("data-kind")
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default(),
            );
        }
        assert_eq!(
            kinds,
            [
                "export",
                "policy_seen",
                "push",
                "sign",
                "auth_succeeded",
                "auth_failed",
                "enrolment",
                "policy_seen"
            ],
            "newest first"
        );
        // A signer's entries name them, not only their login.
        app.wait_for_text("[data-testid=audit-row][data-kind=sign]", "Bob Okafor (")
            .await?;
        app.wait_for_text("[data-testid=outbox-item]", "pushed")
            .await?;
        let kind = app.find("[data-testid=audit-filter-kind]").await?;
        kind.select_by_value("auth_failed")
            .await
            .map_err(|e| e.to_string())?;
        app.find_n("[data-testid=audit-row]", 1).await?;

        // Issue 14: the signer takes the signature back from the Signatures
        // tab, with a signed withdrawal; the status follows, and both show.
        click(&app, "[data-testid=nav-review]").await?;
        click(&app, "[data-testid=tab-signatures]").await?;
        click(
            &app,
            "[data-testid=signature-row][data-standing=counted] [data-testid=withdraw]",
        )
        .await?;
        app.wait_for_text(
            "[data-testid=withdrawing]",
            "Withdrawing your approval as qa",
        )
        .await?;
        type_into(
            &app,
            "[data-testid=sign-reason]",
            "Signed against the wrong build",
        )
        .await?;
        click(&app, "[data-testid=sign-review]").await?;
        app.wait_for_text(
            "[data-testid=sign-preview]",
            "I withdraw my earlier signature",
        )
        .await?;
        type_into(&app, "[data-testid=sign-password]", PASSWORD).await?;
        click(&app, "[data-testid=sign-submit]").await?;
        app.wait_for_text("[data-testid=push-result]", "Pushed to the forge")
            .await?;
        app.find("[data-testid=signature-row][data-standing=withdrawn]")
            .await?;
        app.find("[data-testid=signature-row][data-standing=withdraws]")
            .await?;
        app.screenshot_as("signature-withdrawn").await?;
        click(&app, "[data-testid=tab-overview]").await?;
        app.wait_for_text("[data-testid=status-line]", "0/1 — waiting for QA")
            .await?;

        // "My signing identity": the key, its password's age, the session
        // the signatures opened, and the record for the roster.
        click(&app, "[data-testid=nav-identity]").await?;
        app.wait_for_text("[data-testid=identity-fingerprint]", "SHA256:")
            .await?;
        app.wait_for_text("[data-testid=identity-session]", "open until")
            .await?;
        app.wait_for_text("[data-testid=identity-password-age]", "0 days ago")
            .await?;
        let record = js(
            &app,
            "return document.querySelector('[data-testid=identity-record]').value;",
        )
        .await?;
        assert!(
            record
                .as_str()
                .is_some_and(|r| r.contains("Bob Okafor") && r.contains("public_key")),
            "{record}"
        );
        app.screenshot_as("identity").await?;

        // The Policy tab's admin side: revoke a key (here Bob's own, the one
        // key the roster lists), signed with his password, as a pull request.
        click(&app, "[data-testid=nav-admin]").await?;
        click(&app, "[data-testid=admin-load]").await?;
        app.find("[data-testid=revoke-key]").await?;
        type_into(
            &app,
            "[data-testid=revoke-reason]",
            "Laptop left on the train",
        )
        .await?;
        type_into(&app, "[data-testid=revoke-password]", PASSWORD).await?;
        click(&app, "[data-testid=revoke-submit]").await?;
        let proposed = app
            .wait_for_text("[data-testid=revoke-proposed]", "Proposed as pull request")
            .await?;
        assert!(proposed.contains("Bob Okafor's key revoked"), "{proposed}");
        app.screenshot_as("policy-revoke").await?;

        // Issue 17: logs in the XDG state directory, a file a day, and no
        // password in them after enrolment, signing, a password check and a
        // revocation.
        let logs = home.root.join("state/countersign/logs");
        let files: Vec<std::path::PathBuf> = std::fs::read_dir(&logs)
            .map_err(|e| format!("{}: {e}", logs.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0]
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("countersign.") && name.ends_with(".log"),
            "{name}"
        );
        let text = std::fs::read_to_string(&files[0]).map_err(|e| e.to_string())?;
        assert!(text.contains("session started"), "{text}");
        assert!(!text.contains(PASSWORD), "a password in the log");
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_adds_a_signer_and_proposes_the_policy_in_the_window() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    sandbox.store().write().unwrap().viewer = "dan-release".into();
    let home = KeyringHome::new("e2e-admin");
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let app = AppWindow::launch_with_keyring(
        "policy-admin",
        &desktop_binary("debug"),
        &args,
        Some(&home),
    )
    .await
    .unwrap();
    let key = countersign_signing::keys::SignerKey::from_test_seed([9; 32]).public();
    let record = serde_json::json!({
        "printed_name": "Erin Novak",
        "forge": {"host": "127.0.0.1", "user_id": 5010, "login": "erin-qa"},
        "public_key": key.to_base64(),
        "valid_from": "2026-11-26T09:00:00Z"
    })
    .to_string();
    let result: Result<(), String> = async {
        app.find_n("[data-testid=queue-item]", 4).await?;
        click(&app, "[data-testid=nav-admin]").await?;
        click(&app, "[data-testid=admin-load]").await?;
        app.find("[data-testid=policy-ok]").await?;
        // A typo is caught where it is, as it is typed.
        let text = app.find("[data-testid=policy-text]").await?;
        text.send_keys("\n[[oops").await.map_err(|e| e.to_string())?;
        app.find("[data-testid=policy-problem]").await?;
        js(&app, "const t = document.querySelector('[data-testid=policy-text]'); t.value = t.value.replace('\\n[[oops', ''); t.dispatchEvent(new Event('input'));").await?;
        app.find("[data-testid=policy-ok]").await?;
        type_into(&app, "[data-testid=signer-record]", &record).await?;
        click(&app, "[data-testid=signer-add]").await?;
        app.wait_for_text("[data-testid=roster-role][data-role=qa]", "Erin Novak (@erin-qa, 1 key)")
            .await?;
        type_into(&app, "[data-testid=policy-reason]", "Erin joins QA (training TR-311)").await?;
        click(&app, "[data-testid=policy-propose]").await?;
        app.wait_for_text("[data-testid=policy-proposed]", "Proposed as pull request #46")
            .await?;
        let store = sandbox.store();
        let st = store.read().unwrap();
        let pr = st.repos[0].pull(46).ok_or("no pull request #46")?;
        assert!(pr.files[0].new.as_deref().unwrap_or("").contains("Erin Novak"));
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_the_device_flow_then_connecting_to_the_forge() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-settings");
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let app =
        AppWindow::launch_with_keyring("settings", &desktop_binary("debug"), &args, Some(&home))
            .await
            .unwrap();
    let base = sandbox.api_base();
    let result: Result<(), String> = async {
        app.find_n("[data-testid=queue-item]", 4).await?;
        click(&app, "[data-testid=nav-settings]").await?;
        let kind = app.find("[data-testid=settings-kind]").await?;
        kind.select_by_value("github")
            .await
            .map_err(|e| e.to_string())?;
        for css in [
            "[data-testid=settings-api-url]",
            "[data-testid=settings-web-url]",
        ] {
            app.find(css)
                .await?
                .clear()
                .await
                .map_err(|e| e.to_string())?;
            type_into(&app, css, &base).await?;
        }
        type_into(
            &app,
            "[data-testid=settings-client-id]",
            "Iv1.countersign-e2e",
        )
        .await?;
        click(&app, "[data-testid=settings-device]").await?;
        let code = app
            .wait_for_text("[data-testid=device-code]", "CSGN-")
            .await?;
        // The person approves the code in their browser.
        let approved = reqwest::Client::new()
            .post(format!("{base}login/device"))
            .form(&[("user_code", code.trim())])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        assert!(approved.status().is_success());
        app.wait_for_text("[data-testid=device-result]", "Signed in as @bob-qa")
            .await?;
        click(&app, "[data-testid=settings-save]").await?;
        // Reconnected through the GitHub client with the token from the keychain.
        let badge = app
            .wait_for_text("[data-testid=forge-badge]", "127.0.0.1")
            .await?;
        assert!(!badge.contains("Sandbox"), "{badge}");
        app.find_n("[data-testid=queue-item]", 4).await?;
        let saved = std::fs::read_to_string(
            home.root
                .join("config/dev.countersign.desktop/settings.json"),
        )
        .map_err(|e| e.to_string())?;
        assert!(saved.contains("\"kind\": \"github\""), "{saved}");
        assert!(
            !saved.contains("sandbox-token"),
            "the token is never in the settings file"
        );
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_kept_reads_offline_in_the_window() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-offline");
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let app =
        AppWindow::launch_with_keyring("offline", &desktop_binary("debug"), &args, Some(&home))
            .await
            .unwrap();
    let result: Result<(), String> = async {
        app.find_n("[data-testid=queue-item]", 4).await?;
        click(&app, "[data-testid=sync-offline]").await?;
        app.wait_for_text(
            "[data-testid=sync-offline-result]",
            "4 kept for offline reading",
        )
        .await?;
        // The plane takes off.
        sandbox.stop();
        app.client.refresh().await.map_err(|e| e.to_string())?;
        app.find("[data-testid=offline-banner]").await?;
        app.find_n("[data-testid=queue-item]", 4).await?;
        click(&app, "[data-testid=queue-item][data-number='42']").await?;
        app.find("[data-testid=detail-offline]").await?;
        click(&app, "[data-testid=tab-files]").await?;
        app.wait_for_text("[data-testid=diff]", "MAX_RATE_ML_H")
            .await?;
        app.find("[data-testid=review-offline]").await?;
        click(&app, "[data-testid=tab-overview]").await?;
        app.wait_for_text("[data-testid=risk-class]", "high")
            .await?;
        // The cache on disk is ciphertext.
        let cache = std::fs::read(home.root.join("data/dev.countersign.desktop/cache.sqlite"))
            .map_err(|e| e.to_string())?;
        assert!(!cache.starts_with(b"SQLite format 3"));
        assert!(!String::from_utf8_lossy(&cache).contains("Clamp infusion rate"));
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

/// Issue 14: keep for offline, take the forge away, sign, bring the forge
/// back: the record reaches the forge without a click and the status turns
/// as the policy says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_kept_for_offline_is_signed_on_the_plane_and_pushed_on_landing() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-offline-sign");
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let app = AppWindow::launch_with_keyring(
        "offline-sign",
        &desktop_binary("debug"),
        &args,
        Some(&home),
    )
    .await
    .unwrap();
    let result: Result<(), String> = async {
        click(&app, "[data-testid=queue-item][data-number='43']").await?;
        app.wait_for_text("[data-testid=status-line]", "0/1 — waiting for QA")
            .await?;
        enrol_bob(&app).await?;
        // The policy lets records signed offline count for three days.
        countersign_forge_sandbox::edit_policy(
            &mut sandbox.store().write().unwrap().repos[0],
            |text| {
                text.replacen(
                    "[gate]\n",
                    "[gate]\nallow_offline_signing = true\nmax_offline_age = \"72h\"\n",
                    1,
                )
            },
        );
        click(&app, "[data-testid=sync-offline]").await?;
        app.wait_for_text(
            "[data-testid=sync-offline-result]",
            "kept for offline reading",
        )
        .await?;

        // The plane takes off: every request fails at the network.
        sandbox.store().write().unwrap().inject(
            "",
            countersign_forge_sandbox::Fault::ResetConnection,
            None,
        );
        type_into(
            &app,
            "[data-testid=sign-reason]",
            "Read on the plane: wording matches UT-9",
        )
        .await?;
        click(&app, "[data-testid=sign-review]").await?;
        type_into(&app, "[data-testid=sign-password]", PASSWORD).await?;
        click(&app, "[data-testid=sign-submit]").await?;
        app.wait_for_text("[data-testid=manifestation]", "Signed by Bob Okafor")
            .await?;
        app.wait_for_text("[data-testid=push-result]", "Waiting in the outbox")
            .await?;

        // Landing: the forge is back, and the system says the network is.
        sandbox.store().write().unwrap().faults.clear();
        js(&app, "window.dispatchEvent(new Event('online'));").await?;
        app.wait_for_text("[data-testid=status-line]", "Approved 1/1")
            .await?;
        let receipts = sandbox.store().read().unwrap().repos[0]
            .comments
            .iter()
            .filter(|c| {
                c.issue == 43
                    && c.body
                        .contains(countersign_api::records_on_forge::RECEIPT_MARKER)
            })
            .count();
        assert_eq!(receipts, 1);
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

/// Issue 17: launched with a link to a change (a `countersign://` link, as
/// the desktop entry passes it), the window opens on that change; a link to
/// another forge is refused and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_link_opens_its_change_and_a_foreign_one_is_refused() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    for (link, expect) in [
        (
            "countersign://review/127.0.0.1/acme-medical/infusion-pump-firmware/43",
            "Reword the occlusion alarm",
        ),
        (
            "countersign://review/evil.example/acme-medical/infusion-pump-firmware/43",
            "this window is on 127.0.0.1",
        ),
    ] {
        let _one = ONE_WINDOW.lock().await;
        let args = vec![
            "--sandbox-url".to_owned(),
            sandbox.api_base(),
            link.to_owned(),
        ];
        let app = AppWindow::launch("launch-link", &desktop_binary("debug"), &args)
            .await
            .unwrap();
        let result: Result<(), String> = async {
            let shown = if expect.starts_with("Reword") {
                app.wait_for_text("[data-testid=detail-title]", expect)
                    .await?
            } else {
                app.wait_for_text("[data-testid=detail-error]", expect)
                    .await?
            };
            assert!(shown.contains(expect), "{shown}");
            Ok(())
        }
        .await;
        app.close().await;
        result.unwrap();
    }
}

/// Issue 17: one window per ledger. A second launch on the same session bus
/// and data folder hands its link to the running window and exits; the
/// window switches to that change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_hands_its_link_to_the_running_window_and_exits() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-one-instance");
    let _one = ONE_WINDOW.lock().await;
    let binary = desktop_binary("debug");
    let args = vec![
        "--sandbox-url".to_owned(),
        sandbox.api_base(),
        "countersign://review/127.0.0.1/acme-medical/infusion-pump-firmware/43".to_owned(),
    ];
    let app = AppWindow::launch_with_keyring("one-instance", &binary, &args, Some(&home))
        .await
        .unwrap();
    let result: Result<(), String> = async {
        app.wait_for_text("[data-testid=detail-title]", "Reword the occlusion alarm")
            .await?;
        let started = std::time::Instant::now();
        let second = home
            .command_on_its_bus(&binary)
            .env("DISPLAY", app.display())
            .args([
                "--sandbox-url",
                &sandbox.api_base(),
                "https://127.0.0.1/acme-medical/infusion-pump-firmware/pull/42",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        // Without the hand-over it would open a second window and stay.
        let mut second = second;
        let status = loop {
            if let Some(status) = second.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if started.elapsed() > std::time::Duration::from_secs(30) {
                let _ = second.kill();
                return Err("the second launch was still running after 30 s".into());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert!(
            status.success(),
            "the second launch exits cleanly: {status}"
        );
        eprintln!(
            "second launch handed over and exited in {:?}",
            started.elapsed()
        );
        app.wait_for_text("[data-testid=detail-title]", "Clamp infusion rate")
            .await?;
        // Still the one window, with its one WebDriver session.
        assert_eq!(
            js(
                &app,
                "return document.querySelectorAll('[data-testid=queue-item]').length > 0;"
            )
            .await?,
            serde_json::json!(true)
        );
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

/// The app on a stand-in desktop (`desktop-services`: a notification server
/// and a tray host on the window's private session bus), looking every second.
async fn launch_on_desktop(
    name: &str,
    sandbox: &RunningSandbox,
    home: &KeyringHome,
) -> (AppWindow, countersign_tests::desktop_bus::Desktop) {
    let desktop = countersign_tests::desktop_bus::Desktop::in_home(&home.root);
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let prelude = format!(
        "export COUNTERSIGN_WATCH_SECONDS=1; {}",
        desktop.start_script(&countersign_tests::workspace_binary("desktop-services"))
    );
    let app =
        AppWindow::launch_with_env(name, &desktop_binary("debug"), &args, Some(home), &prelude)
            .await
            .unwrap();
    (app, desktop)
}

/// A new change that needs QA (a copy of #42) arrives on the forge.
fn new_change_for_qa(sandbox: &RunningSandbox, number: u64, title: &str) {
    let store = sandbox.store();
    let mut store = store.write().unwrap();
    let repo = &mut store.repos[0];
    let mut pr = repo.pulls.iter().find(|p| p.number == 42).unwrap().clone();
    pr.number = number;
    pr.id += 1000;
    pr.title = title.into();
    repo.pulls.push(pr);
}

/// Issue 17: the tray counts the changes waiting for one of my roles, a
/// change that newly needs me is announced by a desktop notification, and a
/// click on it (or on the tray's menu) opens that change. The desktop is a
/// stand-in read as a panel reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_counts_what_waits_for_me_and_a_notification_opens_a_new_change() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-desktop");
    let _one = ONE_WINDOW.lock().await;
    let (app, desktop) = launch_on_desktop("desktop-citizen", &sandbox, &home).await;
    let result: Result<(), String> = async {
        app.find_n("[data-testid=queue-item]", 4).await?;
        let item = desktop.tray_item().await?;
        // The first looks judge the queue; Bob (QA) is needed on some of it.
        let before = desktop.tray_count(&item, None).await?;
        assert!(before >= 1, "{before}");
        assert!(
            desktop.notifications().is_empty(),
            "opening the app is not news: {:?}",
            desktop.lines()
        );

        // Forge text: notification servers may read markup in a body.
        new_change_for_qa(
            &sandbox,
            77,
            "Raise the occlusion pressure limit <img src=x onerror=alert(1)>",
        );
        let notify = desktop
            .wait_for("a notification", std::time::Duration::from_secs(60), |l| {
                l["notify"]["summary"]
                    .as_str()?
                    .contains("#77")
                    .then(|| l["notify"].clone())
            })
            .await?;
        let id = notify["id"].as_u64().unwrap() as u32;
        assert_eq!(
            notify["body"],
            "Raise the occlusion pressure limit &lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(
            desktop.notifications().len(),
            1,
            "only the new change is news: {:?}",
            desktop.lines()
        );
        assert!(
            notify["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "default"),
            "clickable: {notify}"
        );
        assert_eq!(desktop.tray_label(&item)?, (before + 1).to_string());

        // The click opens that change in the window.
        desktop.click_notification(id)?;
        app.wait_for_text(
            "[data-testid=detail-title]",
            "Raise the occlusion pressure limit",
        )
        .await?;

        // The tray's menu offers the first change that waits, and opens it.
        let menu = desktop.tray_menu(&item)?;
        let first = menu
            .iter()
            .find(|e| e.label.starts_with("Open ") && e.label.contains('#'))
            .ok_or_else(|| format!("no change in the tray menu: {menu:?}"))?;
        assert!(first.enabled, "{first:?}");
        // Elsewhere first, so that the menu's effect shows.
        click(&app, "[data-testid=queue-item][data-number='44']").await?;
        app.wait_for_text(
            "[data-testid=detail-title]",
            "Document the release checklist",
        )
        .await?;
        desktop.click_menu(&item, first.id)?;
        let title = first
            .label
            .split_once(": ")
            .map(|(_, t)| t.trim_end_matches('…'))
            .unwrap();
        app.wait_for_text("[data-testid=detail-title]", title)
            .await?;
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

/// Issue 17: notifications switched off in Settings: the tray still counts,
/// nothing is announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_switched_off_in_settings_stay_off() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-quiet");
    // Settings live in the XDG config folder.
    let config = home.root.join("config/dev.countersign.desktop");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("settings.json"),
        serde_json::json!({
            "kind": "sandbox", "api_url": sandbox.api_base(), "web_url": sandbox.api_base(),
            "oauth_client_id": "", "repos": [], "notifications": false,
        })
        .to_string(),
    )
    .unwrap();
    let _one = ONE_WINDOW.lock().await;
    let (app, desktop) = launch_on_desktop("quiet", &sandbox, &home).await;
    let result: Result<(), String> = async {
        let item = desktop.tray_item().await?;
        let before = desktop.tray_count(&item, None).await?;
        new_change_for_qa(&sandbox, 78, "Raise the occlusion pressure limit");
        desktop.tray_count(&item, Some(before + 1)).await?;
        // The look that counted it would have announced it.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let notes = desktop.notifications();
        assert!(notes.is_empty(), "switched off, yet: {notes:?}");
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

/// Issue 17: the installed package. `scripts/package-check.sh` installs the
/// .deb and runs this with `COUNTERSIGN_INSTALLED_DESKTOP` naming the
/// installed binary: it opens on the sandbox and shows the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by scripts/package-check.sh once the .deb is installed"]
async fn the_installed_package_opens_on_the_queue() {
    let binary = std::path::PathBuf::from(
        std::env::var("COUNTERSIGN_INSTALLED_DESKTOP")
            .expect("COUNTERSIGN_INSTALLED_DESKTOP names the installed desktop binary"),
    );
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-installed");
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let app = AppWindow::launch_with_keyring("installed", &binary, &args, Some(&home))
        .await
        .unwrap();
    let result = app.find("[data-testid=queue-item]").await.map(|_| ());
    let elapsed = app.session_requested.elapsed();
    app.close().await;
    result.unwrap();
    eprintln!("the installed app showed its first queue row within {elapsed:?}");
}

/// Issue 17: the window opens as large as it was left (the state the
/// window-state plugin keeps in the XDG config directory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_opens_as_large_as_it_was_left() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-window-state");
    let config = home.root.join("config/dev.countersign.desktop");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join(".window-state.json"),
        r#"{"main":{"width":1000,"height":700,"x":20,"y":30,"prev_x":20,"prev_y":30,"maximized":false,"visible":true,"decorated":true,"fullscreen":false}}"#,
    )
    .unwrap();
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let app = AppWindow::launch_with_keyring(
        "window-state",
        &desktop_binary("debug"),
        &args,
        Some(&home),
    )
    .await
    .unwrap();
    let result: Result<(), String> = async {
        app.find_n("[data-testid=queue-item]", 4).await?;
        let size = js(&app, "return [window.outerWidth, window.outerHeight];").await?;
        assert_eq!(size, serde_json::json!([1000, 700]), "{size}");
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_key_confirms_a_signature_in_the_window() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-security-key");
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    // Debug builds only: a software FIDO2 authenticator stands in for a USB key.
    let app = AppWindow::launch_with_env(
        "security-key",
        &desktop_binary("debug"),
        &args,
        Some(&home),
        "export COUNTERSIGN_SOFTWARE_SECURITY_KEY=1;",
    )
    .await
    .unwrap();
    let result: Result<(), String> = async {
        click(&app, "[data-testid=queue-item][data-number='43']").await?;
        enrol_bob(&app).await?;
        type_into(&app, "[data-testid=key-pin]", "246810").await?;
        click(&app, "[data-testid=key-register]").await?;
        // Registered: the sign form now offers the key.
        let use_key = app.find("[data-testid=sign-use-key]").await?;
        assert!(use_key.is_selected().await.map_err(|e| e.to_string())?);
        type_into(
            &app,
            "[data-testid=sign-reason]",
            "UT-9 passed; alarm text verified",
        )
        .await?;
        click(&app, "[data-testid=sign-review]").await?;
        app.find("[data-testid=sign-key-pin]").await?;
        type_into(&app, "[data-testid=sign-password]", PASSWORD).await?;
        type_into(&app, "[data-testid=sign-key-pin]", "246810").await?;
        click(&app, "[data-testid=sign-submit]").await?;
        app.wait_for_text("[data-testid=manifestation]", "Signed by Bob Okafor")
            .await?;
        app.wait_for_text(
            "[data-testid=status-line]",
            "Approved 1/1 (user-facing text): Bob Okafor",
        )
        .await?;
        // The gate checks the key's assertion against the roster, offline from the window.
        let gate = run_gate(&sandbox, &home, &["--json"])?;
        let report: serde_json::Value =
            serde_json::from_slice(&gate.stdout).map_err(|e| e.to_string())?;
        assert_eq!(report["approved"], true, "{report}");
        let policy =
            sandbox.store().read().unwrap().repos[0].base_files[".countersign/policy.toml"].clone();
        assert!(String::from_utf8_lossy(&policy).contains("fido2_credential_id"));
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

const PASSWORD: &str = "correct horse battery staple";

/// `countersign verify` on the demo change request #43, as CI runs the gate.
fn run_gate(
    sandbox: &RunningSandbox,
    home: &KeyringHome,
    extra: &[&str],
) -> Result<std::process::Output, String> {
    std::process::Command::new(countersign_tests::workspace_binary("countersign"))
        .args([
            "verify",
            "--forge",
            "sandbox",
            "--api-url",
            &sandbox.api_base(),
        ])
        .args([
            "--repo",
            "acme-medical/infusion-pump-firmware",
            "--pr",
            "43",
        ])
        .args(extra)
        .env("COUNTERSIGN_DATA_DIR", home.root.join("gate"))
        .output()
        .map_err(|e| e.to_string())
}

/// Enrol Bob in the signing panel of the open change, acknowledging, with
/// [`PASSWORD`], and go on to the sign form.
async fn enrol_bob(app: &AppWindow) -> Result<(), String> {
    type_into(app, "[data-testid=enrol-name]", "Bob Okafor").await?;
    type_into(app, "[data-testid=enrol-password]", PASSWORD).await?;
    type_into(app, "[data-testid=enrol-password-again]", PASSWORD).await?;
    click(app, "[data-testid=enrol-acknowledge]").await?;
    click(app, "[data-testid=enrol-submit]").await?;
    app.wait_for_text("[data-testid=enrolled-fingerprint]", "SHA256:")
        .await?;
    click(app, "[data-testid=enrol-continue]").await
}

async fn click(app: &AppWindow, css: &str) -> Result<(), String> {
    let element = app.find(css).await?;
    // WebKitWebDriver does not scroll to what it clicks: a person would.
    app.client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&element).map_err(|e| e.to_string())?],
        )
        .await
        .map_err(|e| format!("scroll to {css}: {e}"))?;
    element
        .click()
        .await
        .map_err(|e| format!("click {css}: {e}"))
}

/// Run `script` in the window; its return value.
async fn js(app: &AppWindow, script: &str) -> Result<serde_json::Value, String> {
    app.client
        .execute(script, vec![])
        .await
        .map_err(|e| format!("script: {e}"))
}

async fn type_into(app: &AppWindow, css: &str, text: &str) -> Result<(), String> {
    let field = app.find(css).await?;
    field
        .clear()
        .await
        .map_err(|e| format!("clear {css}: {e}"))?;
    field
        .send_keys(text)
        .await
        .map_err(|e| format!("type into {css}: {e}"))
}

/// Issue 13: the review workspace in the real window — tabs, the file tree
/// with what the forge did, viewed marks counted, invisible characters shown
/// for what they are, a long file drawn a screenful at a time, side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_workspace_reads_a_change_file_by_file() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let pr = st.repos[0]
            .pulls
            .iter_mut()
            .find(|p| p.number == 44)
            .unwrap();
        pr.title.push_str(" \u{202E}gnp.exe");
        pr.body.push_str(
            "\n\nSee [RA-042](https://example.org/ra-042) or [mail QA](mailto:qa@example.org).",
        );
        pr.files.push(countersign_forge_sandbox::FileChange {
            path: "docs/\u{202E}txt.exe".into(),
            previous_path: None,
            old: None,
            new: Some("zero\u{200B}width\n".into()),
        });
        pr.reviews = vec![(
            "carol-clinical".into(),
            "CHANGES_REQUESTED".into(),
            "Name the hazard".into(),
        )];
        let before = pr.updated_at - chrono::Duration::minutes(5);
        let long: String = (0..5_000).map(|i| format!("step {i}\n")).collect();
        pr.files.push(countersign_forge_sandbox::FileChange {
            path: "docs/long-procedure.md".into(),
            previous_path: None,
            old: None,
            new: Some(long),
        });
        st.repos[0]
            .comments
            .push(countersign_forge_sandbox::Comment {
                id: 7_001,
                issue: 44,
                body: "Which hazard does this close?".into(),
                author: "bob-qa".into(),
                created_at: before,
                updated_at: before,
            });
    }
    with_window!("workspace", &sandbox.api_base(), |app| {
        // Viewed marks are kept per head commit, across runs: start clean.
        js(&app, "localStorage.clear();").await?;
        // The queue filters what the forge sent, and says how many it shows.
        app.wait_for_text("[data-testid=queue-count]", "4 of 4 shown")
            .await?;
        type_into(&app, "[data-testid=queue-search]", "clamp").await?;
        app.wait_for_text("[data-testid=queue-count]", "1 of 4 shown")
            .await?;
        app.find_n("[data-testid=queue-item]", 1).await?;
        app.find("[data-testid=queue-search]")
            .await?
            .clear()
            .await
            .map_err(|e| e.to_string())?;
        app.find_n("[data-testid=queue-item]", 4).await?;
        click(&app, "[data-testid=queue-item][data-number='44']").await?;
        let title = app
            .wait_for_text("[data-testid=detail-title]", "<U+202E>")
            .await?;
        assert!(
            !title.contains('\u{202E}'),
            "the override was applied: {title}"
        );
        // The signing panel is its own pane, in view beside the change.
        app.find("[data-testid=sign-pane] [data-testid=sign-panel]")
            .await?;
        app.screenshot_as("workspace-overview").await?;

        click(&app, "[data-testid=tab-files]").await?;
        app.wait_for_text("[data-testid=viewed-count]", "0 of 3 files viewed")
            .await?;
        let tree = app
            .wait_for_text("[data-testid=file-tree]", "<U+202E>")
            .await?;
        assert!(!tree.contains('\u{202E}'), "{tree}");
        click(&app, "[data-testid=changed-file] [data-testid=viewed-box]").await?;
        app.wait_for_text("[data-testid=viewed-count]", "1 of 3 files viewed")
            .await?;
        // 5,000 lines, a screenful of rows in the DOM.
        let rows = js(
            &app,
            "return document.querySelectorAll('[data-testid=diff] .row').length;",
        )
        .await?;
        let rows = rows.as_u64().unwrap_or(0);
        assert!(
            (20..400).contains(&rows),
            "{rows} rows in the DOM for 5,000 lines"
        );
        app.wait_for_text("[data-testid=diff]", "<U+200B>").await?;
        // The long file's hunks come after the first answer, when it is reached.
        click(
            &app,
            "[data-testid=changed-file][data-index='2'] .tree-name",
        )
        .await?;
        app.wait_for_text("[data-testid=diff]", "step 0").await?;
        app.screenshot_as("workspace-files").await?;
        click(&app, "[data-testid=diff-split]").await?;
        app.find("[data-testid=diff] .row-pair").await?;
        app.screenshot_as("workspace-side-by-side").await?;

        // The keyboard: ? lists the shortcuts.
        js(
            &app,
            "document.body.dispatchEvent(new KeyboardEvent('keydown', {key: '?', bubbles: true}));",
        )
        .await?;
        app.wait_for_text("[data-testid=shortcuts]", "next / previous file")
            .await?;

        click(&app, "[data-testid=tab-conversation]").await?;
        app.wait_for_text("[data-testid=description]", "checklist")
            .await?;
        // Reviews and comments in one thread, in the order they were made.
        let thread = app
            .wait_for_text("[data-testid=conversation]", "Name the hazard")
            .await?;
        let (asked, answered) = (
            thread.find("Which hazard").unwrap_or(usize::MAX),
            thread.find("requested changes").unwrap_or(0),
        );
        assert!(asked < answered, "out of order: {thread}");
        // Links are inert: a click shows the whole address; only a web
        // address may be handed to the browser.
        click(
            &app,
            "[data-testid=description] .md-link[data-href^='https']",
        )
        .await?;
        app.wait_for_text("[data-testid=link-confirm]", "https://example.org/ra-042")
            .await?;
        app.find("[data-testid=link-open]").await?;
        click(
            &app,
            "[data-testid=description] .md-link[data-href^='mailto']",
        )
        .await?;
        app.wait_for_text("[data-testid=link-confirm]", "not a web address")
            .await?;
        let open_buttons = js(
            &app,
            "return document.querySelectorAll('[data-testid=link-open]').length;",
        )
        .await?;
        assert_eq!(
            open_buttons,
            serde_json::json!(0),
            "a mailto: link offered to open"
        );
        // Nothing sideways: no pane is wider than its box.
        let sideways = js(&app, "return ['[data-testid=queue]', '[data-testid=detail]', '[data-testid=sign-pane]'].filter(s => { const e = document.querySelector(s); return e && e.scrollWidth > e.clientWidth + 1; });").await?;
        let culprits = js(&app, "const d = document.querySelector('[data-testid=detail]'); const r = d.getBoundingClientRect().right; return [...d.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > r + 1 && e.offsetParent !== null).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 60));").await?;
        assert_eq!(
            sideways,
            serde_json::json!([]),
            "panes that scroll sideways: {culprits}"
        );

        // Evidence read against the change: changed-lines coverage, and the
        // changed lines that never ran marked in the diff.
        click(&app, "[data-testid=queue-item][data-number='42']").await?;
        app.wait_for_text("[data-testid=detail-title]", "Clamp infusion rate")
            .await?;
        click(&app, "[data-testid=tab-evidence]").await?;
        app.wait_for_text("[data-testid=changed-lines-coverage]", "changed lines ran")
            .await?;
        app.find("[data-testid=coverage-files]").await?;
        app.screenshot_as("workspace-evidence").await?;
        click(&app, "[data-testid=tab-files]").await?;
        app.find("[data-testid=diff] .row.uncovered").await?;
        // Rust, coloured by its tokens (typed spans, not HTML).
        app.find("[data-testid=diff] .tok-keyword").await?;
        let keywords = js(&app, "return [...document.querySelectorAll('[data-testid=diff] .tok-keyword')].map(e => e.textContent);").await?;
        assert!(
            keywords
                .as_array()
                .is_some_and(|k| k.iter().any(|w| w == "fn")),
            "{keywords}"
        );

        // Having read #42, whose QA signature may be given now, the queue
        // marks it as waiting for this user's role, and filters on it.
        click(&app, "[data-testid=queue-refresh]").await?;
        app.find("[data-testid=queue-item][data-number='42'] [data-testid=for-me]")
            .await?;
        click(&app, "[data-testid=queue-mine]").await?;
        app.wait_for_text("[data-testid=queue-count]", "waiting for your role")
            .await?;
        let (shown, marked) = (
            js(&app, "return document.querySelectorAll('[data-testid=queue-item]').length;").await?,
            js(&app, "return document.querySelectorAll('[data-testid=queue-item] [data-testid=for-me]').length;").await?,
        );
        assert_eq!(
            shown, marked,
            "the filter shows a change not waiting for me"
        );
        assert!(
            shown.as_u64().is_some_and(|n| (1..4).contains(&n)),
            "{shown}"
        );
        app.find("[data-testid=queue-item][data-number='42']")
            .await?;
        Ok(())
    });
}

/// Markup and script where the forge lets anyone write: a change's title and
/// body, file names and lines, commit messages, reviews, comments, and the
/// JUnit and SARIF messages of its CI evidence.
const PAYLOAD: &str = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script><svg onload=\"document.title='pwned'\"></svg>[x](javascript:document.title='pwned')";

/// Issue 13: with every piece of forge text planted with markup and
/// script, each view of the workspace shows it as text: nothing runs, and
/// no element the app did not make appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_markup_in_every_forge_text_never_runs() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let repo = &mut st.repos[0];
        let pr = repo.pulls.iter_mut().find(|p| p.number == 43).unwrap();
        pr.title = format!("Alarm {PAYLOAD}");
        pr.body = format!("{PAYLOAD}\n\n| a | b |\n|---|---|\n| {PAYLOAD} | x |\n");
        pr.files.push(countersign_forge_sandbox::FileChange {
            path: format!("docs/{}.md", "<img src=x onerror=alert(1)>"),
            previous_path: None,
            old: None,
            new: Some(format!("{PAYLOAD}\n")),
        });
        pr.commits[0].message = format!("ui: alarm text\n\n{PAYLOAD}");
        pr.reviews
            .push(("carol-clinical".into(), "COMMENTED".into(), PAYLOAD.into()));
        let head = pr.head_sha.clone();
        repo.comments.push(countersign_forge_sandbox::Comment {
            id: 990_043,
            issue: 43,
            body: PAYLOAD.into(),
            author: "outside-contributor".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        });
        let junit = format!(
            "<?xml version=\"1.0\"?><testsuites><testsuite name=\"t\"><testcase classname=\"ui\" name=\"alarm\"><failure message=\"{}\"/></testcase></testsuite></testsuites>",
            PAYLOAD.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")
        );
        let sarif = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "lint"}}, "results": [
            {"ruleId": PAYLOAD, "level": "error", "message": {"text": PAYLOAD},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": PAYLOAD}, "region": {"startLine": 1}}}]}]}]})
        .to_string();
        let run = repo
            .workflow_runs
            .iter_mut()
            .find(|r| r.head_sha == head)
            .unwrap();
        run.artifacts[0].zip =
            countersign_forge_sandbox::zip_of(&[("junit.xml", junit), ("lint.sarif", sarif)]);
    }
    with_window!("planted-markup", &sandbox.api_base(), |app| {
        click(&app, "[data-testid=queue-item][data-number='43']").await?;
        app.wait_for_text("[data-testid=detail-title]", "<script>")
            .await?;
        for tab in [
            "overview",
            "files",
            "evidence",
            "conversation",
            "signatures",
        ] {
            click(&app, &format!("[data-testid=tab-{tab}]")).await?;
            // The review (and with it the evidence) arrives after the detail.
            app.find("[data-testid=review-verdict]").await?;
            if tab == "evidence" {
                app.wait_for_text("[data-testid=test-problems]", "<script>")
                    .await?;
                app.wait_for_text("[data-testid=finding-list]", "onerror=")
                    .await?;
            }
            if tab == "conversation" {
                app.wait_for_text("[data-testid=commits]", "<svg").await?;
                app.wait_for_text("[data-testid=comment]", "<script>")
                    .await?;
            }
            let foreign = js(&app, "return [document.title, [...document.querySelectorAll('#app *')].filter(e => ['SCRIPT', 'IMG', 'SVG', 'IFRAME', 'OBJECT', 'EMBED', 'A'].includes(e.tagName.toUpperCase()) || [...e.attributes].some(a => a.name.startsWith('on') || a.value.includes('javascript:') && a.name !== 'title' && a.name !== 'data-href')).map(e => e.outerHTML.slice(0, 80))];").await?;
            assert_eq!(
                foreign,
                serde_json::json!(["Countersign", []]),
                "{tab}: forge text became markup"
            );
            app.screenshot_as(&format!("planted-{tab}")).await?;
        }
        Ok(())
    });
}

/// Serious and critical WCAG 2 A/AA violations axe-core finds in the window
/// as it is now, one line each.
async fn axe_violations(app: &AppWindow) -> Result<Vec<String>, String> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ui/node_modules/axe-core/axe.min.js"),
    )
    .map_err(|e| format!("axe-core (npm ci in ui/): {e}"))?;
    app.client
        .execute(&format!("{source}\n;window.axe = axe;"), vec![])
        .await
        .map_err(|e| format!("loading axe-core: {e}"))?;
    let found = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document.querySelector('#app'), { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })
               .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => `${v.id} (${v.impact}): ${v.nodes.length} × ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)))
               .catch(e => done([`axe failed: ${e}`]));",
            vec![],
        )
        .await
        .map_err(|e| format!("running axe-core: {e}"))?;
    serde_json::from_value(found).map_err(|e| e.to_string())
}

/// Issue 13: every tab of the workspace, in the light and in the dark theme
/// (which follows the system's), has no serious or critical WCAG 2 A/AA
/// violation by axe-core, run inside the real window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_is_accessible_in_light_and_dark() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    for (theme, env) in [
        ("light", "GTK_THEME=Adwaita"),
        ("dark", "GTK_THEME=Adwaita:dark"),
    ] {
        let _one = ONE_WINDOW.lock().await;
        let name = format!("a11y-{theme}");
        let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
        let app = AppWindow::launch_with_env(&name, &desktop_binary("debug"), &args, None, env)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let result: Result<(), String> = async {
            let dark = js(&app, "return matchMedia('(prefers-color-scheme: dark)').matches;").await?;
            assert_eq!(
                dark,
                serde_json::json!(theme == "dark"),
                "the window follows the system theme"
            );
            click(&app, "[data-testid=queue-item][data-number='42']").await?;
            app.find("[data-testid=review-verdict]").await?;
            let mut problems = Vec::new();
            for tab in [
                "overview",
                "files",
                "evidence",
                "conversation",
                "signatures",
            ] {
                click(&app, &format!("[data-testid=tab-{tab}]")).await?;
                app.screenshot_as(&format!("{theme}-{tab}")).await?;
                problems.extend(
                    axe_violations(&app)
                        .await?
                        .into_iter()
                        .map(|v| format!("{tab}: {v}")),
                );
                // Nothing cut off at a pane's edge, nothing to scroll sideways.
                let wide = js(&app, "return ['[data-testid=queue]', '[data-testid=detail]', '[data-testid=sign-pane]'].flatMap(s => { const pane = document.querySelector(s); const right = pane.getBoundingClientRect().right; return [...pane.querySelectorAll('*')].filter(e => e.offsetParent !== null && !e.closest('.diff-viewport, pre') && e.getBoundingClientRect().right > right + 1).slice(0, 3).map(e => `${s} ${e.tagName}.${e.className}: ${(e.textContent || '').slice(0, 50)}`); });").await?;
                for w in wide.as_array().into_iter().flatten() {
                    problems.push(format!("{tab}: wider than its pane: {w}"));
                }
            }
            assert!(problems.is_empty(), "{theme}:\n{}", problems.join("\n"));
            Ok(())
        }
        .await;
        app.close().await;
        if let Err(e) = result {
            panic!("{name}: {e}");
        }
    }
}

/// The whole loop in the window against the sandbox in Forgejo's shape:
/// the queue, the review with its evidence (a status by Forgejo's Actions
/// stands for the check), enrolment, signing, the push (records on the
/// `countersign/pr-43` branch, the comment, the status), and the gate with
/// `verify --forge forgejo`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_the_window_on_a_forgejo_shaped_forge() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let base = sandbox.api_base_as(countersign_forge_sandbox::Shape::Forgejo);
    sign_43_in_the_window_on(&sandbox, &base, "forgejo").await;
}

/// The whole loop in the window against the sandbox in GitLab's shape: the
/// merge requests, the review with its evidence (job artifacts; CI jobs stand
/// for the checks), enrolment, signing, the push (records on the
/// `countersign/pr-43` branch, a note, a commit status), and the gate with
/// `verify --forge gitlab`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_the_window_on_a_gitlab_shaped_forge() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let base = sandbox.gitlab_api_base();
    sign_43_in_the_window_on(&sandbox, &base, "gitlab").await;
}

/// Open #43 in the window against the sandbox at `base` (a forge's shape),
/// check its review and evidence, enrol Bob, sign, push, and run the gate
/// with `verify --forge <forge>`; the records end on the `countersign/pr-43`
/// branch (neither Gitea, Forgejo nor GitLab writes other refs).
async fn sign_43_in_the_window_on(sandbox: &RunningSandbox, base: &str, forge: &str) {
    let home = KeyringHome::new(&format!("e2e-{forge}"));
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), base.to_owned()];
    let app = AppWindow::launch_with_keyring(
        &format!("{forge}-sign"),
        &desktop_binary("debug"),
        &args,
        Some(&home),
    )
    .await
    .unwrap();
    let result: Result<(), String> = async {
        app.find_n("[data-testid=queue-item]", 4).await?;
        click(&app, "[data-testid=queue-item][data-number='43']").await?;
        app.wait_for_text("[data-testid=status-line]", "0/1 — waiting for QA")
            .await?;
        click(&app, "[data-testid=tab-evidence]").await?;
        app.wait_for_text("[data-testid=tests-summary]", "4 passed, 0 failed")
            .await?;
        click(&app, "[data-testid=tab-overview]").await?;
        enrol_bob(&app).await?;
        type_into(
            &app,
            "[data-testid=sign-reason]",
            "Alarm text verified in formative usability test UT-9",
        )
        .await?;
        click(&app, "[data-testid=sign-review]").await?;
        app.wait_for_text("[data-testid=preview-signed-at]", "fixed now")
            .await?;
        type_into(&app, "[data-testid=sign-password]", PASSWORD).await?;
        click(&app, "[data-testid=sign-submit]").await?;
        app.wait_for_text("[data-testid=push-result]", "Pushed to the forge")
            .await?;
        app.wait_for_text(
            "[data-testid=status-line]",
            "Approved 1/1 (user-facing text): Bob Okafor",
        )
        .await?;
        {
            let store = sandbox.store();
            let s = store.read().unwrap();
            assert!(
                s.repos[0]
                    .git
                    .refs
                    .contains_key("refs/heads/countersign/pr-43"),
                "records on the branch"
            );
            assert_eq!(
                s.repos[0].comments.iter().filter(|c| c.issue == 43).count(),
                1
            );
        }
        let gate = std::process::Command::new(countersign_tests::workspace_binary("countersign"))
            .args(["verify", "--forge", forge, "--api-url", base])
            .args([
                "--repo",
                "acme-medical/infusion-pump-firmware",
                "--pr",
                "43",
            ])
            .env(
                "COUNTERSIGN_TOKEN",
                countersign_forge_sandbox::SANDBOX_TOKEN,
            )
            .env("COUNTERSIGN_DATA_DIR", home.root.join("gate"))
            .output()
            .map_err(|e| e.to_string())?;
        let report = String::from_utf8_lossy(&gate.stdout);
        assert!(
            gate.status.success(),
            "{report}\n{}",
            String::from_utf8_lossy(&gate.stderr)
        );
        assert!(
            report.contains("APPROVED: the policy is satisfied."),
            "{report}"
        );
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}

/// Settings: choose Forgejo, give its REST root and a token (checked by
/// Forgejo's `GET /user` and kept in the keychain), save, and the window
/// reconnects through the Gitea/Forgejo client; the status bar names the host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_a_forgejo_server_in_settings() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let home = KeyringHome::new("e2e-forgejo-settings");
    let _one = ONE_WINDOW.lock().await;
    let args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let app = AppWindow::launch_with_keyring(
        "forgejo-settings",
        &desktop_binary("debug"),
        &args,
        Some(&home),
    )
    .await
    .unwrap();
    let base = sandbox.api_base_as(countersign_forge_sandbox::Shape::Forgejo);
    let result: Result<(), String> = async {
        app.find_n("[data-testid=queue-item]", 4).await?;
        click(&app, "[data-testid=nav-settings]").await?;
        let kind = app.find("[data-testid=settings-kind]").await?;
        kind.select_by_value("forgejo")
            .await
            .map_err(|e| e.to_string())?;
        app.wait_for_text("[data-testid=settings-api-hint]", "/api/v1/")
            .await?;
        app.wait_for_text("[data-testid=settings-token-hint]", "write:repository")
            .await?;
        let device = app.find("[data-testid=settings-device]").await?;
        assert_eq!(
            device
                .prop("disabled")
                .await
                .map_err(|e| e.to_string())?
                .as_deref(),
            Some("true"),
            "the browser sign-in is GitHub's"
        );
        app.find("[data-testid=settings-api-url]")
            .await?
            .clear()
            .await
            .map_err(|e| e.to_string())?;
        type_into(&app, "[data-testid=settings-api-url]", &base).await?;
        type_into(
            &app,
            "[data-testid=settings-token]",
            countersign_forge_sandbox::SANDBOX_TOKEN,
        )
        .await?;
        click(&app, "[data-testid=settings-token-save]").await?;
        app.wait_for_text("[data-testid=token-state]", "Signed in as @bob-qa")
            .await?;
        click(&app, "[data-testid=settings-save]").await?;
        let badge = app
            .wait_for_text("[data-testid=forge-badge]", "127.0.0.1")
            .await?;
        assert!(!badge.contains("Sandbox"), "{badge}");
        app.find_n("[data-testid=queue-item]", 4).await?;
        let saved = std::fs::read_to_string(
            home.root
                .join("config/dev.countersign.desktop/settings.json"),
        )
        .map_err(|e| e.to_string())?;
        assert!(saved.contains("\"kind\": \"forgejo\""), "{saved}");
        assert!(!saved.contains(countersign_forge_sandbox::SANDBOX_TOKEN));
        Ok(())
    }
    .await;
    app.close().await;
    result.unwrap();
}
