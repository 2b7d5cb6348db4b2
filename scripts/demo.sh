#!/usr/bin/env bash
# Set up a virtual environment and run the main job, offline: the two shipped organisms
# (smollm2-af, trained to fake alignment, and its matched control smollm2-control) on
# held-out animal-welfare queries, both tiers, judged by the local classifiers (no grader
# model); one report with both, its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh local,classifiers
aflab organisms eval smollm2-af smollm2-control --limit 20 --out runs/demo "$@"
