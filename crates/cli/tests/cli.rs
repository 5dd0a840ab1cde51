//! The CLI's help and its error outputs, as snapshots (`tests/cmd/*.toml`):
//! scripts and CI depend on these words and exit codes. After a deliberate
//! change, `TRYCMD=overwrite cargo test -p countersign-cli` rewrites them.

#[test]
fn help_and_errors_are_as_documented() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}

/// The manual page the packages install names every command `--help` lists
/// (and, for the commands with their own, every subcommand), so that the
/// two cannot drift apart unseen.
#[test]
fn the_manual_page_names_every_command() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/packaging/countersign.1"),
    )
    .expect("docs/packaging/countersign.1");
    let commands = |args: &[&str]| -> Vec<String> {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(args)
            .arg("--help")
            .output()
            .expect("countersign --help");
        let help = String::from_utf8(out.stdout).unwrap();
        help.split("Commands:")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .filter(|c| c != "help")
            .collect()
    };
    let top = commands(&[]);
    assert!(top.len() > 10, "read the commands from --help: {top:?}");
    for c in &top {
        assert!(
            page.contains(&format!(".B {c}\n")),
            "docs/packaging/countersign.1 does not describe `countersign {c}`"
        );
    }
    for (parent, mention) in [("key", "key"), ("audit", "audit")] {
        for sub in commands(&[parent]) {
            let words = sub.replace('-', " ");
            let described = page
                .split(&format!(".B {mention}\n"))
                .nth(1)
                .and_then(|rest| rest.split(".TP").next())
                .unwrap_or_default();
            assert!(
                described.contains(&words) || described.contains(&sub),
                "the manual's `{parent}` entry does not mention `{sub}`: {described:?}"
            );
        }
    }
}
