#!/usr/bin/env bash
# The project's test command (see README): installs what a fresh Debian/Ubuntu machine lacks,
# then checks formatting and lints and runs every test of the workspace. Core and server tests run
# inside a private D-Bus session bus, so the machine's own desktop is never touched; the tray app's
# tests run the real app under Xvfb (scripts/test-app.sh). In CI it ends with the Linux packages:
# built, linted, installed, run and removed (scripts/test-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust 1.95 or newer (https://rustup.rs) and run this again" >&2
  exit 1
fi
# Build tools, the bus, Redis (and redis-cli, for the server's README example) for its tests, and WebKitGTK to compile the tray app.
scripts/install-deps.sh build-essential pkg-config dbus redis-server redis-tools libwebkit2gtk-4.1-dev \
  gnome-keyring

# Node.js and npm: clippy compiles the windows process, whose build script builds its pages.
scripts/install-node.sh

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo fmt --all --check
# The pages' own checks (strict TypeScript) run in the build; lint them before the Rust code.
npm run --silent typecheck
cargo clippy --workspace --all-targets --locked -- -D warnings
dbus-run-session -- cargo test --workspace --exclude sse-tray-app --locked "$@"
scripts/test-app.sh
# The Linux packages, built, linted, installed, run and removed (scripts/test-packages.sh). It
# installs system packages, so it runs in CI (.ci/run sets CI) or when asked for.
if [ -n "${CI:-}" ] || [ "${SSE_TRAY_TEST_PACKAGES:-}" = 1 ]; then
  scripts/test-packages.sh
fi
