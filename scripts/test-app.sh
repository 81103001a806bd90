#!/usr/bin/env bash
# The desktop app's tests: unit tests of the tray process (desktop/) and the windows process
# (src-tauri/), then the end-to-end tests of the real `sse-tray` binary under Xvfb with a private D-Bus session bus (tray menu over com.canonical.dbusmenu, a
# recording notification server, single instance, quit), then the history and settings windows
# through tauri-driver + WebKitWebDriver, with axe-core run inside the real webview. Installs what a fresh Debian/Ubuntu machine lacks. A missing
# part makes the tests fail, never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build-essential pkg-config dbus libwebkit2gtk-4.1-dev \
  xvfb xauth x11-utils python3-xlib webkit2gtk-driver \
  gnome-keyring
# Node.js and npm: the pages' build (src-tauri/build.rs) and axe-core.
scripts/install-node.sh
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null 2>&1; then
  cargo install tauri-driver --locked
fi

# The tray process (no web engine) and the windows process it starts from the same directory.
cargo build -p sse-tray-desktop -p sse-tray-app --locked
cargo test -p sse-tray-app --locked --bins
# The e2e tests start the app (and WebKit) themselves; one test binary at a time.
# The settings window keeps secrets in the Secret Service: a throwaway gnome-keyring on the
# private bus (scripts/with-keyring.sh).
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- scripts/with-keyring.sh \
  cargo test -p sse-tray-app --locked --test desktop --test split --test no_tray --test window --test settings \
  -- --test-threads=1 "$@"
