# Shared set-up for scripts/run-app.sh and scripts/test-all.sh. Sourced, not run.
# Every step checks first, so a second run costs seconds and changes nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt packages, installed only when missing.
need_apt() {
  local missing=()
  for pkg in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Room for the build, in GiB: free space where it goes, plus what target/
# already holds (a second run rewrites it in place). Stop with the figures
# when there is less than asked.
need_disk() {
  local want=$1 free built have
  free=$(df -Pk "$ROOT" | awk 'NR == 2 { print $4 }')
  built=0
  # A clean clone has no target/ yet (du would fail, and with it the script).
  if [ -d "$ROOT/target" ]; then built=$(du -sk "$ROOT/target" | cut -f1); fi
  have=$(( (free + built) / 1048576 ))
  say "disk: $(( free / 1048576 )) GiB free at $ROOT, $(( built / 1048576 )) GiB already in target/"
  if [ "$have" -lt "$want" ]; then
    echo "Only ${have} GiB of room at $ROOT; building and testing everything needs about ${want} GiB. Free some (cargo clean in other trees) and run this again." >&2
    df -h "$ROOT" >&2
    exit 1
  fi
}

need_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "Rust is missing: install it with rustup (a stable toolchain, 1.85 or newer), then run this again." >&2
    exit 1
  fi
}

need_node() {
  if ! command -v npm >/dev/null 2>&1; then
    need_apt nodejs npm
  fi
}

# The UI's npm packages, reinstalled only when the lock file changed.
ui_packages() {
  local stamp=ui/node_modules/.countersign-lock
  if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
    say "installing the UI's npm packages"
    (cd ui && npm ci --no-audit --no-fund)
    cp ui/package-lock.json "$stamp"
  fi
}

ui_build() {
  say "building the UI"
  (cd ui && npm run --silent build)
}

# What building the app needs: system packages, Rust, Node, the built UI.
app_build_needs() {
  need_apt "${APP_APT_PACKAGES[@]}"
  need_rust
  need_node
  ui_packages
  ui_build
}

APP_APT_PACKAGES=(build-essential pkg-config curl file libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev librsvg2-dev libayatana-appindicator3-dev libudev-dev libclang-dev)
TEST_APT_PACKAGES=(xvfb xauth webkit2gtk-driver imagemagick dbus-x11 dbus-daemon dbus-bin gnome-keyring python3-venv poppler-utils)

# Everything the whole suite needs: packages, toolchains, tauri-driver, the
# UI's and the contract tests' npm packages, securesystemslib.
install_test_needs() {
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
}
