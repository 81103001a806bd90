#!/usr/bin/env bash
# The Linux packages' test (CI runs it at the end of scripts/test.sh): builds them
# (scripts/package.sh), validates the desktop entry and the AppStream metainfo, runs lintian on
# both .debs (an error or a warning fails; accepted ones are overridden, with the reason, in the
# packages' lintian-overrides), then installs each .deb on this machine:
#   desktop: `apt-get install ./sse-tray_….deb`, runs the installed `sse-tray --hidden --demo` under
#     Xvfb on a private D-Bus session bus, where scripts/notification-recorder.py is the tray and a
#     recording notification server, until its icon is in the tray and its first notification
#     arrives; removes the package and checks no file it installed is left, while the user's
#     history is;
#   server: installs, checks its system user and its systemd unit (systemd-analyze), purges.
# It installs and removes system packages, so scripts/test.sh runs it only in CI (or with
# SSE_TRAY_TEST_PACKAGES=1). Needs root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# Inside xvfb-run and dbus-run-session (see below): the recorder, then the installed app.
if [ "${1:-}" = "--run-installed" ]; then
  work=$2
  /usr/bin/python3 "$repo/scripts/notification-recorder.py" --tray --count 1 --timeout 90 \
    --ready "$work/recorder-ready" >"$work/notifications.jsonl" &
  recorder=$!
  for _ in $(seq 1 100); do [ -e "$work/recorder-ready" ] && break; sleep 0.1; done
  [ -e "$work/recorder-ready" ] || { echo "test-packages: the recorder did not start" >&2; exit 1; }
  # A throwaway home: the test never reads or writes the real user's config, history or autostart.
  HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
    XDG_CACHE_HOME="$work/home/.cache" sse-tray --hidden --demo >"$work/app.log" 2>&1 &
  app=$!
  status=0
  wait "$recorder" || status=$?
  # Autostart (tauri-plugin-autostart) writes the path the running executable resolves to.
  if [ -e "/proc/$app/exe" ]; then readlink -f "/proc/$app/exe" >"$work/exe"; fi
  kill -TERM "$app" 2>/dev/null || true
  wait "$app" || true
  exit "$status"
fi

begin=$(date +%s)
scripts/package.sh
# python3-dbus/python3-gi: the recorder runs on the system's /usr/bin/python3.
scripts/install-deps.sh lintian desktop-file-utils appstream xvfb xauth dbus \
  python3-dbus python3-gi
built=$(date +%s)

out="${CARGO_TARGET_DIR:-target}/release/bundle"
desktop_deb=$(realpath "$(ls "$out"/sse-tray_*.deb)")
server_deb=$(realpath "$(ls "$out"/sse-tray-server_*.deb)")
work=$(mktemp -d "${TMPDIR:-/tmp}/sse-tray-packages.XXXXXX")
chmod 755 "$work"
mkdir -p "$work/home"
cleanup() {
  # Leave the machine as it was, whatever failed.
  for pkg in sse-tray sse-tray-server; do
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed; then
      $sudo apt-get purge -y -qq "$pkg" >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "test-packages: $*" >&2; exit 1; }

# Checks that no path of a package's file list ($1) is left after its removal; directories may
# stay when another package owns them too.
nothing_left() {
  local list=$1 left=0 path
  while read -r path; do
    [ -n "$path" ] && [ "$path" != "/." ] || continue
    if [ -d "$path" ] && [ ! -L "$path" ]; then
      dpkg-query -S "$path" >/dev/null 2>&1 || { echo "left behind: $path/" >&2; left=1; }
    elif [ -e "$path" ] || [ -L "$path" ]; then
      echo "left behind: $path" >&2
      left=1
    fi
  done <"$list"
  return "$left"
}

