#!/usr/bin/env bash
# The test suite: linters, the workflow's own checks, then pytest (unit tests, a real tiny
# end-to-end Snakemake run, and the SLURM run). Expects scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff" && ruff check . && ruff format --check .
echo "== snakefmt" && snakefmt --check Snakefile workflow/
echo "== snakemake --lint"
lint=$(snakemake --lint 2>&1) || { echo "$lint"; exit 1; }
if grep -qE "Lints for (rule|snakefile)" <<<"$lint"; then echo "$lint"; exit 1; fi
echo "no lints"
echo "== pytest" && python -m pytest "$@"
