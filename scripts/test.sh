#!/usr/bin/env bash
# Set up a virtual environment and run every test, the slow embedded-model ones included.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh local,classifiers,train,test
pytest -m "slow or not slow" -q
