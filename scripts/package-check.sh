#!/usr/bin/env bash
# Build the packages, lint them, then install the .deb on this machine, check
# what it installed, launch the installed app against the sandbox until its
# first queue row shows, and remove it again. lintian's findings are printed;
# an error fails the check.
source "$(dirname "$0")/setup.sh"

need_apt lintian desktop-file-utils rpm
"$ROOT/scripts/package.sh"

deb=$(ls target/release/bundle/deb/*.deb)
rpm=$(ls target/release/bundle/rpm/*.rpm)
work=target/package
rm -rf "$work/root" && mkdir -p "$work/root"

say "lintian $deb"

lintian --info --display-level '>=info' "$deb" | tee "$work/lintian.txt" || true
if grep -q '^E: ' "$work/lintian.txt"; then
  echo "lintian found errors in $deb" >&2
  exit 1
fi

say "the desktop entry"
dpkg-deb -x "$deb" "$work/root"
entry=$(ls "$work"/root/usr/share/applications/*.desktop)
desktop-file-validate "$entry"
cat "$entry"
grep -q '^MimeType=.*x-scheme-handler/countersign;' "$entry" || { echo "the desktop entry does not register countersign://" >&2; exit 1; }
for size in 16x16 24x24 32x32 48x48 64x64 128x128 256x256 512x512; do
  ls "$work"/root/usr/share/icons/hicolor/$size/apps/*.png >/dev/null || { echo "no $size icon" >&2; exit 1; }
done

say "the .rpm"
rpm -qip "$rpm"
# Listed first, then searched: `rpm | grep -q` under pipefail fails whenever
# grep stops reading before rpm stops writing (SIGPIPE), whatever is listed.
rpm_files=$(rpm -qlp "$rpm")
grep -qx /usr/bin/countersign <<<"$rpm_files" || { echo "the .rpm lacks /usr/bin/countersign" >&2; exit 1; }
rpm -qRp "$rpm"

say "installing $deb"
package=$(dpkg-deb -f "$deb" Package)
as_root dpkg -i "$deb"
trap 'say "removing $package"; as_root dpkg -r "$package"' EXIT
countersign --version
test -x /usr/bin/countersign-desktop
for page in countersign countersign-desktop; do
  test -f "/usr/share/man/man1/$page.1.gz" || { echo "no manual page for $page" >&2; exit 1; }
done

say "launching the installed app against the sandbox"
COUNTERSIGN_INSTALLED_DESKTOP=/usr/bin/countersign-desktop \
  xvfb-run -a cargo test --locked -p countersign-tests --test tests -- \
  --ignored --exact e2e::the_installed_package_opens_on_the_queue --nocapture
