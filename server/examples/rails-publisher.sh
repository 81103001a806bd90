#!/bin/sh
# Publishes one event exactly as a Rails app does once it feeds sse-tray-server:
#   redis.publish("events:#{user.id}", {event: "deploy", data: {...}}.to_json)
# No Ruby needed: redis-cli sends the same JSON object on the same channel. Any server instance
# in --redis mode stores it once and streams it (with replay) to the user's clients.
#
# Usage: rails-publisher.sh <user id> <event type> <data as JSON> [id]
#   REDIS_URL defaults to redis://127.0.0.1:6379/0. The optional id makes a retried publish
#   count once; without it, byte-identical messages within 10 s are one event.
set -eu
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 <user id> <event type> <data as JSON> [id]" >&2
  exit 2
fi
user=$1 event=$2 data=$3
case $event in *[\"\\]*) echo "event type must not contain quotes or backslashes" >&2; exit 2 ;; esac
payload="{\"event\":\"$event\",\"data\":$data"
if [ $# -eq 4 ]; then
  case $4 in *[\"\\]*) echo "id must not contain quotes or backslashes" >&2; exit 2 ;; esac
  payload="$payload,\"id\":\"$4\""
fi
payload="$payload}"
# Prints how many subscribers got it: one per running server instance (plus any old Live stream).
exec redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" PUBLISH "events:$user" "$payload"
