#!/usr/bin/env bash
# Install what the app needs and open it. With no forge account configured it
# starts against the built-in sandbox forge (labelled "Sandbox" in the window).
source "$(dirname "$0")/setup.sh"

app_build_needs
say "building and starting countersign-desktop"
exec cargo run -p countersign-desktop -- "$@"
