#!/usr/bin/env bash
# Create <repo>/.venv-mongoeco: a Python 3.13 venv holding the mongoeco wire server
# (a MongoDB stand-in used by the storage tests). Idempotent. If no Python 3.13 is
# found it says so and exits 0 without creating anything: those tests then skip.
set -euo pipefail

MONGOECO_VERSION="4.11.0"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-mongoeco"

# Prints the first candidate that really runs as Python 3.13 (a pyenv shim on PATH
# may exist yet fail when 3.13 is not the selected version).
find_python313() {
    local candidate
    for candidate in "$(command -v python3.13 || true)" /root/.pyenv/versions/3.13*/bin/python3.13; do
        [[ -n "$candidate" && -x "$candidate" ]] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# Prints the installed mongoeco version, or nothing; the wire server also needs the
# `bson` package that the [wire] extra brings (pymongo), so that is checked too.
installed_version() {
    "$VENV/bin/python" -c 'import bson, mongoeco.wire.proxy, importlib.metadata as m; print(m.version("mongoeco"))' \
        2>/dev/null || true
}

if [[ -x "$VENV/bin/python" && "$(installed_version)" == "$MONGOECO_VERSION" ]]; then
    echo "mongoeco-venv: mongoeco $MONGOECO_VERSION already in $VENV"
    exit 0
fi

if ! PY313="$(find_python313)"; then
    echo "mongoeco-venv: no working Python 3.13 found (python3.13 on PATH or" \
         "/root/.pyenv/versions/3.13*/bin/python3.13); skipping. Wire-server tests will skip." >&2
    exit 0
fi

echo "mongoeco-venv: creating $VENV with $PY313"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PY313" -m venv "$VENV"
fi
# The [wire] extra pulls pymongo: without its `bson` the wire server cannot decode requests.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mongoeco[wire]==$MONGOECO_VERSION"
echo "mongoeco-venv: installed mongoeco $(installed_version) into $VENV"
