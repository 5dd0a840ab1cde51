//! `validation-pack JUNIT OUT_DIR [BINARY…]`: the requirements of
//! `docs/requirements.toml` traced to their tests' results in a JUnit report
//! of cargo-nextest, written as `requirements.json` and `requirements.html`
//! with what the run was made on (commit, toolchain, OS, WebKitGTK, the
//! SHA-256 of the binaries). Exits 1 when a requirement has no passing test,
//! or a test it names failed. Run by `scripts/validation-pack.sh`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use countersign_tests::requirements::{self, Outcome, Traced};
use countersign_tests::workspace_root;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Serialize)]
struct Environment {
    commit: String,
    rustc: String,
    cargo: String,
    nextest: String,
    os: String,
    webkitgtk: String,
    binaries: Vec<(String, String)>,
    made_at: String,
}

#[derive(Serialize)]
struct Pack<'a> {
    environment: &'a Environment,
    requirements: &'a [Traced],
    all_shown: bool,
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| format!("unknown ({program} not available)"))
}

fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned())
}

fn sha256_of(path: &Path) -> String {
    std::fs::read(path).map_or_else(
        |e| format!("unreadable: {e}"),
        |bytes| hex::encode(Sha256::digest(bytes)),
    )
}

fn text(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

fn html(env: &Environment, traced: &[Traced], all_shown: bool) -> String {
    let mut h = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>Countersign validation pack</title><style>body{font-family:sans-serif;margin:2rem;line-height:1.4}\
table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.2rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
.passed{color:#0a5c2b}.failed,.not_run{color:#a10000;font-weight:700}.skipped{color:#7a5200}</style></head><body>\n\
<h1>Countersign validation pack</h1>\n",
    );
    h.push_str(&format!(
        "<p><strong>{}</strong></p>\n<table>",
        if all_shown {
            "Every requirement is shown by a passing test in this run."
        } else {
            "NOT every requirement is shown by a passing test in this run."
        }
    ));
    for (k, v) in [
        ("Commit", &env.commit),
        ("rustc", &env.rustc),
        ("cargo", &env.cargo),
        ("cargo-nextest", &env.nextest),
        ("Operating system", &env.os),
        ("WebKitGTK", &env.webkitgtk),
        ("Made at (UTC)", &env.made_at),
    ] {
        h.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            text(k),
            text(v)
        ));
    }
    for (name, digest) in &env.binaries {
        h.push_str(&format!(
            "<tr><th>SHA-256 of {}</th><td><code>{}</code></td></tr>",
            text(name),
            text(digest)
        ));
    }
    h.push_str("</table>\n<h2>Requirements</h2>\n<table><tr><th>Id</th><th>Clause</th><th>Requirement</th><th>Tests and results</th><th>Shown</th></tr>\n");
    for t in traced {
        let tests: Vec<String> = t
            .results
            .iter()
            .map(|(name, o)| {
                let word = serde_json::to_value(o)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                format!(
                    "<code>{}</code> <span class=\"{word}\">{word}</span>",
                    text(name)
                )
            })
            .collect();
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>\n",
            text(&t.requirement.id),
            text(&t.requirement.clause),
            text(&t.requirement.text),
            tests.join("<br>"),
            if t.shown { "passed" } else { "failed" },
            if t.shown { "yes" } else { "NO" }
        ));
    }
    h.push_str("</table></body></html>\n");
    h
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [junit, out, binaries @ ..] = args.as_slice() else {
        eprintln!("usage: validation-pack JUNIT_XML OUT_DIR [BINARY…]");
        return ExitCode::from(2);
    };
    let root = workspace_root();
    let run = || -> Result<bool, String> {
        let r = requirements::load(&root)?;
        let report = std::fs::read(junit).map_err(|e| format!("{junit}: {e}"))?;
        let outcomes = requirements::outcomes(&report)?;
        let traced = requirements::trace(&r, &outcomes);
        let all_shown = traced.iter().all(|t| t.shown);
        let env = Environment {
            commit: first_line("git", &["rev-parse", "HEAD"]),
            rustc: first_line("rustc", &["--version"]),
            cargo: first_line("cargo", &["--version"]),
            nextest: first_line("cargo", &["nextest", "--version"]),
            os: os_name(),
            webkitgtk: first_line("pkg-config", &["--modversion", "webkit2gtk-4.1"]),
            binaries: binaries
                .iter()
                .map(|b| (b.clone(), sha256_of(&PathBuf::from(b))))
                .collect(),
            made_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let pack = Pack {
            environment: &env,
            requirements: &traced,
            all_shown,
        };
        let json = serde_json::to_vec_pretty(&pack).map_err(|e| e.to_string())?;
        std::fs::write(out.join("requirements.json"), json).map_err(|e| e.to_string())?;
        std::fs::write(
            out.join("requirements.html"),
            html(&env, &traced, all_shown),
        )
        .map_err(|e| e.to_string())?;
        let passed = outcomes.values().filter(|o| **o == Outcome::Passed).count();
        println!(
            "{} of {} requirements shown; {passed} of {} tests passed in this run; written to {}",
            traced.iter().filter(|t| t.shown).count(),
            traced.len(),
            outcomes.len(),
            out.display()
        );
        for t in traced.iter().filter(|t| !t.shown) {
            println!("NOT SHOWN {}: {:?}", t.requirement.id, t.results);
        }
        Ok(all_shown)
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("validation-pack: {e}");
            ExitCode::from(2)
        }
    }
}
