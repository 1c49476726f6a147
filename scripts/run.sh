#!/usr/bin/env bash
# Start everything the app needs and stop all of it on Ctrl-C:
# the Onurix sandbox, the background worker and the web server.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
SANDBOX_PORT="${ONURIX_SANDBOX_PORT:-$(grep -E '^ONURIX_SANDBOX_PORT=' .env 2>/dev/null | cut -d= -f2 || true)}"
SANDBOX_PORT="${SANDBOX_PORT:-8765}"

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$PY" -m onurix_sandbox --host 127.0.0.1 --port "$SANDBOX_PORT" &
pids+=($!)
# The worker queues the every-minute sweep itself and writes its heartbeat (/healthz).
"$PY" manage.py campaigns_worker --interval 0.5 &
pids+=($!)
"$PY" manage.py runserver 127.0.0.1:8000 --noreload &
pids+=($!)

echo "Serving at http://127.0.0.1:8000/  (Ctrl-C stops the web server, the worker and the sandbox)"
# Stop everything as soon as any one of them exits.
wait -n
