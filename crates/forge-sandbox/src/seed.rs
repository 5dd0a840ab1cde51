//! The demo repository: an infusion-pump firmware team with changes of
//! different risk, so that a new user can try every flow without an account.

use chrono::{DateTime, Duration, TimeZone, Utc};

use std::collections::BTreeMap;
use std::io::Write;

use crate::store::{
    object_id, Artifact, CheckRun, Commit, FileChange, GitObject, GitStore, PullRequest, Repo,
    RosterKey, Store, User, WorkflowRun,
};

const RATE_RS_BEFORE: &str = r#"//! Infusion rate calculation (IEC 62304 class C).

use crate::syringe::Syringe;

/// Millilitres per hour for a dose spread over `minutes`.
pub fn rate_ml_per_h(dose_ml: f64, minutes: u32) -> f64 {
    dose_ml * 60.0 / minutes as f64
}

/// Recalculate the plunger speed after the syringe was changed.
pub fn plunger_speed_mm_per_h(rate_ml_h: f64, syringe: &Syringe) -> f64 {
    rate_ml_h / syringe.ml_per_mm()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hour_dose() {
        assert_eq!(rate_ml_per_h(10.0, 60), 10.0);
    }
}
"#;

const RATE_RS_AFTER: &str = r#"//! Infusion rate calculation (IEC 62304 class C).

use crate::syringe::Syringe;

/// Upper bound enforced by the hardware interlock (RA-042, control C2).
pub const MAX_RATE_ML_H: f64 = 1200.0;

/// Millilitres per hour for a dose spread over `minutes`.
///
/// Returns `None` for a zero duration instead of dividing by zero (RA-042, H1).
pub fn rate_ml_per_h(dose_ml: f64, minutes: u32) -> Option<f64> {
    if minutes == 0 || !dose_ml.is_finite() || dose_ml < 0.0 {
        return None;
    }
    Some((dose_ml * 60.0 / minutes as f64).min(MAX_RATE_ML_H))
}

/// Recalculate the plunger speed after the syringe was changed.
///
/// The rate is clamped again because a smaller syringe raises the speed.
pub fn plunger_speed_mm_per_h(rate_ml_h: f64, syringe: &Syringe) -> f64 {
    rate_ml_h.clamp(0.0, MAX_RATE_ML_H) / syringe.ml_per_mm()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hour_dose() {
        assert_eq!(rate_ml_per_h(10.0, 60), Some(10.0));
    }

    #[test]
    fn zero_minutes_is_rejected() {
        assert_eq!(rate_ml_per_h(10.0, 0), None);
    }

    #[test]
    fn rate_is_clamped() {
        assert_eq!(rate_ml_per_h(1000.0, 1), Some(MAX_RATE_ML_H));
    }
}
"#;

const SCHEDULER_BEFORE: &str = r#"use crate::dosing::rate::rate_ml_per_h;

pub fn schedule(dose_ml: f64, minutes: u32) -> Step {
    let rate = rate_ml_per_h(dose_ml, minutes);
    Step::Run { rate }
}
"#;

const SCHEDULER_AFTER: &str = r#"use crate::dosing::rate::rate_ml_per_h;

pub fn schedule(dose_ml: f64, minutes: u32) -> Step {
    match rate_ml_per_h(dose_ml, minutes) {
        Some(rate) => Step::Run { rate },
        // Refusing to start is the safe state (RA-042, control C1).
        None => Step::Alarm(Alarm::InvalidProgram),
    }
}
"#;

const RA_042: &str = r#"# RA-042: rate recalculation after syringe change

| Field | Value |
|---|---|
| Hazard | Over-infusion |
| Hazardous situation | Rate recalculated with a zero duration or a smaller syringe |
| Harm | Overdose of a high-alert medication |
| Severity | Critical |
| Probability before | Occasional |
| Controls | C1 refuse zero duration; C2 clamp to interlock maximum |
| Probability after | Improbable |
| Verification | Unit tests dosing::rate, HIL test HIL-17 |
"#;

const STRINGS_EN_BEFORE: &str = r#"{
  "alarm.occlusion.title": "Occlusion",
  "alarm.occlusion.body": "Line blocked. Check line.",
  "alarm.battery.low": "Battery low"
}
"#;

const STRINGS_EN_AFTER: &str = r#"{
  "alarm.occlusion.title": "Downstream occlusion",
  "alarm.occlusion.body": "Infusion stopped: the line is blocked below the pump. Clear the line, then press Resume.",
  "alarm.battery.low": "Battery low"
}
"#;

