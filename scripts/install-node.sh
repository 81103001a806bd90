#!/usr/bin/env bash
# Node.js and npm, which build the windows' pages (TypeScript through Vite, run by
# src-tauri/build.rs) and bring axe-core for the window tests. Debian's packages are installed
# only where no npm exists: NodeSource's nodejs bundles npm and conflicts with Debian's npm.
# Vite 6 is used because it still runs on Debian 12's Node.js 18 (Vite 7+ needs 20.19+).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  scripts/install-deps.sh nodejs npm
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "Node.js $(node --version) is too old to build the pages: install Node.js 18 or newer" >&2
  exit 1
fi
# The lockfile's exact versions, once (src-tauri/build.rs runs `npm ci` again only when the
# lockfile is newer than node_modules).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
