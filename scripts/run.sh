#!/usr/bin/env bash
# The project's run command (see README): installs what a fresh Debian/Ubuntu machine lacks,
# builds, and runs SSE Tray. On a desktop it starts the tray app (the `sse-tray` tray process, which
# starts the `sse-tray-windows` webview process when a window is opened); with no subscription configured
# the app offers the built-in demo stream (the project's own event server on loopback, a few
# realistic events a minute). `--demo` starts the demo directly. Without a display (a server, an
# SSH session) it runs the same pipeline headless: events print as JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust 1.95 or newer (https://rustup.rs) and run this again" >&2
  exit 1
fi
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  scripts/install-deps.sh build-essential pkg-config dbus libwebkit2gtk-4.1-dev
  # Node.js and npm build the windows' pages (src-tauri/build.rs).
  scripts/install-node.sh
  # The tray process (sse-tray) and the windows process it starts (sse-tray-windows).
  cargo build --release --locked -p sse-tray-desktop -p sse-tray-app \
    --features sse-tray-app/custom-protocol >&2
  exec target/release/sse-tray "$@"
fi

echo "No display: running headless (sse-tray-cli)." >&2
scripts/install-deps.sh build-essential pkg-config dbus
cargo build --release --locked -p sse-tray -p sse-tray-server --bins >&2
bin=target/release

if [ "${1:-}" != "--demo" ]; then
  status=0
  "$bin/sse-tray-cli" listen --notify || status=$?
  # 2 means "nothing configured"; anything else is the listener's own exit.
  [ "$status" -eq 2 ] || exit "$status"
  echo "Nothing configured yet: starting the built-in demo stream (sse-tray-server demo)." >&2
fi

ready=$(mktemp -u)
mkfifo "$ready"
"$bin/sse-tray-server" demo --listen 127.0.0.1:0 >"$ready" 2>/dev/null &
demo=$!
trap 'kill "$demo" 2>/dev/null; rm -f "$ready"' EXIT
url="" token=""
while read -r line; do
  case "$line" in
    url=*) url=${line#url=} ;;
    token=*) token=${line#token=} ;;
  esac
  [ -n "$url" ] && [ -n "$token" ] && break
done <"$ready"
echo "Demo stream at $url: events print below as JSON lines. Ctrl-C stops." >&2
"$bin/sse-tray-cli" listen "$url" --name Demo --header "Authorization: Bearer $token" --notify