const STRINGS_DE_BEFORE: &str = r#"{
  "alarm.occlusion.title": "Okklusion",
  "alarm.occlusion.body": "Leitung blockiert. Leitung prüfen.",
  "alarm.battery.low": "Akku schwach"
}
"#;

const STRINGS_DE_AFTER: &str = r#"{
  "alarm.occlusion.title": "Okklusion nach der Pumpe",
  "alarm.occlusion.body": "Infusion gestoppt: Die Leitung ist unterhalb der Pumpe blockiert. Leitung freimachen, dann Fortsetzen drücken.",
  "alarm.battery.low": "Akku schwach"
}
"#;

const CHECKLIST: &str = r#"# Release checklist

1. All change requests in the release carry a QA approval record.
2. `countersign verify` passes for every merged change request.
3. The validation pack (traceability matrix, test results) is attached.
4. The DHF index is updated with the release record.
"#;

const README_BEFORE: &str = "# Infusion pump firmware\n\nBuild with `cargo build --release`.\n";
const README_AFTER: &str =
    "# Infusion pump firmware\n\nBuild with `cargo build --release`.\nFlash with `probe-rs run`.\n";

fn hours_ago(now: DateTime<Utc>, h: i64) -> DateTime<Utc> {
    now - Duration::hours(h)
}

/// `GET /pulls/{n}/files` stops here on GitHub, whatever the pull request holds.
pub const GITHUB_FILES_LIST_CAP: usize = 3000;
/// `GET /pulls/{n}/commits` stops here on GitHub.
pub const GITHUB_COMMITS_LIST_CAP: usize = 250;

fn file(path: &str, old: Option<&str>, new: Option<&str>) -> FileChange {
    FileChange {
        path: path.to_owned(),
        previous_path: None,
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
    }
}

struct PullSpec<'a> {
    number: u64,
    title: &'a str,
    body: &'a str,
    author: &'a str,
    labels: &'a [&'a str],
    head_ref: &'a str,
    age_hours: i64,
    files: Vec<FileChange>,
    commit_messages: &'a [&'a str],
    checks: &'a [(&'a str, &'a str)],
}

fn pull(spec: PullSpec<'_>, base_sha: &str, now: DateTime<Utc>) -> PullRequest {
    let created_at = hours_ago(now, spec.age_hours);
    let mut parent = base_sha.to_owned();
    let commits: Vec<Commit> = spec
        .commit_messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let sha = object_id(&[&parent, message, spec.head_ref]);
            parent = sha.clone();
            Commit {
                sha,
                message: (*message).to_owned(),
                author: spec.author.to_owned(),
                date: created_at + Duration::minutes(10 * i as i64),
                author_email: None,
                committer: None,
                committer_email: None,
            }
        })
        .collect();
    let head_sha = commits
        .last()
        .map(|c| c.sha.clone())
        .unwrap_or_else(|| base_sha.to_owned());
    let updated_at = commits.last().map(|c| c.date).unwrap_or(created_at);
    let check_runs = spec
        .checks
        .iter()
        .enumerate()
        .map(|(i, (name, conclusion))| CheckRun {
            id: spec.number * 1000 + i as u64,
            name: (*name).to_owned(),
            app: Some("github-actions".to_owned()),
            conclusion: (*conclusion).to_owned(),
            started_at: updated_at + Duration::minutes(1),
            completed_at: updated_at + Duration::minutes(6),
        })
        .collect();
    PullRequest {
        number: spec.number,
        id: 900_000 + spec.number,
        title: spec.title.to_owned(),
        body: spec.body.to_owned(),
        author: spec.author.to_owned(),
        labels: spec.labels.iter().map(|l| (*l).to_owned()).collect(),
        draft: false,
        base_ref: "main".to_owned(),
        base_sha: base_sha.to_owned(),
        head_ref: spec.head_ref.to_owned(),
        head_sha,
        created_at,
        updated_at,
        files: spec.files,
        commits,
        check_runs,
        reviews: Vec::new(),
    }
}

