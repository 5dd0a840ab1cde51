//! The CLI's help and its error outputs, as snapshots (`tests/cmd/*.toml`):
//! scripts and CI depend on these words and exit codes. After a deliberate
//! change, `TRYCMD=overwrite cargo test -p countersign-cli` rewrites them.

#[test]
fn help_and_errors_are_as_documented() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
