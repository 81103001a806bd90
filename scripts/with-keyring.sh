#!/usr/bin/env bash
# Starts and unlocks a throwaway GNOME Keyring (its Secret Service only) on the current D-Bus
# session bus, then runs the command in its place. For tests and CI, where no desktop session
# provides a keyring: SSE Tray keeps subscription secrets in the Secret Service.
#
#   dbus-run-session -- scripts/with-keyring.sh cargo test
#   xvfb-run -a dbus-run-session -- scripts/with-keyring.sh target/debug/sse-tray-app
#
# The keyring's files go to a fresh temp dir (or $SSE_TRAY_KEYRING_DIR), never to the real
# ~/.local/share/keyrings, and its password is a throwaway one: do not keep real secrets in it.
# The daemon exits with the session bus. Needs the packages gnome-keyring and dbus-bin.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 <command> [args…]" >&2
  exit 2
fi
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "$0: no D-Bus session bus; run under it: dbus-run-session -- $0 $*" >&2
  exit 1
fi
if ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "$0: gnome-keyring-daemon not found: apt-get install gnome-keyring" >&2
  exit 1
fi

secret_service_on_bus() {
  local reply
  reply="$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null)" || return 1
  [[ "$reply" == *"boolean true"* ]]
}
# A desktop session already has its keyring: use it rather than replace it.
if secret_service_on_bus; then
  exec "$@"
fi

dir="${SSE_TRAY_KEYRING_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sse-tray-keyring.XXXXXX")}"
mkdir -p "$dir/home" "$dir/data" "$dir/runtime"
chmod 700 "$dir/runtime"

# --unlock reads the password of the `login` collection (created on first use) from stdin;
# without --foreground the daemon forks and keeps running on the bus.
printf '%s' "${SSE_TRAY_KEYRING_PASSWORD:-throwaway-ci-password}" |
  HOME="$dir/home" XDG_DATA_HOME="$dir/data" XDG_RUNTIME_DIR="$dir/runtime" \
    gnome-keyring-daemon --replace --unlock --components=secrets >"$dir/daemon.env" 2>"$dir/daemon.log"

# Wait until the Secret Service owns its name (asking the bus, which activates nothing).
for _ in $(seq 1 150); do
  if secret_service_on_bus; then
    # Tells tests/secrets.rs that this keyring is a throwaway one it may use.
    export SSE_TRAY_TEST_KEYRING="$dir"
    exec "$@"
  fi
  sleep 0.1
done
echo "$0: org.freedesktop.secrets did not appear on the session bus within 15 s:" >&2
cat "$dir/daemon.log" >&2
exit 1