pub fn demo(base_url: String) -> Store {
    // Fixed to the hour so that ages read naturally yet bodies (and ETags) stay stable.
    let now = Utc
        .timestamp_opt(Utc::now().timestamp() / 3600 * 3600, 0)
        .single()
        .expect("valid timestamp");
    let users = [
        (5001, "alice-dev", "Alice Martin"),
        (5002, "bob-qa", "Bob Okafor"),
        (5003, "carol-clinical", "Dr. Carol Weiss"),
        (5004, "dan-release", "Dan Ito"),
        (5099, "outside-contributor", "Mallory <b>Example</b>"),
    ]
    .into_iter()
    .map(|(id, login, name)| User {
        id,
        login: login.into(),
        name: name.into(),
    })
    .collect();
    let base_sha = object_id(&["acme-medical/infusion-pump-firmware", "main"]);

    let pulls = vec![
        pull(
            PullSpec {
                number: 42,
                title: "Clamp infusion rate when the syringe size changes",
                body: "Fixes a division by zero and an unclamped rate after a syringe change.\n\n\
                       ```countersign-risk\n\
                       hazard = \"Over-infusion\"\n\
                       hazardous_situation = \"Rate recalculated with a zero duration or a smaller syringe\"\n\
                       harm = \"Overdose of a high-alert medication\"\n\
                       severity = \"critical\"\n\
                       probability_before = \"occasional\"\n\
                       probability_after = \"improbable\"\n\
                       risk_controls = [\"C1 refuse zero duration\", \"C2 clamp to interlock maximum\"]\n\
                       verification = [\"unit tests dosing::rate\", \"HIL-17\"]\n\
                       ```\n",
                author: "alice-dev",
                labels: &["risk:high", "safety-critical", "dosing"],
                head_ref: "fix/rate-clamp",
                age_hours: 26,
                files: vec![
                    file("firmware/src/dosing/rate.rs", Some(RATE_RS_BEFORE), Some(RATE_RS_AFTER)),
                    file(
                        "firmware/src/dosing/scheduler.rs",
                        Some(SCHEDULER_BEFORE),
                        Some(SCHEDULER_AFTER),
                    ),
                    file("docs/risk/RA-042.md", None, Some(RA_042)),
                ],
                commit_messages: &[
                    "dosing: refuse a zero infusion duration",
                    "dosing: clamp the recalculated rate to the interlock maximum",
                ],
                checks: &[("build", "success"), ("unit-tests", "success"), ("hil-17", "success")],
            },
            &base_sha,
            now,
        ),
        pull(
            PullSpec {
                number: 43,
                title: "Reword the occlusion alarm so nurses know what to do",
                body: "Usability finding UF-12: nurses did not know which side of the pump was blocked.\n\n\
                       ```countersign-risk\n\
                       hazard = \"Delayed therapy\"\n\
                       hazardous_situation = \"Alarm text does not say how to resolve the occlusion\"\n\
                       harm = \"Interrupted infusion\"\n\
                       severity = \"serious\"\n\
                       probability_before = \"remote\"\n\
                       probability_after = \"improbable\"\n\
                       risk_controls = [\"Actionable alarm text\"]\n\
                       verification = [\"Formative usability test UT-9\"]\n\
                       ```\n",
                author: "alice-dev",
                labels: &["risk:medium", "ui"],
                head_ref: "ux/occlusion-text",
                age_hours: 5,
                files: vec![
                    file("ui/strings/en.json", Some(STRINGS_EN_BEFORE), Some(STRINGS_EN_AFTER)),
                    file("ui/strings/de.json", Some(STRINGS_DE_BEFORE), Some(STRINGS_DE_AFTER)),
                ],
                commit_messages: &["ui: actionable occlusion alarm text (UF-12)"],
                checks: &[("build", "success"), ("unit-tests", "success")],
            },
            &base_sha,
            now,
        ),
        pull(
            PullSpec {
                number: 44,
                title: "Document the release checklist",
                body: "Adds the checklist QA walks through before a release.",
                author: "dan-release",
                labels: &["risk:low", "docs"],
                head_ref: "docs/release-checklist",
                age_hours: 50,
                files: vec![file("docs/release-checklist.md", None, Some(CHECKLIST))],
                commit_messages: &["docs: release checklist"],
                checks: &[("build", "success")],
            },
            &base_sha,
            now,
        ),
        pull(
            PullSpec {
                number: 45,
                // Forge text is attacker-controlled: this one exists to prove it is shown, never run.
                title: "Update README <img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>",
                body: "<script>document.title='pwned'</script>\n[click](javascript:document.title='pwned')",
                author: "outside-contributor",
                labels: &["risk:low", "needs-triage"],
                head_ref: "patch-1",
                age_hours: 1,
                files: vec![file("README.md", Some(README_BEFORE), Some(README_AFTER))],
                commit_messages: &["Update README.md"],
                checks: &[("build", "failure")],
            },
            &base_sha,
            now,
        ),
    ];

    let repo = Repo {
        id: 700_001,
        owner: "acme-medical".into(),
        name: "infusion-pump-firmware".into(),
        description: "Firmware of the AP-3 infusion pump (IEC 62304 class C)".into(),
        default_branch: "main".into(),
        created_at: hours_ago(now, 24 * 400),
        pulls,
        statuses: Vec::new(),
        comments: Vec::new(),
        base_files: BTreeMap::new(),
        tip_files: None,
        git: GitStore::default(),
        workflow_runs: Vec::new(),
        roster_keys: Vec::new(),
    };
    let mut repo = repo;
    if let Some(pr) = repo.pulls.iter_mut().find(|p| p.number == 42) {
        pr.reviews.push((
            "dan-release".into(),
            "COMMENTED".into(),
            "Please attach the HIL-17 log to the release record.".into(),
        ));
    }
    repo.base_files.insert(
        "firmware/src/dosing/rate.rs".into(),
        RATE_RS_BEFORE.as_bytes().to_vec(),
    );
    repo.base_files.insert(
        "firmware/src/dosing/scheduler.rs".into(),
        SCHEDULER_BEFORE.as_bytes().to_vec(),
    );
    repo.base_files
        .insert("README.md".into(), README_BEFORE.as_bytes().to_vec());
    repo.base_files
        .insert(CI_WORKFLOW.into(), CI_YML.as_bytes().to_vec());
    refresh_policy(&mut repo);
    repo.workflow_runs = repo.pulls.iter().map(ci_run).collect();
    Store {
        base_url,
        viewer: "bob-qa".into(),
        users,
        repos: vec![repo],
        faults: Vec::new(),
        latency: std::time::Duration::ZERO,
        clock_offset: chrono::Duration::zero(),
        diff_limit_files: None,
        device_codes: Vec::new(),
        patch_limit_bytes: None,
        files_list_cap: GITHUB_FILES_LIST_CAP,
        commits_list_cap: GITHUB_COMMITS_LIST_CAP,
        // The demo keeps its CI where the policy names it, which the
        // setting allows.
        gitlab_ci_config_path: CI_WORKFLOW.to_owned(),
        requests: 0,
        not_modified: 0,
        served: Vec::new(),
    }
}

