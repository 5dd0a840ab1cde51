#!/usr/bin/env bash
# The validation pack for a release: run the whole suite with machine-readable
# results (cargo-nextest's JUnit report), then trace every requirement of
# docs/requirements.toml to its tests' results in this run, with the commit,
# toolchain, OS, WebKitGTK and the SHA-256 of the built binaries, into
# target/validation-pack/ (requirements.html, requirements.json, junit.xml).
# Exits non-zero when a requirement has no passing test (or a test it names
# failed).
source "$(dirname "$0")/setup.sh"

install_test_needs
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

ui_build
say "building the binaries under validation"
cargo build --workspace --bins --locked

say "running every test, with results kept"
status=0
timeout --kill-after=30s 60m \
  xvfb-run -a --server-args="-screen 0 1280x900x24" \
  cargo nextest run --workspace --locked --profile validation || status=$?

out=target/validation-pack
mkdir -p "$out"
cp target/nextest/validation/junit.xml "$out/junit.xml"
say "tracing the requirements to this run's results"
cargo run --quiet --locked -p countersign-tests --bin validation-pack -- \
  "$out/junit.xml" "$out" target/debug/countersign target/debug/countersign-desktop
say "validation pack in $out (the suite itself exited $status)"
exit "$status"
