#!/usr/bin/env bash
# Build the installable packages, .deb and .rpm, with the Tauri bundler:
# target/release/bundle/{deb,rpm}/. AppImage is not built: its bundler
# downloads linuxdeploy while building, which these machines cannot fetch.
source "$(dirname "$0")/setup.sh"

app_build_needs

say "building the countersign CLI (installed as /usr/bin/countersign beside the app)"
cargo build --release --locked -p countersign-cli

# The npm CLI runs from src-tauri/ with the small config there. The package
# metadata lives once, in the root tauri.conf.json: its bundle and plugin
# sections are handed over with absolute paths (the bundler reads them from
# src-tauri/, the app's build from the root).
mkdir -p target/package
python3 - "$ROOT" > target/package/bundle.conf.json <<'PY'
import json, os, sys
root = json.load(open(os.path.join(sys.argv[1], "tauri.conf.json")))
up = lambda p: os.path.join(sys.argv[1], p)
bundle = root["bundle"]
bundle["icon"] = [up(p) for p in bundle["icon"]]
bundle["licenseFile"] = up(bundle["licenseFile"])
for kind in ("deb", "rpm"):
    linux = bundle["linux"][kind]
    linux["files"] = {dest: up(src) for dest, src in linux["files"].items()}
    linux["desktopTemplate"] = up(linux["desktopTemplate"])
json.dump({"bundle": bundle, "plugins": root["plugins"]}, sys.stdout, indent=2)
PY

# Debian wants the changelog and manual pages compressed, reproducibly (no
# name, no time).
gzip -9nc docs/packaging/changelog > target/package/changelog.gz
for page in countersign countersign-desktop; do
  gzip -9nc "docs/packaging/$page.1" > "target/package/$page.1.gz"
done

say "bundling .deb and .rpm"
(cd src-tauri && ../ui/node_modules/.bin/tauri build --ci --bundles deb,rpm --config ../target/package/bundle.conf.json)
ls -l target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm
