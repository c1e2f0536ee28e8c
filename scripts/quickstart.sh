#!/usr/bin/env bash
# The quick start: set everything up, then start the bundled demo target, a controller and
# two local agents, run the chat-load scenario over 6 sessions, 5 s apart, and print the summary.
# Results go to ./results/<run-id>/ (and to MySQL when PROBE_DB_URL is set).
# Everything stays on loopback: the controller makes a master secret for this run alone and
# hands each local agent its own token (derived from it) in its environment, with the demo's
# hosts and credential variables allowed. Remote agents need TLS and their own tokens: see
# the README's SECURITY section and deploy/README.md.
# Extra arguments are passed to `controller run`, e.g. `bash scripts/quickstart.sh --total 20`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Sessions 5 s apart (the default is 1 s): the agents share this machine with the controller and
# the demo target, and a session's two page loads take both cores of a 2-core machine. At 1 s
# apart up to 3 ran at once and 72 % of the samples were flagged saturated; at 3 s apart two
# sessions' page loads still met now and then (5 % flagged); at 5 s a session is over before the
# next starts. Given --total or --ramp-up, the run's own default applies (and its summary says
# what to change if it saturates).
ramp=(--ramp-up 30s)
for a in "$@"; do
  case "$a" in --ramp-up | --ramp-up=* | --rampUp | --rampUp=* | --total | --total=*) ramp=() ;; esac
done
exec node packages/controller/dist/cli.js run --scenario chat-load --total 6 --local-agents 2 "${ramp[@]}" "$@"
