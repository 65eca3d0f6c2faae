#!/usr/bin/env bash
# Serve a scikit-learn pipeline fitted on Adult's raw columns with MLServer's scikit-learn runtime
# over the Open Inference Protocol v2 (a peer server msmult did not write), then steal from it:
#
#   pip install -e ".[mlserver]"
#   scripts/serve_mlserver.sh 8080 &
#   msmult run victim=remote victim.url=http://127.0.0.1:8080 victim.output=predict_proba
#
# Arguments: [PORT] [FOLDER]. MLSERVER (default: mlserver) and PYTHON (default: python) name the
# programs, e.g. an MLServer installed in its own virtual environment.
set -euo pipefail
port="${1:-8080}"
folder="${2:-$(mktemp -d)}"
"${PYTHON:-python}" "$(dirname "$0")/mlserver_victim.py" "$folder" --port "$port"
exec "${MLSERVER:-mlserver}" start "$folder"