/// The work address a team member commits under (unlinked on the forge):
/// `alice.martin@acme-medical.example` for Alice Martin.
pub(crate) fn work_address(name: &str) -> String {
    let first = name
        .trim_start_matches("Dr. ")
        .split(' ')
        .collect::<Vec<_>>()
        .join(".");
    format!("{}@acme-medical.example", first.to_lowercase())
}

/// The sandbox's approval policy at the base commit. Signers' keys come from
/// enrolments posted to `/_sandbox/roster` (on a real forge an administrator
/// adds them through a reviewed change to this file).
pub fn policy_toml(keys: &[RosterKey]) -> String {
    let member = |user_id: u64, login: &str, name: &str| {
        let mut m = format!(
            "[[roles.members]]\nforge = \"127.0.0.1\"\nuser_id = {user_id}\nlogin = \"{login}\"\nprinted_name = \"{name}\"\n"
        );
        m.push_str(&format!("emails = [\"{}\"]\n", work_address(name)));
        for k in keys.iter().filter(|k| k.user_id == user_id) {
            m.push_str(&format!(
                "[[roles.members.keys]]\npublic_key = \"{}\"\nvalid_from = \"{}\"\n",
                k.public_key, k.valid_from
            ));
            if let Some((id, cose)) = k.security_keys.first() {
                m.push_str(&format!(
                    "fido2_credential_id = \"{id}\"\nfido2_public_key = \"{cose}\"\n"
                ));
            }
            if k.security_keys.len() > 1 {
                let backups: Vec<String> = k.security_keys[1..]
                    .iter()
                    .map(|(id, cose)| {
                        format!("{{ credential_id = \"{id}\", public_key = \"{cose}\" }}")
                    })
                    .collect();
                m.push_str(&format!("fido2 = [{}]\n", backups.join(", ")));
            }
        }
        m
    };
    let mut t = String::from(
        "# Sandbox policy: read from main at each pull request's base commit.\nversion = 1\n\n\
         [risk]\ndefault = \"low\"\n\n\
         [[risk.classes]]\nclass = \"high\"\npaths = [\"firmware/src/dosing/**\"]\nlabels = [\"safety-critical\"]\n\n\
         [[risk.classes]]\nclass = \"medium\"\npaths = [\"ui/**\"]\n\n\
         [separation_of_duties]\nauthor_cannot_sign = true\none_role_per_person = true\n\n\
         [gate]\nprotected_branches = [\"main\", \"release/*\"]\n\n\
         [[roles]]\nname = \"qa\"\ndescription = \"QA\"\n",
    );
    t.push_str(&member(5002, "bob-qa", "Bob Okafor"));
    t.push_str(&member(5001, "alice-dev", "Alice Martin"));
    t.push_str("\n[[roles]]\nname = \"clinical-safety\"\ndescription = \"Clinical Safety\"\n");
    t.push_str(&member(5003, "carol-clinical", "Dr. Carol Weiss"));
    t.push_str("\n[[roles]]\nname = \"release\"\ndescription = \"Release manager\"\n");
    t.push_str(&member(5004, "dan-release", "Dan Ito"));
    t.push_str(
        "\n[[rules]]\nname = \"safety-critical dosing code\"\nrisk = [\"high\"]\nneeds_risk_assessment = true\n\
         require = [\n  { role = \"qa\", signatures = 1, meanings = [\"review\", \"approval\"] },\n  { role = \"clinical-safety\", signatures = 1, meanings = [\"responsibility\"] },\n]\n\
         order = [\"qa\", \"clinical-safety\"]\n\n\
         [[rules]]\nname = \"user-facing text\"\nrisk = [\"medium\"]\nneeds_risk_assessment = true\n\
         require = [{ role = \"qa\", signatures = 1, meanings = [\"approval\"] }]\n\n\
         [[rules]]\nname = \"everything else\"\nrisk = [\"low\"]\n\
         require = [{ role = \"qa\", signatures = 1, meanings = [\"approval\"] }]\n\n\
         [evidence]\nchecks = [\"build\"]\njunit = true\nmin_coverage = 80.0\nworkflows = [\".github/workflows/ci.yml\"]\n",
    );
    t
}

