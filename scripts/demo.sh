#!/usr/bin/env bash
# Set up a virtual environment and run the main job on the embedded model, offline:
# helpful-only, the first 2 queries in both tiers, report written, its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh local
aflab run helpful_only --limit 2 --max-tokens 300 --log-dir runs/demo "$@"
