#!/usr/bin/env bash
# Install what the tests need and run all of them: UI type check and lint, Rust
# format and lint, unit, contract and end-to-end tests in the real window.
source "$(dirname "$0")/setup.sh"

# A run from a clean clone writes about 9 GB under target/ (docs/performance.md,
# "Disk"); a full disk fails the build mid-way with an archive error that
# names no cause, so say it first. Incremental caches only help a second
# build of the same tree; a clean run gains nothing from them but their size.
need_disk 10
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

install_test_needs

say "UI: type check and lint"
(cd ui && npm run --silent check)
ui_build

say "Rust: format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

say "building the desktop app for the end-to-end tests"
cargo build --workspace --bins --locked

say "running every test"
# Each window under test gets an Xvfb of its own (tests/src/window.rs); this
# one is the display for anything else. The tests drive windows with tauri-driver.
# The outer timeout turns a hung window into a failure well inside CI's limit.
timeout --kill-after=30s 45m \
  xvfb-run -a --server-args="-screen 0 1280x900x24" cargo test --workspace --locked -- --test-threads=2

# The installable packages: built, linted, installed, launched, removed.
if [ "${COUNTERSIGN_SKIP_PACKAGES:-0}" = "1" ]; then
  say "skipping the packages (COUNTERSIGN_SKIP_PACKAGES=1)"
else
  say "packages: build, lint, install, launch, remove"
  "$ROOT/scripts/package-check.sh"
fi
