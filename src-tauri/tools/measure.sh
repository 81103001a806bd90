#!/usr/bin/env bash
# Measures the desktop app (release build) for the process-split issue: whole-process-tree PSS
# (tray process + windows process) hidden and never opened, with the history and the settings
# window shown, and 5 s after the last window closed; idle CPU and wake-ups of the tray process
# with a 15 s heartbeat stream; how long a window takes to show its first page (tray request →
# first history page answered, warm); and the first page with 100,000 rows through WebDriver.
# Run under a display and a session bus:
#   xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- src-tauri/tools/measure.sh [idle seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release --locked -p sse-tray-desktop -p sse-tray-app --features sse-tray-app/custom-protocol
BIN=target/release/sse-tray
IDLE=${1:-60}
WORK=$(mktemp -d)
export SSE_TRAY_CONFIG_DIR=$WORK/config SSE_TRAY_DATA_DIR=$WORK/data
export RUST_LOG=warn,sse_tray=info
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 src-tauri/tools/heartbeat_server.py "$PORT" & HB=$!
trap 'kill $HB 2>/dev/null || true' EXIT
mkdir -p "$SSE_TRAY_CONFIG_DIR"
printf '[[subscription]]\nid = "test"\nname = "Idle"\nurl = "http://127.0.0.1:%s/events"\n' "$PORT" > "$SSE_TRAY_CONFIG_DIR/config.toml"

tree() { local p=$1; echo "$p"; for c in $(pgrep -P "$p" || true); do tree "$c"; done; }
pss() { # PSS of the tree in MiB (one decimal), with a per-process breakdown
  local total=0 line=""
  for p in $(tree "$1"); do
    local kb; kb=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + kb)); line+=" $(cat /proc/$p/comm 2>/dev/null)=$((kb / 1024))"
  done
  echo "$((total / 1024)).$(( (total % 1024) * 10 / 1024 )) MiB ($line )"
}
switches() { # voluntary + involuntary context switches of every thread of $1
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/{n += $2} END {print n}'
}
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
start() { "$BIN" "$@" > "$WORK/app.log" 2>&1 & APP=$!; }
wait_log() { until grep -q "$1" "$WORK/app.log"; do sleep 0.01; done; }
count_log() { grep -c "$1" "$WORK/app.log" || true; }
stop() { kill -TERM "$APP"; wait "$APP" || true; }
close_all() {
  for title in "SSE Tray — history" "SSE Tray — settings"; do
    /usr/bin/python3 src-tauri/tests/support/close_window.py "$title" 2>/dev/null || true
  done
}

T0=$(date +%s%N); start --hidden; wait_log "tray ready"; T1=$(date +%s%N)
echo "launch → tray ready (--hidden): $(( (T1 - T0) / 1000000 )) ms"
sleep 10; echo "PSS hidden, never opened: $(pss $APP)"

TICK=$(getconf CLK_TCK)
c0=$(cpu_ticks $APP); w0=$(switches $APP)
sleep "$IDLE"
c1=$(cpu_ticks $APP); w1=$(switches $APP)
echo "idle ${IDLE} s (15 s heartbeats, hidden): CPU $(( (c1 - c0) * 1000 / TICK )) ms in all = $(( (c1 - c0) * 1000000 / TICK / IDLE )) µs/s; $(( w1 - w0 )) wake-ups = $(( (w1 - w0) * 100 / IDLE / 100 )).$(( (w1 - w0) * 100 / IDLE % 100 )) /s"

# Open history as the tray menu does (a second launch hands over to the running instance).
for round in cold warm1 warm2; do
  n=$(count_log "first history page answered")
  "$BIN" >/dev/null 2>&1
  until [ "$(count_log "first history page answered")" -gt "$n" ]; do sleep 0.01; done
  echo "history window ($round): $(grep "first history page answered" "$WORK/app.log" | tail -1 | sed 's/.*answered/first page answered/')"
  sleep 3
  [ "$round" = cold ] && echo "PSS history shown: $(pss $APP)"
  e=$(count_log "the windows process exited")
  close_all
  until [ "$(count_log "the windows process exited")" -gt "$e" ]; do sleep 0.01; done
done
sleep 5; echo "PSS 5 s after the history window closed: $(pss $APP)"

"$BIN" --settings >/dev/null 2>&1; sleep 8
echo "PSS settings shown: $(pss $APP)"
e=$(count_log "the windows process exited"); close_all
until [ "$(count_log "the windows process exited")" -gt "$e" ]; do sleep 0.01; done
sleep 5; echo "PSS 5 s after the settings window closed: $(pss $APP)"
stop

cargo run -q --release -p sse-tray-app --example fill_history -- "$SSE_TRAY_DATA_DIR" 100000
# First page with 100,000 rows: the real window through tauri-driver + WebKitWebDriver (which
# starts the tray process; it opens the history window and its page records when its first
# page was in the DOM, in ms since navigation start).
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
rm -rf "$WORK"
