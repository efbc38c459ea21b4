#!/usr/bin/env bash
# Run the whole suite; under Xvfb when there is no display. Exit 5 (no tests) is a failure.
set -u
cd "$(dirname "$0")/.."
BIN=.venv/bin
"$BIN/ruff" check . || exit 1
run() { "$BIN/pytest" "$@"; }
if [ -z "${DISPLAY:-}" ]; then
  if command -v xvfb-run >/dev/null 2>&1; then
    xvfb-run -a -s "-screen 0 1280x1024x24" "$BIN/pytest" "$@"; rc=$?
  else
    echo "run-tests: no display and no xvfb-run (apt-get install xvfb); screen tests will be skipped"
    QT_QPA_PLATFORM=offscreen run "$@"; rc=$?
  fi
else
  run "$@"; rc=$?
fi
if [ "$rc" = 5 ]; then echo "run-tests: pytest collected no tests"; exit 1; fi
exit "$rc"
