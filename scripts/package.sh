#!/usr/bin/env bash
# Builds the Linux packages (see README "Packages") into target/release/bundle/, or
# $CARGO_TARGET_DIR/release/bundle/ when that is set:
#   sse-tray_<version>-1_<arch>.deb and sse-tray-<version>-1.<arch>.rpm — the desktop app: the tray
#     process `sse-tray`, the window process `sse-tray-windows` (WebKitGTK) and `sse-tray-cli`;
#   sse-tray-server_<version>-1_<arch>.deb — the event server as a hardened systemd service.
# Binaries come from the `dist` profile (stripped, LTO). Installs what a fresh Debian/Ubuntu machine
# lacks, cargo-deb and cargo-generate-rpm included (through cargo, like scripts/test-app.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust 1.95 or newer (https://rustup.rs) and run this again" >&2
  exit 1
fi
# dpkg-dev: dpkg-shlibdeps, which computes the .debs' Depends from the binaries' libraries; rpm:
# reading the .rpm back.
scripts/install-deps.sh build-essential pkg-config dpkg-dev rpm libwebkit2gtk-4.1-dev
# Node.js and npm build the windows' pages (src-tauri/build.rs).
scripts/install-node.sh
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo-deb >/dev/null 2>&1; then
  cargo install cargo-deb --version 3.8.0 --locked
fi
if ! command -v cargo-generate-rpm >/dev/null 2>&1; then
  cargo install cargo-generate-rpm --version 0.21.1 --locked
fi

# Debian's changelogs name the package version: they must follow the crates' versions.
for pkg in sse-tray:desktop sse-tray-server:server; do
  name=${pkg%%:*} dir=${pkg#*:}
  crate=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$dir/Cargo.toml" | head -n 1)
  deb=$(dpkg-parsechangelog -l "packaging/debian/$name.changelog" -S Version)
  if [ "$deb" != "$crate-1" ]; then
    echo "package.sh: packaging/debian/$name.changelog is at $deb, $dir/Cargo.toml at $crate:" \
      "add a changelog entry for $crate-1" >&2
    exit 1
  fi
done

target="${CARGO_TARGET_DIR:-target}"
bins="$target/dist"
out="$target/release/bundle"
mkdir -p "$out"
rm -f "$out"/sse-tray*.deb "$out"/sse-tray*.rpm

start=$(date +%s)
# Two builds, not one: in one `cargo build` the server's default features (its Redis store and
# HTTP client) would be turned on in the desktop binaries too, which embed the server only for
# the demo stream. custom-protocol makes the window process serve ui/dist (built by src-tauri/build.rs) from its
# own binary.
cargo build --profile dist --locked --bins -p sse-tray -p sse-tray-desktop -p sse-tray-app \
  --features sse-tray-app/custom-protocol
cargo build --profile dist --locked --bins -p sse-tray-server
echo "package.sh: dist build took $(($(date +%s) - start)) s" >&2

for bin in sse-tray sse-tray-windows sse-tray-cli sse-tray-server; do
  if [ ! -x "$bins/$bin" ]; then
    echo "package.sh: $bins/$bin was not built (the desktop app is two processes: desktop/ builds" \
      "sse-tray, src-tauri/ builds sse-tray-windows)" >&2
    exit 1
  fi
done

# --no-build: the binaries above are the ones to package (cargo-deb would build the workspace
# with one feature set). target/release/ in the metadata stands for $bins.
cargo deb --no-build --profile dist -p sse-tray-desktop --output "$out/"
cargo deb --no-build --profile dist -p sse-tray-server --output "$out/"
cargo generate-rpm --profile dist -p desktop --output "$out/"

# The file lists are written twice (desktop/Cargo.toml): both formats must install the same files,
# apart from what Debian alone wants (copyright, changelog, lintian overrides, compressed man pages).
deb_files=$(dpkg-deb --fsys-tarfile "$out"/sse-tray_*.deb | tar -t | sed -e 's|^\./|/|' -e 's|\.gz$||' |
  grep -v -e '/$' -e '^/usr/share/doc/sse-tray/copyright$' -e '^/usr/share/doc/sse-tray/changelog.Debian$' -e '^/usr/share/lintian/' | sort)
rpm_files=$(rpm -qpl "$out"/sse-tray-*.rpm 2>/dev/null | sort)
if [ "$deb_files" != "$rpm_files" ]; then
  echo "package.sh: the .deb and the .rpm install different files (deb <, rpm >):" >&2
  diff <(echo "$deb_files") <(echo "$rpm_files") >&2 || true
  exit 1
fi

ls -l "$out"/sse-tray*.deb "$out"/sse-tray*.rpm
