//! The headless ceremony with the real OS keychain (GNOME Keyring's Secret
//! Service in a private D-Bus session): enrol, sign, verify, and failing closed.

use std::process::Stdio;

use countersign_forge_sandbox::{RunningSandbox, Seed};
use countersign_tests::keyring_session::KeyringHome;
use countersign_tests::workspace_binary;

const PASSWORD: &str = "correct horse battery staple";

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_sign_and_verify_with_the_real_keychain() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let url = sandbox.api_base();
    let home = KeyringHome::new("cli-sign");
    let cs = shell_quote(&workspace_binary("countersign").display().to_string());
    let dir = home.root.display().to_string();
    let script = format!(
        "set -e
         echo {pw} | {cs} enrol --sandbox-url {url} --name 'Bob Okafor' --password-stdin --accept-acknowledgement --out {dir}/bob.json
         echo 'not the password' | {cs} sign --sandbox-url {url} --repo acme-medical/infusion-pump-firmware --pr 42 \
             --meaning approval --reason 'Verified RA-042' --role QA --password-stdin --out {dir}/wrong.json \
             && exit 90 || echo wrong-password-refused
         echo {pw} | {cs} sign --sandbox-url {url} --repo acme-medical/infusion-pump-firmware --pr 42 \
             --meaning approval --reason 'Verified RA-042 controls C1 and C2' --role QA --password-stdin --out {dir}/bundle.json
         {cs} audit verify
         {cs} audit export --out {dir}/export
         {cs} audit verify --export {dir}/export/audit.json
         {cs} push --sandbox-url {url}
         {cs} audit verify --forge sandbox --api-url {url} --repo acme-medical/infusion-pump-firmware
         COUNTERSIGN_DATA_DIR={dir}/elsewhere {cs} audit verify --forge sandbox --api-url {url} \
             --repo acme-medical/infusion-pump-firmware && exit 91 || echo replaced-trail-caught
         printf '%s\n%s\n' {pw} 'a brand new signing passphrase' | {cs} password --sandbox-url {url} --password-stdin
         echo 'a brand new signing passphrase' | {cs} sign --sandbox-url {url} --repo acme-medical/infusion-pump-firmware --pr 43 \
             --meaning approval --reason 'Signed after the password change' --role QA --password-stdin
         {cs} push --sandbox-url {url}
         rec=$({cs} verify --forge sandbox --api-url {url} --repo acme-medical/infusion-pump-firmware --pr 43 | sed -n 's/^    record //p' | head -n 1)
         echo \"withdrawing $rec\"
         echo 'a brand new signing passphrase' | {cs} withdraw --sandbox-url {url} --repo acme-medical/infusion-pump-firmware --pr 43 \
             --record \"$rec\" --reason 'Signed in error' --password-stdin
         {cs} key list --sandbox-url {url}
         {cs} push --sandbox-url {url}
         {cs} verify --forge sandbox --api-url {url} --repo acme-medical/infusion-pump-firmware --pr 43 && exit 92 || echo withdrawn-not-approved",
        pw = shell_quote(PASSWORD),
    );
    let out = tokio::task::spawn_blocking(move || {
        home.command(&script)
            .stdin(Stdio::null())
            .output()
            .map(|o| (o, home))
    })
    .await
    .unwrap()
    .expect("dbus-run-session and gnome-keyring-daemon (apt: dbus-daemon gnome-keyring)");
    let (out, home) = out;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("wrong-password-refused"), "{stdout}");
    // The trail against the audit head its record on the forge signed
    // (issue 12 §5): it holds; a fresh trail in another data directory does not.
    assert!(
        stdout.contains("The trail holds against every signed head."),
        "{stdout}"
    );
    assert!(stdout.contains("replaced-trail-caught"), "{stdout}");
    assert!(stdout.contains("shorter than the"), "{stdout}");
    // The key re-sealed in the real keychain under a new password, which signs.
    assert!(stdout.contains("Signing password changed"), "{stdout}");
    assert!(
        stdout.contains("Signed after the password change"),
        "{stdout}"
    );
    assert!(stdout.contains("Signed by Bob Okafor (@bob-qa"), "{stdout}");
    // Issue 14: a signature taken back by its signer's withdrawal no longer
    // approves the change, and the gate says why.
    assert!(stdout.contains("withdrawing sha256:"), "{stdout}");
    assert!(stdout.contains("withdrawn-not-approved"), "{stdout}");
    assert!(
        stdout.contains("WITHDRAWN — withdrawn by Bob Okafor"),
        "{stdout}"
    );
    // `countersign key list`, in a process of its own: the key, and no open
    // session (a new process is a new session).
    assert!(stdout.contains("Signing key: SHA256:"), "{stdout}");
    assert!(
        stdout.contains("Signing session: none (the next signature asks for everything)"),
        "{stdout}"
    );
    assert!(!home.root.join("wrong.json").exists());

    // The private key is in the keyring file only in sealed form.
    let enrolment: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.root.join("bob.json")).unwrap()).unwrap();
    std::fs::write(
        home.root.join("keys.json"),
        serde_json::to_vec(&[enrolment]).unwrap(),
    )
    .unwrap();

    // The trail holds the enrolment, the failed and the good attempt and the signature;
    // an export verifies on its own, and an edit to it is found at its entry.
    assert!(
        stdout.contains("Audit trail verified: 4 entries"),
        "{stdout}"
    );
    let export_path = home.root.join("export/audit.json");
    let html = std::fs::read_to_string(home.root.join("export/audit.html")).unwrap();
    assert!(
        html.contains("Verified RA-042 controls C1 and C2") && !html.contains("<script"),
        "{html}"
    );
    // Issue 18: every entry of the signer's names them, never a bare login.
    assert!(html.contains("Bob Okafor ("), "{html}");
    assert!(!html.contains("/bob-qa</td>"), "a bare login: {html}");
    let tampered = std::fs::read_to_string(&export_path)
        .unwrap()
        .replace("controls C1 and C2", "controls C1 and C3");
    std::fs::write(&export_path, tampered).unwrap();
    let out = std::process::Command::new(workspace_binary("countersign"))
        .args(["audit", "verify", "--export"])
        .arg(&export_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("BROKEN at entry 4: Altered"), "{text}");

    let head = "3e660899f3e9f8e529408c62ddff0473a6f9cef5";
    let verify = |commit: &str| {
        std::process::Command::new(workspace_binary("countersign"))
            .arg("verify")
            .arg("--bundle")
            .arg(home.root.join("bundle.json"))
            .arg("--keys")
            .arg(home.root.join("keys.json"))
            .args(["--commit", commit])
            .output()
            .unwrap()
    };
    let good = verify(head);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stdout)
    );
    assert!(String::from_utf8_lossy(&good.stdout).contains("All signatures verified."));
    let moved = verify("1111111111111111111111111111111111111111");
    assert_eq!(moved.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&moved.stdout).contains("FAILED: signed commit"));
}

