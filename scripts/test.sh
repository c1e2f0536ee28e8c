#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian/Ubuntu machine with Node.js 20 and root:
# sets up the workspace (scripts/setup.sh), makes sure MariaDB is installed and running
# with a test user, then builds and runs every test on real Chromium, Socket.IO and MariaDB.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/test-services.sh
export PROBE_TEST_DB_URL="${PROBE_TEST_DB_URL:-mysql://userprobe_test:userprobe_test@127.0.0.1:3306/userprobe_test}"
pnpm test
