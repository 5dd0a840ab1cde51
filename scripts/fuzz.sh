#!/usr/bin/env bash
# Longer generated-input runs of every parser that reads forge or CI bytes:
# records (bundle, envelope, statement), the policy, the risk block, each
# evidence format and the zip reader. The test suite runs the same targets
# with 256 cases each; this runs CASES (default 100000) in a release build.
# A failure is shrunk and saved in the target's .proptest-regressions file:
# commit it, and every later run replays it first.
set -euo pipefail
cd "$(dirname "$0")/.."
export COUNTERSIGN_FUZZ_CASES="${CASES:-100000}"
exec cargo test --release --locked \
  -p countersign-signing -p countersign-policy -p countersign-evidence \
  --test fuzz
