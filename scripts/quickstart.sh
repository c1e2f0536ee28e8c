#!/usr/bin/env bash
# The quick start: set everything up, then start the bundled demo target, a controller and
# two local agents, run the chat-load scenario over 6 sessions and print the summary.
# Results go to ./results/<run-id>/ (and to MySQL when PROBE_DB_URL is set).
# Everything stays on loopback: the controller makes a master secret for this run alone and
# hands each local agent its own token (derived from it) in its environment, with the demo's
# hosts and credential variables allowed. Remote agents need TLS and their own tokens: see
# the README's SECURITY section and deploy/README.md.
# Extra arguments are passed to `controller run`, e.g. `bash scripts/quickstart.sh --total 20`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node packages/controller/dist/cli.js run --scenario chat-load --total 6 --local-agents 2 "$@"
