#!/usr/bin/env bash
# Mutation testing (mutmut 3, `pip install -e .[dev]`) of msmult/metrics, msmult/rashomon and
# msmult/oracle with every test not marked e2e (the pattern in pyproject.toml [tool.mutmut]).
# Runs in a temporary copy of the checkout (mutmut writes a mutants/ folder), one package at a
# time, and prints each package's killed share and wall time; the goal is at least 90 %.
# Usage: scripts/mutation.sh [msmult/metrics/ msmult/rashomon/ msmult/oracle/]
#        MUTATION_DIR=/tmp/mut scripts/mutation.sh msmult/metrics/   (keep the copy to inspect)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
packages=("${@:-msmult/metrics/ msmult/rashomon/ msmult/oracle/}")
read -r -a packages <<<"${packages[*]}"
work=${MUTATION_DIR:-$(mktemp -d)}
for package in "${packages[@]}"; do
  copy="$work/$(basename "$package")"
  rm -rf "$copy" && mkdir -p "$copy"
  (cd "$root" && tar --exclude=__pycache__ -cf - msmult conf data scripts tests pyproject.toml) | tar -xf - -C "$copy"
  # only this package's files are mutated
  sed -i "s|^source_paths = .*|source_paths = [\"$package\"]|" "$copy/pyproject.toml"
  start=$SECONDS
  (cd "$copy" && python -m mutmut run --max-children "${MUTATION_CHILDREN:-2}" >/dev/null 2>&1 || true
   python -m mutmut export-cicd-stats >/dev/null 2>&1
   python - "$package" <<'PY'
import json, sys
stats = json.load(open("mutants/mutmut-cicd-stats.json"))
killed, survived = stats["killed"], stats["survived"]
other = {k: v for k, v in stats.items() if k not in ("killed", "survived", "total") and v}
print(f"{sys.argv[1]}: {killed} killed / {killed + survived} mutants tested "
      f"({100 * killed / max(1, killed + survived):.1f} %), other: {other}")
PY
   python -m mutmut results 2>/dev/null | grep -v ": killed" | sed "s|^|  survivor |" || true)
  echo "$package: $((SECONDS - start)) s wall"
done
