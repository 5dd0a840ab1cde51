#!/usr/bin/env bash
# Install what the app needs and open it. With no forge account configured it
# starts against the built-in sandbox forge (labelled "Sandbox" in the window).
source "$(dirname "$0")/setup.sh"

need_apt "${APP_APT_PACKAGES[@]}"
need_rust
need_node
ui_packages
ui_build
say "building and starting countersign-desktop"
exec cargo run -p countersign-desktop -- "$@"
