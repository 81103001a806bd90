#!/usr/bin/env bash
# Measures the tray app (release build) for the issue's report: whole-process-tree PSS with the
# history and the settings window shown, hidden and dropped, launch → tray ready, the first page
# with 100,000 rows, and CPU over an idle period.
# Run under a display and a session bus:
#   xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- src-tauri/tools/measure.sh [idle seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=target/release/sse-tray
IDLE=${1:-600}
WORK=$(mktemp -d)
export SSE_TRAY_CONFIG_DIR=$WORK/config SSE_TRAY_DATA_DIR=$WORK/data SSE_TRAY_DROP_WEBVIEW_AFTER_SECS=10
TITLE="SSE Tray — history"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 src-tauri/tools/heartbeat_server.py "$PORT" & HB=$!
trap 'kill $HB 2>/dev/null || true' EXIT
mkdir -p "$SSE_TRAY_CONFIG_DIR"
printf '[[subscription]]\nid = "test"\nname = "Idle"\nurl = "http://127.0.0.1:%s/events"\n' "$PORT" > "$SSE_TRAY_CONFIG_DIR/config.toml"

tree() { local p=$1; echo "$p"; for c in $(pgrep -P "$p" || true); do tree "$c"; done; }
pss() { # PSS of the tree in MiB, with a per-process breakdown
  local total=0 line=""
  for p in $(tree "$1"); do
    local kb; kb=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + kb)); line+=" $(cat /proc/$p/comm 2>/dev/null)=$((kb / 1024))"
  done
  echo "$((total / 1024)) MiB ($line )"
}
start() { "$BIN" "$@" > "$WORK/app.log" 2>&1 & APP=$!; }
wait_log() { until grep -q "$1" "$WORK/app.log"; do sleep 0.01; done; }
stop() { kill -TERM "$APP"; wait "$APP" || true; }

T0=$(date +%s%N); start --hidden; wait_log "tray ready"; T1=$(date +%s%N)
echo "launch → tray ready (--hidden): $(( (T1 - T0) / 1000000 )) ms"
sleep 10; echo "PSS started --hidden, never opened: $(pss $APP)"
stop

start; wait_log "tray ready"; sleep 10
echo "PSS window shown: $(pss $APP)"
/usr/bin/python3 src-tauri/tests/support/close_window.py "$TITLE"; sleep 3
echo "PSS window hidden (webview alive): $(pss $APP)"
wait_log "dropped the hidden history webview"; sleep 3
echo "PSS after the webview was dropped: $(pss $APP)"
stop

# The settings window: open (diagnostics polling every second), hidden, dropped.
start --settings; wait_log "tray ready"; sleep 10
echo "PSS settings window shown: $(pss $APP)"
/usr/bin/python3 src-tauri/tests/support/close_window.py "SSE Tray — settings"; sleep 3
echo "PSS settings window hidden (webview alive): $(pss $APP)"
wait_log "dropped the hidden settings webview"; sleep 3
echo "PSS after the settings webview was dropped: $(pss $APP)"
stop

cargo run -q --release -p sse-tray-app --example fill_history -- "$SSE_TRAY_DATA_DIR" 100000
# First page with 100,000 rows: the real window through tauri-driver + WebKitWebDriver; the page
# records when its first page was in the DOM (ms since navigation start).
DP=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tauri-driver --port "$DP" --native-port $((DP + 1)) > "$WORK/driver.log" 2>&1 & DRIVER=$!
sleep 1
/usr/bin/python3 - "$DP" "$PWD/$BIN" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["value"]
t0 = time.monotonic()
sid = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": sys.argv[2]}}}})["sessionId"]
while True:
    v = call("POST", f"/session/{sid}/execute/sync", {"script": "return document.body.dataset.ready === 'true' ? [document.body.dataset.firstPageMs, document.querySelectorAll('#list li').length, document.getElementById('unread').textContent] : null;", "args": []})
    if v: break
    time.sleep(0.01)
print(f"first page of history with 100,000 rows: {v[0]} ms after the page started loading ({v[1]} rows shown, {v[2]} unread); session start → ready {int((time.monotonic()-t0)*1000)} ms")
call("DELETE", f"/session/{sid}")
PY
kill "$DRIVER"; wait "$DRIVER" 2>/dev/null || true

start --hidden; wait_log "tray ready"; sleep 5
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$APP/stat)
sleep "$IDLE"
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$APP/stat)
TICK=$(getconf CLK_TCK)
echo "CPU over ${IDLE} s idle (15 s heartbeats, --hidden): $(( (u1 - u0 + s1 - s0) * 1000 / TICK )) ms"
stop
rm -rf "$WORK"
