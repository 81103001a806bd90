#!/usr/bin/env bash
# Screenshots of the windows for the README (docs/screenshots/): the history window (light and
# dark, the list and a Markdown message's details, and at 720x480), the first run with the demo,
# and the settings window. Uses the debug build and a sample SSE server with realistic messages.
# Run under a display and a session bus:
#   xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session -- src-tauri/tools/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CARGO_TARGET_DIR:-target}/debug/sse-tray
OUT=docs/screenshots
mkdir -p "$OUT"
WORK=$(mktemp -d)
export RUST_LOG=warn
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 src-tauri/tools/sample_server.py "$PORT" & SERVER=$!
# A notification server (dunst, if installed), its popups in the screen's bottom-right corner,
# clear of the windows; without one the window shows "desktop notifications are unavailable".
# (Do not leave dunst installed where the app tests run: its D-Bus activation file takes
# org.freedesktop.Notifications before the tests' recording server can.)
NOTIFY=
if command -v dunst >/dev/null; then
  printf '[global]\norigin = bottom-right\noffset = 10x10\nwidth = 250\n' > "$WORK/dunstrc"
  dunst -config "$WORK/dunstrc" >/dev/null 2>&1 & NOTIFY=$!
  sleep 0.5
fi
APP=
cleanup() { [ -n "$APP" ] && kill "$APP" 2>/dev/null; kill "$SERVER" $NOTIFY 2>/dev/null || true; }
trap cleanup EXIT

window() { # the X window id of a window by title, waiting for it
  local id=""
  for _ in $(seq 100); do
    id=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -1) && [ -n "$id" ] && break
    sleep 0.2
  done
  echo "$id"
}
shot() { sleep "${3:-1}"; import -window "$(window "$1")" "$OUT/$2.png"; echo "saved $OUT/$2.png"; }
start() { # start [env…]: the app on its own dirs, history window shown
  env SSE_TRAY_CONFIG_DIR="$WORK/config" SSE_TRAY_DATA_DIR="$WORK/data" "$@" "$BIN" > "$WORK/app.log" 2>&1 &
  APP=$!
}
stop() { kill "$APP"; wait "$APP" 2>/dev/null || true; APP=; sleep 0.5; }
HISTORY="SSE Tray — history"

# First run: nothing configured, the demo stream runs.
mkdir -p "$WORK/config"
start
shot "$HISTORY" first-run 1.5
stop
rm -rf "$WORK/data"

printf '[[subscription]]\nid = "home"\nname = "Home server"\nurl = "http://127.0.0.1:%s/events"\n' "$PORT" > "$WORK/config/config.toml"
for theme in light dark; do
  if [ "$theme" = dark ]; then start GTK_THEME=Adwaita:dark; else start GTK_THEME=Adwaita; fi
  shot "$HISTORY" "history-$theme" 3
  id=$(window "$HISTORY")
  # The keyboard: focus the list, down to the failed build (Markdown), open it.
  xdotool windowactivate --sync "$id" 2>/dev/null || xdotool windowfocus --sync "$id"
  xdotool key --window "$id" Down Down Down Down Return
  shot "$HISTORY" "details-$theme" 1.5
  if [ "$theme" = light ]; then
    xdotool windowsize --sync "$id" 720 480
    shot "$HISTORY" history-720x480 1.5
  fi
  env SSE_TRAY_CONFIG_DIR="$WORK/config" SSE_TRAY_DATA_DIR="$WORK/data" "$BIN" --settings >/dev/null 2>&1 || true
  shot "SSE Tray — settings" "settings-$theme" 2
  stop
done
