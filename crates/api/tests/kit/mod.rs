//! The signing test kit shared by the use-case tests: a sandbox forge, one
//! device per person (their own keychain and ledger), and the steps of the
//! ceremony: become a person, preview and sign, push, read the status and the
//! records ref, and run the gate as CI would.
//!
//! Use it with `mod kit;` in a test file under `crates/api/tests/`.

// Each test binary uses a different part of the kit.
#![allow(dead_code)]

use std::sync::Arc;

use countersign_api::contract::{
    ChangeRequestRef, EnrolRequest, Meaning, Review, SeenContent, SignRequest, SignatureDraft,
    Standing,
};
use countersign_api::signatures::KeychainSource;
use countersign_api::{ForgeTarget, LocalStores, Session};
use countersign_forge_sandbox::{RunningSandbox, Shape};
use countersign_keychain::MemoryStore;
use countersign_secret::Secret;
use url::Url;

pub const REPO: &str = "acme-medical/infusion-pump-firmware";
pub const PASSWORD: &str = "correct horse battery staple";

/// One person's device: their own keychain and ledger. The sandbox serves
/// whoever is its current viewer, so each step first becomes that person.
pub struct Device {
    pub login: &'static str,
    pub session: Session,
}

pub async fn device(sandbox: &RunningSandbox, login: &'static str, printed_name: &str) -> Device {
    device_as(sandbox, On::GitHub, login, printed_name).await
}

/// Which forge's shape a test speaks to the sandbox in.
pub use countersign_forge_sandbox::ForgeShape as On;

/// The sandbox's REST root in the shape `on`.
pub fn api_base_as(sandbox: &RunningSandbox, on: On) -> Url {
    Url::parse(&sandbox.api_base_for(on)).unwrap()
}