echo "== desktop entry and AppStream metainfo, as packaged" >&2
dpkg-deb -x "$desktop_deb" "$work/root"
desktop-file-validate "$work/root/usr/share/applications/dev.ssetray.app.desktop"
appstreamcli validate --no-net "$work/root/usr/share/metainfo/dev.ssetray.app.metainfo.xml"

echo "== lintian" >&2
lintian --fail-on error,warning --display-level '>=warning' "$desktop_deb" "$server_deb"

echo "== desktop package: install, run, remove" >&2
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$desktop_deb" >/dev/null
dpkg -L sse-tray >"$work/desktop-files"
[ "$(command -v sse-tray)" = /usr/bin/sse-tray ] || fail "sse-tray is not /usr/bin/sse-tray on PATH"
# The version the metainfo's <release> and the package carry (0.1.0-1 → 0.1.0).
version=$(dpkg-query -W -f='${Version}' sse-tray)
[ "$(sse-tray --version)" = "sse-tray ${version%-*}" ] ||
  fail "sse-tray --version says '$(sse-tray --version)', the package is $version"
grep -q "<release version=\"${version%-*}\"" /usr/share/metainfo/dev.ssetray.app.metainfo.xml ||
  fail "the metainfo has no <release> for ${version%-*}"
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$repo/scripts/test-packages.sh" \
  --run-installed "$work" || {
  echo "--- sse-tray's log:" >&2
  cat "$work/app.log" >&2
  fail "no notification from the installed sse-tray --hidden --demo"
}
grep -q '"tray_item"' "$work/notifications.jsonl" || fail "the installed sse-tray put no icon in the tray"
echo "first notification: $(grep -m 1 '"summary"' "$work/notifications.jsonl")" >&2
[ "$(cat "$work/exe" 2>/dev/null)" = /usr/bin/sse-tray ] ||
  fail "the running app resolves to '$(cat "$work/exe" 2>/dev/null)', not /usr/bin/sse-tray: autostart would name that"
$sudo apt-get remove -y -qq sse-tray >/dev/null
# Removed with no conffiles, dpkg forgets the package (or lists it as not-installed).
status=$(dpkg-query -W -f='${Status}' sse-tray 2>/dev/null || true)
case "$status" in "" | *not-installed) ;; *) fail "sse-tray is still known to dpkg after removal: $status" ;; esac
nothing_left "$work/desktop-files" || fail "the desktop package left files behind"
# Removing the program keeps the user's data (README: Packages, "Removing").
[ -n "$(find "$work/home" -name history.sqlite3)" ] || fail "the user's history went with the package"

echo "== server package: install, check the unit and its user, purge" >&2
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$server_deb" >/dev/null
dpkg -L sse-tray-server >"$work/server-files"
getent passwd sse-tray-server >/dev/null || fail "no sse-tray-server system user after install"
unit=$(dpkg -L sse-tray-server | grep '/systemd/system/sse-tray-server.service$')
systemd-analyze verify "$unit"
# The hardening, as systemd rates it (offline: no running systemd needed); lower is better. The
# threshold is on systemd's internal scale, ten times the printed one: 20 means "at most 2.0".
systemd-analyze security --offline=true --threshold=20 --no-pager "$unit" >"$work/security.txt" ||
  { cat "$work/security.txt" >&2; fail "the server's unit is exposed above 2.0"; }
tail -n 1 "$work/security.txt" >&2
sse-tray-server --help >/dev/null
$sudo apt-get purge -y -qq sse-tray-server >/dev/null
nothing_left "$work/server-files" || fail "the server package left files behind"
# What the maintainer scripts made: the enablement symlink goes with the purge, the user stays.
[ ! -e /etc/systemd/system/multi-user.target.wants/sse-tray-server.service ] ||
  fail "the purged server is still enabled"
[ ! -e /var/lib/sse-tray-server ] || fail "purging the server kept /var/lib/sse-tray-server"

echo "test-packages: passed in $(($(date +%s) - begin)) s ($((built - begin)) s building the packages)" >&2