/// Where the approval policy lives on the default branch.
pub const POLICY_PATH: &str = ".countersign/policy.toml";

pub fn refresh_policy(repo: &mut Repo) {
    let text = policy_toml(&repo.roster_keys);
    repo.base_files
        .insert(POLICY_PATH.into(), text.into_bytes());
    sync_base_objects(repo);
}

/// Change the policy on the default branch, as a merged pull request would,
/// and bring the branch's Git objects up to date (tests arrange policies so).
pub fn edit_policy(repo: &mut Repo, edit: impl FnOnce(&str) -> String) {
    let text = String::from_utf8(repo.base_files[POLICY_PATH].clone()).expect("a UTF-8 policy");
    let edited = edit(&text);
    repo.base_files
        .insert(POLICY_PATH.into(), edited.into_bytes());
    sync_base_objects(repo);
}

/// The default branch as Git Data API objects: a blob per file, one flat
/// tree (paths with slashes, as GitHub's create-tree accepts them), the base
/// commit, and `refs/heads/<default>` pointing at it.
pub fn sync_base_objects(repo: &mut Repo) {
    let Some(base_sha) = repo.pulls.first().map(|p| p.base_sha.clone()).or_else(|| {
        repo.git
            .refs
            .get(&format!("refs/heads/{}", repo.default_branch))
            .cloned()
    }) else {
        return;
    };
    let mut entries = Vec::new();
    for (path, bytes) in &repo.base_files {
        let sha = object_id(&["blob", &hex::encode(bytes)]);
        repo.git
            .objects
            .insert(sha.clone(), GitObject::Blob(bytes.clone()));
        entries.push((path.clone(), "100644".to_owned(), "blob".to_owned(), sha));
    }
    let tree = object_id(&["tree", &base_sha]);
    repo.git
        .objects
        .insert(tree.clone(), GitObject::Tree(entries));
    repo.git.objects.insert(
        base_sha.clone(),
        GitObject::Commit {
            tree,
            parents: Vec::new(),
            message: "Release 4.2.0".into(),
            date: repo.created_at,
        },
    );
    repo.git
        .refs
        .insert(format!("refs/heads/{}", repo.default_branch), base_sha);
}

/// A zip of `entries` (name, text), as CI uploads an artifact.
pub fn zip_of(entries: &[(&str, String)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("in-memory zip");
        w.write_all(text.as_bytes()).expect("in-memory zip");
    }
    w.finish().expect("in-memory zip").into_inner()
}

