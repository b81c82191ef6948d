#!/bin/sh
# Runs inside the image at build time (akinon.json "scripts.build"). Installs the app
# and its pinned-by-range dependencies; works on Alpine (the ACC runtime) and Debian.
set -eu
cd "$(dirname "$0")"
if command -v apk >/dev/null 2>&1; then
    # Compilers only matter when a dependency has no musl wheel for this Python.
    apk add --no-cache build-base libffi-dev
fi
python -m pip install --no-cache-dir --upgrade pip
python -m pip install --no-cache-dir .
