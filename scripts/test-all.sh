#!/usr/bin/env bash
# Install what the tests need and run all of them: UI type check and lint, Rust
# format and lint, unit, contract and end-to-end tests in the real window.
source "$(dirname "$0")/setup.sh"

need_apt "${APP_APT_PACKAGES[@]}" "${TEST_APT_PACKAGES[@]}"
need_rust
need_node
if ! command -v tauri-driver >/dev/null 2>&1; then
  say "installing tauri-driver"
  cargo install tauri-driver --locked
fi
ui_packages

# securesystemslib: an independent DSSE implementation for the interop tests.
venv=target/interop-venv
if ! cmp -s tests/interop/requirements.txt "$venv/.requirements" 2>/dev/null; then
  say "installing securesystemslib for the interop tests"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
  cp tests/interop/requirements.txt "$venv/.requirements"
fi

# GitHub's published OpenAPI description and Prism, for the contract tests.
stamp=tests/contract/node_modules/.countersign-lock
if [ ! -f "$stamp" ] || ! cmp -s tests/contract/package-lock.json "$stamp"; then
  say "installing the contract-test npm packages"
  (cd tests/contract && npm ci --no-audit --no-fund)
  cp tests/contract/package-lock.json "$stamp"
fi

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