/// [`device`], speaking to the sandbox in the shape `on`.
pub async fn device_as(
    sandbox: &RunningSandbox,
    on: On,
    login: &'static str,
    printed_name: &str,
) -> Device {
    become_(sandbox, login);
    let dir = std::env::temp_dir().join(format!(
        "countersign-gate-{login}-{}-{}",
        std::process::id(),
        sandbox.addr().port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let local = LocalStores {
        keychain: KeychainSource::Given(Arc::new(MemoryStore::default())),
        ledger: dir.join("ledger.sqlite"),
        http_cache_on_disk: false,
    };
    let api_base = api_base_as(sandbox, on);
    let session = Session::start_with(ForgeTarget::Sandbox { api_base }, local)
        .await
        .unwrap();
    session
        .enrol(EnrolRequest {
            printed_name: printed_name.into(),
            password: Secret::from(PASSWORD),
            acknowledged: true,
        })
        .await
        .unwrap();
    Device { login, session }
}

pub fn become_(sandbox: &RunningSandbox, login: &str) {
    sandbox.store().write().unwrap().viewer = login.to_owned();
}

/// Change the sandbox's pull request `number` as a forge user could.
pub fn edit_pull(
    sandbox: &RunningSandbox,
    number: u64,
    edit: impl FnOnce(&mut countersign_forge_sandbox::PullRequest),
) {
    edit_repo(sandbox, |repo| {
        let pr = repo.pulls.iter_mut().find(|p| p.number == number).unwrap();
        edit(pr);
    });
}

/// Change the sandbox's repository (its pull requests, runs, files, refs).
pub fn edit_repo(
    sandbox: &RunningSandbox,
    edit: impl FnOnce(&mut countersign_forge_sandbox::Repo),
) {
    let store = sandbox.store();
    let mut st = store.write().unwrap();
    edit(&mut st.repos[0]);
}

pub fn cr(number: u32) -> ChangeRequestRef {
    ChangeRequestRef {
        repo: REPO.into(),
        number,
    }
}

/// A signature of #`number` in `role` with `meaning`, by password.
pub fn draft(number: u32, role: &str, meaning: Meaning) -> SignatureDraft {
    SignatureDraft {
        change_request: cr(number),
        meaning,
        reason: "Reviewed the diff, RA and test evidence".into(),
        role: role.into(),
        use_security_key: false,
        security_key_id: None,
        withdraws: None,
    }
}

/// A withdrawal of the record `record` (its statement digest) of #`number`.
pub fn withdrawal(number: u32, role: &str, record: &str) -> SignatureDraft {
    SignatureDraft {
        withdraws: Some(record.into()),
        reason: "Signed in error: the wrong build's evidence".into(),
        ..draft(number, role, Meaning::Withdrawal)
    }
}

impl Device {
    pub async fn sign(&self, sandbox: &RunningSandbox, number: u32, role: &str, meaning: Meaning) {
        self.sign_draft(sandbox, draft(number, role, meaning)).await;
    }

    /// Take back this person's record `record` (its statement digest) of #`number`.
    pub async fn withdraw(&self, sandbox: &RunningSandbox, number: u32, role: &str, record: &str) {
        self.sign_draft(sandbox, withdrawal(number, role, record))
            .await;
    }

    pub async fn sign_draft(&self, sandbox: &RunningSandbox, draft: SignatureDraft) {
        become_(sandbox, self.login);
        self.sign_only(draft, PASSWORD, None).await.unwrap();
        let pushed = self.session.push_outbox().await.unwrap();
        assert_eq!(pushed.failed, 0, "{:?}", pushed.errors);
    }
}

impl Device {
    /// Preview `draft` and sign it with `password` (and the security key's
    /// `pin`), without pushing: as whoever the sandbox serves now.
    pub async fn sign_only(
        &self,
        draft: SignatureDraft,
        password: &str,
        pin: Option<&str>,
    ) -> Result<(), countersign_api::ApiError> {
        let preview = self.session.preview_signature(draft.clone()).await?;
        self.session
            .sign_change_request(SignRequest {
                snapshot_id: preview.snapshot_id,
                draft,
                seen: SeenContent {
                    head_sha: preview.head_sha,
                    diff_sha256: preview.diff_sha256,
                },
                password: Secret::from(password),
                security_key_pin: pin.map(Secret::from),
            })
            .await
            .map(|_| ())
    }

    /// The error this device's preview of `draft` is refused with.
    pub async fn preview_refused(
        &self,
        sandbox: &RunningSandbox,
        draft: SignatureDraft,
    ) -> countersign_api::ApiError {
        become_(sandbox, self.login);
        self.session
            .preview_signature(draft)
            .await
            .expect_err("the preview should be refused")
    }

    /// Make a record the app would refuse to make (the gate's checks run
    /// before signing): the base policy is edited by `lenient` while this
    /// device signs, then restored — the record a modified app could make,
    /// for tests of what the gate does with it.
    pub async fn sign_past_the_checks(
        &self,
        sandbox: &RunningSandbox,
        number: u32,
        role: &str,
        meaning: Meaning,
        lenient: impl FnOnce(&str) -> String,
    ) {
        let mut strict = String::new();
        edit_repo(sandbox, |repo| {
            countersign_forge_sandbox::edit_policy(repo, |text| {
                strict = text.to_owned();
                let edited = lenient(text);
                assert_ne!(edited, text, "the edit changes the policy");
                edited
            });
        });
        self.sign(sandbox, number, role, meaning).await;
        edit_repo(sandbox, |repo| {
            countersign_forge_sandbox::edit_policy(repo, |_| strict);
        });
    }
}

/// The latest `countersign/approval` status of a pull request's head.
pub fn status_of(sandbox: &RunningSandbox, number: u64) -> (String, String) {
    let store = sandbox.store();
    let st = store.read().unwrap();
    let repo = &st.repos[0];
    let head = &repo.pull(number).unwrap().head_sha;
    let s = repo
        .statuses
        .iter()
        .rev()
        .find(|(sha, s)| sha == head && s.context == "countersign/approval")
        .map(|(_, s)| s.clone())
        .expect("a countersign/approval status");
    assert!(s.description.chars().count() <= 140, "{}", s.description);
    (s.state, s.description)
}

pub async fn gate(sandbox: &RunningSandbox, number: u32) -> countersign_api::GateReport {
    gate_as(sandbox, On::GitHub, number).await
}

/// [`gate`], reading the sandbox in the shape `on`.
pub async fn gate_as(sandbox: &RunningSandbox, on: On, number: u32) -> countersign_api::GateReport {
    // The gate runs anywhere with a read token: a fresh session, no enrolment.
    let api_base = api_base_as(sandbox, on);
    let dir = std::env::temp_dir().join(format!("countersign-gate-ci-{}", std::process::id()));
    let local = LocalStores {
        keychain: KeychainSource::Given(Arc::new(MemoryStore::default())),
        ledger: dir.join("ledger.sqlite"),
        http_cache_on_disk: false,
    };
    let s = Session::start_with(ForgeTarget::Sandbox { api_base }, local)
        .await
        .unwrap();
    s.gate(cr(number)).await.unwrap()
}

/// The statements in `refs/countersign/pr-<n>`, read from the sandbox's objects.
pub fn statements_in_ref(sandbox: &RunningSandbox, number: u64) -> Vec<serde_json::Value> {
    use countersign_forge_sandbox::GitObject;
    let store = sandbox.store();
    let st = store.read().unwrap();
    let git = &st.repos[0].git;
    let commit = &git.refs[&format!("refs/countersign/pr-{number}")];
    let Some(GitObject::Commit { tree, .. }) = git.objects.get(commit) else {
        panic!("the ref names no commit")
    };
    let Some(GitObject::Tree(entries)) = git.objects.get(tree) else {
        panic!("no tree")
    };
    let blob = &entries.iter().find(|e| e.0 == "records.json").unwrap().3;
    let Some(GitObject::Blob(bytes)) = git.objects.get(blob) else {
        panic!("no blob")
    };
    let bundle: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    bundle["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            use base64::Engine;
            let payload = base64::engine::general_purpose::STANDARD
                .decode(e["payload"].as_str().unwrap())
                .unwrap();
            serde_json::from_slice(&payload).unwrap()
        })
        .collect()
}

pub fn standing(review: &Review) -> Vec<(String, Standing)> {
    review
        .signatures
        .iter()
        .map(|s| (s.printed_name.clone(), s.standing))
        .collect()
}

/// The meaning of each envelope in `bundle` (a parsed records bundle).
fn meaning_of(envelope: &serde_json::Value) -> String {
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
    statement["predicate"]["meaning"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `bundle` without the envelopes whose meaning is `dropped`.
fn without(bundle: &[u8], dropped: &str) -> Vec<u8> {
    let mut bundle: serde_json::Value = serde_json::from_slice(bundle).unwrap();
    let kept: Vec<serde_json::Value> = bundle["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| meaning_of(e) != dropped)
        .cloned()
        .collect();
    bundle["envelopes"] = serde_json::Value::Array(kept);
    serde_json::to_vec_pretty(&bundle).unwrap()
}

/// What anyone with push access can do to `refs/countersign/pr-<n>`: commit a
/// `records.json` without the records of meaning `dropped`, either on top of
/// the tip (`force = false`, history kept) or as a new root commit that
/// replaces the ref's history (`force = true`).
pub fn rewrite_records_ref(sandbox: &RunningSandbox, number: u64, dropped: &str, force: bool) {
    use countersign_forge_sandbox::GitObject;
    use sha2::Digest;
    let id = |bytes: &[u8]| hex::encode(sha2::Sha256::digest(bytes))[..40].to_owned();
    let store = sandbox.store();
    let mut st = store.write().unwrap();
    let git = &mut st.repos[0].git;
    let name = format!("refs/countersign/pr-{number}");
    let tip = git.refs[&name].clone();
    let Some(GitObject::Commit { tree, .. }) = git.objects.get(&tip) else {
        panic!("the ref names no commit")
    };
    let Some(GitObject::Tree(entries)) = git.objects.get(tree) else {
        panic!("no tree")
    };
    let blob_id = entries
        .iter()
        .find(|e| e.0 == "records.json")
        .unwrap()
        .3
        .clone();
    let Some(GitObject::Blob(bytes)) = git.objects.get(&blob_id) else {
        panic!("no blob")
    };
    let edited = without(bytes, dropped);
    let blob = id(&edited);
    git.objects.insert(blob.clone(), GitObject::Blob(edited));
    let tree = id(format!("tree {blob}").as_bytes());
    git.objects.insert(
        tree.clone(),
        GitObject::Tree(vec![(
            "records.json".into(),
            "100644".into(),
            "blob".into(),
            blob,
        )]),
    );
    let parents = if force { Vec::new() } else { vec![tip.clone()] };
    let commit = id(format!("commit {tree} {parents:?}").as_bytes());
    git.objects.insert(
        commit.clone(),
        GitObject::Commit {
            tree,
            parents,
            message: "tidy records".into(),
            date: chrono::Utc::now(),
        },
    );
    git.refs.insert(name, commit);
}

/// What anyone with write access can do to the records comment: edit out
/// the records of meaning `dropped` (GitHub lets maintainers edit any comment).
pub fn edit_records_comment(sandbox: &RunningSandbox, number: u64, dropped: &str) {
    edit_repo(sandbox, |repo| {
        let comment = repo
            .comments
            .iter_mut()
            .find(|c| c.issue == number && c.body.contains(countersign_api::push::COMMENT_MARKER))
            .expect("a records comment");
        let start = comment.body.find("```json\n").unwrap() + "```json\n".len();
        let end = start + comment.body[start..].find("\n```").unwrap();
        let edited =
            String::from_utf8(without(&comment.body.as_bytes()[start..end], dropped)).unwrap();
        comment.body.replace_range(start..end, &edited);
    });
}

/// The new content of `path` in pull request #`number`.
pub fn pr_file(sandbox: &RunningSandbox, number: u32, path: &str) -> String {
    let store = sandbox.store();
    let st = store.read().unwrap();
    st.repos[0]
        .pull(u64::from(number))
        .unwrap()
        .files
        .iter()
        .find(|f| f.path == path)
        .and_then(|f| f.new.clone())
        .unwrap_or_else(|| panic!("{path} not in #{number}"))
}

/// What anyone with push access to the records branch can do on Gitea or
/// Forgejo: write, through the contents API, a `records.json` without the
/// records of meaning `dropped` on top of the branch (its history stays).
pub async fn rewrite_records_branch(
    sandbox: &RunningSandbox,
    shape: Shape,
    number: u64,
    dropped: &str,
) {
    use countersign_forge::gitea::{Flavor, GiteaConfig, GiteaForge};
    use countersign_forge::Forge;
    let flavor = match shape {
        Shape::Gitea => Flavor::Gitea,
        Shape::Forgejo => Flavor::Forgejo,
    };
    let on = match shape {
        Shape::Gitea => On::Gitea,
        Shape::Forgejo => On::Forgejo,
    };
    let mut config = GiteaConfig::new(api_base_as(sandbox, on), flavor);
    config.token = Some(countersign_forge_sandbox::SANDBOX_TOKEN.into());
    let forge = GiteaForge::new(config).unwrap();
    let repo: countersign_forge::RepoId = REPO.parse().unwrap();
    let branch = format!("countersign/pr-{number}");
    let (_, bytes) = forge
        .read_ref_file(&repo, &branch, "records.json")
        .await
        .unwrap()
        .expect("a records branch");
    forge
        .write_ref_file(
            &repo,
            &branch,
            "records.json",
            &without(&bytes, dropped),
            "tidy records",
        )
        .await
        .unwrap();
}

/// The same on GitLab: a commit through the commits API on the records
/// branch, naming the file's last commit as any client would.
pub async fn rewrite_records_branch_on_gitlab(
    sandbox: &RunningSandbox,
    number: u64,
    dropped: &str,
) {
    use countersign_forge::gitlab::{GitLabConfig, GitLabForge};
    use countersign_forge::Forge;
    let mut config = GitLabConfig::new(api_base_as(sandbox, On::GitLab));
    config.token = Some(countersign_forge_sandbox::SANDBOX_TOKEN.into());
    let forge = GitLabForge::new(config).unwrap();
    let repo: countersign_forge::RepoId = REPO.parse().unwrap();
    let branch = format!("countersign/pr-{number}");
    let (_, bytes) = forge
        .read_ref_file(&repo, &branch, "records.json")
        .await
        .unwrap()
        .expect("a records branch");
    forge
        .write_ref_file(
            &repo,
            &branch,
            "records.json",
            &without(&bytes, dropped),
            "tidy records",
        )
        .await
        .unwrap();
}