#[test]
fn without_a_keychain_enrolment_fails_closed_and_writes_nothing() {
    let home = KeyringHome::new("no-keychain");
    let before = home.files();
    let out = home
        .command_without_keychain(&workspace_binary("countersign"))
        .args([
            "enrol",
            "--name",
            "Bob Okafor",
            "--password-stdin",
            "--accept-acknowledgement",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{PASSWORD}\n").as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("keychain.unavailable"), "{stderr}");
    assert!(
        stderr.contains("Secret Service"),
        "the message says what to do: {stderr}"
    );
    assert_eq!(
        home.files(),
        before,
        "nothing may be written instead of the keychain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_token_is_checked_then_kept_only_in_the_keychain() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let url = sandbox.api_base();
    let home = KeyringHome::new("cli-login");
    let cs = shell_quote(&workspace_binary("countersign").display().to_string());
    let data = home.root.join("data").display().to_string();
    let script = format!(
        "echo not-a-token | {cs} login --api-url {url} --token-stdin && exit 90 || echo refused-token
         {cs} queue --api-url {url} && exit 91 || echo no-token-yet
         echo {token} | {cs} login --api-url {url} --token-stdin
         {cs} queue --api-url {url} --watch acme-medical/infusion-pump-firmware > {data}/queue.json
         grep -rl {token} {data} && exit 92 || echo token-not-in-plain-files",
        token = countersign_forge_sandbox::SANDBOX_TOKEN,
    );
    let (out, home) = tokio::task::spawn_blocking(move || {
        home.command(&script)
            .stdin(Stdio::null())
            .output()
            .map(|o| (o, home))
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for needle in [
        "refused-token",
        "no-token-yet",
        "Signed in to",
        "token-not-in-plain-files",
    ] {
        assert!(stdout.contains(needle), "{needle}:\n{stdout}\n{stderr}");
    }
    assert!(stderr.contains("forge.unauthorized"), "{stderr}");
    assert!(stderr.contains("forge.not_signed_in"), "{stderr}");
    let queue: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.root.join("data/queue.json")).unwrap()).unwrap();
    assert_eq!(queue["items"].as_array().unwrap().len(), 4);
}

/// The headless approve-and-push flow, then the gate as CI runs it: closed
/// before the approval, open after it, and still closed for a change whose
/// policy needs a second role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_opens_only_when_the_policy_is_satisfied() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let url = sandbox.api_base();
    let home = KeyringHome::new("cli-gate");
    let cs = shell_quote(&workspace_binary("countersign").display().to_string());
    let script = format!(
        "set -e
         R=acme-medical/infusion-pump-firmware
         echo {pw} | {cs} enrol --sandbox-url {url} --name 'Bob Okafor' --password-stdin --accept-acknowledgement --out /dev/null
         {cs} verify --forge sandbox --api-url {url} --repo $R --pr 43 && exit 91 || echo gate-closed-before
         echo {pw} | {cs} sign --sandbox-url {url} --repo $R --pr 43 \
             --meaning approval --reason 'Alarm text verified in UT-9' --role qa --password-stdin
         {cs} push --sandbox-url {url}
         {cs} verify --forge sandbox --api-url {url} --repo $R --pr 43
         echo {pw} | {cs} sign --sandbox-url {url} --repo $R --pr 42 \
             --meaning approval --reason 'Verified RA-042' --role qa --password-stdin
         {cs} push --sandbox-url {url}
         {cs} verify --forge sandbox --api-url {url} --repo $R --pr 42 && exit 92 || echo gate-closed-42",
        pw = shell_quote(PASSWORD),
    );
    let (out, _home) = tokio::task::spawn_blocking(move || {
        home.command(&script)
            .stdin(Stdio::null())
            .output()
            .map(|o| (o, home))
    })
    .await
    .unwrap()
    .expect("dbus-run-session and gnome-keyring-daemon");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("gate-closed-before"), "{stdout}");
    assert!(
        stdout.contains("Status: Approved 1/1 (user-facing text): Bob Okafor"),
        "{stdout}"
    );
    assert!(
        stdout.contains("APPROVED: the policy is satisfied."),
        "{stdout}"
    );
    assert!(
        stdout.contains("Status: 1/2 — waiting for Clinical Safety"),
        "{stdout}"
    );
    assert!(stdout.contains("gate-closed-42"), "{stdout}");
    let store = sandbox.store();
    let st = store.read().unwrap();
    let repo = &st.repos[0];
    let head = &repo.pull(43).unwrap().head_sha;
    let latest = repo
        .statuses
        .iter()
        .rev()
        .find(|(sha, s)| sha == head && s.context == "countersign/approval")
        .unwrap();
    assert_eq!(latest.1.state, "success");
}

/// The headless flow against the sandbox at `url` (a forge's shape): a token
/// checked with `login --forge <forge>` and kept in the keychain, signing and
/// pushing (records on the `countersign/pr-43` branch, the comment, the
/// status), and the gate with `verify --forge <forge>`, closed before the
/// approval and open after it.
async fn gate_opens_only_when_satisfied_on(sandbox: &RunningSandbox, url: &str, forge: &str) {
    let home = KeyringHome::new(&format!("cli-{forge}"));
    let cs = shell_quote(&workspace_binary("countersign").display().to_string());
    let script = format!(
        "set -e
         R=acme-medical/infusion-pump-firmware
         echo {token} | {cs} login --forge {forge} --api-url {url} --token-stdin
         echo {pw} | {cs} enrol --sandbox-url {url} --name 'Bob Okafor' --password-stdin --accept-acknowledgement --out /dev/null
         {cs} verify --forge {forge} --api-url {url} --repo $R --pr 43 && exit 91 || echo gate-closed-before
         echo {pw} | {cs} sign --sandbox-url {url} --repo $R --pr 43 \
             --meaning approval --reason 'Alarm text verified in UT-9' --role qa --password-stdin
         {cs} push --sandbox-url {url}
         {cs} verify --forge {forge} --api-url {url} --repo $R --pr 43",
        pw = shell_quote(PASSWORD),
        token = countersign_forge_sandbox::SANDBOX_TOKEN,
    );
    let (out, _home) = tokio::task::spawn_blocking(move || {
        home.command(&script)
            .stdin(Stdio::null())
            .output()
            .map(|o| (o, home))
    })
    .await
    .unwrap()
    .expect("dbus-run-session and gnome-keyring-daemon");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Signed in to"), "{stdout}");
    assert!(stdout.contains("gate-closed-before"), "{stdout}");
    assert!(
        stdout.contains("APPROVED: the policy is satisfied."),
        "{stdout}"
    );
    let store = sandbox.store();
    let st = store.read().unwrap();
    assert!(
        st.repos[0]
            .git
            .refs
            .contains_key("refs/heads/countersign/pr-43"),
        "the records live on a branch on {forge}"
    );
    assert!(st.repos[0]
        .statuses
        .iter()
        .any(|(_, s)| s.context == "countersign/approval" && s.state == "success"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_on_gitea_opens_only_when_the_policy_is_satisfied() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let url = sandbox.api_base_as(countersign_forge_sandbox::Shape::Gitea);
    gate_opens_only_when_satisfied_on(&sandbox, &url, "gitea").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_on_gitlab_opens_only_when_the_policy_is_satisfied() {
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.unwrap();
    let url = sandbox.gitlab_api_base();
    gate_opens_only_when_satisfied_on(&sandbox, &url, "gitlab").await;
}