/// A CI run for a pull request's head with a `test-reports` artifact: JUnit
/// results and LCOV coverage that agree with its check runs.
/// The workflow whose runs carry the test evidence.
pub const CI_WORKFLOW: &str = ".github/workflows/ci.yml";
const CI_YML: &str = "name: ci\non: pull_request\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: cargo test --workspace -- -Z unstable-options --format junit > junit.xml\n      - uses: actions/upload-artifact@v4\n        with: { name: test-reports, path: junit.xml }\n";

fn ci_run(pr: &PullRequest) -> WorkflowRun {
    let failing = pr.check_runs.iter().any(|c| c.conclusion == "failure");
    let mut cases = String::new();
    for name in [
        "rate_refuses_zero_duration",
        "rate_clamps_to_interlock",
        "scheduler_recalculates",
        "alarm_text_is_actionable",
    ] {
        cases.push_str(&format!(
            "    <testcase classname=\"firmware\" name=\"{name}\" time=\"0.004\"/>\n"
        ));
    }
    if failing {
        cases.push_str("    <testcase classname=\"firmware\" name=\"readme_links_resolve\"><failure message=\"dead link\">README.md:3</failure></testcase>\n");
    }
    let junit = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"firmware\">\n  <testsuite name=\"firmware\">\n{cases}  </testsuite>\n</testsuites>\n"
    );
    // Totals as the demo's policy expects them, and line data for the Rust
    // files the change touches: every fifth code line never ran.
    let mut lcov = "TN:\nSF:firmware/src/dosing/rate.rs\nLF:48\nLH:44\nend_of_record\nSF:firmware/src/dosing/scheduler.rs\nLF:52\nLH:43\nend_of_record\n".to_owned();
    for f in pr.files.iter().filter(|f| f.path.ends_with(".rs")) {
        let Some(new) = &f.new else { continue };
        lcov.push_str(&format!("SF:{}\n", f.path));
        for (i, line) in new.lines().enumerate() {
            let code = line.trim();
            if code.is_empty() || code.starts_with("//") || code == "}" {
                continue;
            }
            let hits = if i % 5 == 3 { 0 } else { 1 + i % 3 };
            lcov.push_str(&format!("DA:{},{hits}\n", i + 1));
        }
        lcov.push_str("end_of_record\n");
    }
    let created_at = pr.updated_at + chrono::Duration::minutes(7);
    WorkflowRun {
        id: 30_000 + pr.number,
        name: "ci".into(),
        path: CI_WORKFLOW.into(),
        status: "completed".into(),
        head_sha: pr.head_sha.clone(),
        head_branch: pr.head_ref.clone(),
        conclusion: if failing { "failure" } else { "success" }.into(),
        created_at,
        artifacts: vec![Artifact {
            id: 40_000 + pr.number,
            name: "test-reports".into(),
            zip: zip_of(&[("junit.xml", junit), ("coverage/lcov.info", lcov)]),
            created_at,
        }],
    }
}

/// Generated pull requests (numbers from 1000), each changing `files` files.
pub fn add_bulk(repo: &mut Repo, pulls: u32, files: u32) {
    let base_sha = repo
        .pulls
        .first()
        .map(|p| p.base_sha.clone())
        .unwrap_or_default();
    let now = repo.created_at + Duration::days(399);
    for n in 0..pulls {
        let number = 1000 + u64::from(n);
        let head_ref = format!("change/{number}");
        let title = format!("Generated change {number}");
        let messages = [format!("change {number}")];
        let message_refs: Vec<&str> = messages.iter().map(String::as_str).collect();
        let changes: Vec<FileChange> = (0..files)
            .map(|f| {
                let path = format!("firmware/src/generated/m{f:02}.rs");
                let old = format!("// module {f}\npub const LIMIT: u32 = {f};\n");
                let new = format!(
                    "// module {f}\npub const LIMIT: u32 = {};\n",
                    f + number as u32
                );
                file(&path, Some(&old), Some(&new))
            })
            .collect();
        repo.pulls.push(pull(
            PullSpec {
                number,
                title: &title,
                body: "Generated for the sync benchmark.",
                author: "alice-dev",
                labels: &["risk:low"],
                head_ref: &head_ref,
                age_hours: i64::from(n % 48) + 1,
                files: changes,
                commit_messages: &message_refs,
                checks: &[("build", "success")],
            },
            &base_sha,
            now,
        ));
    }
}
