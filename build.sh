#!/bin/sh
# The ACC build step (akinon.json "scripts.build"), also run by CI in a throwaway venv.
# Installs exactly the locked runtime distributions, wheels only and hash-checked, then the
# app itself (with the integrator's channels/) without resolving anything again. Same
# result on Alpine CPython 3.12 (ACC) and Debian CPython 3.11 (CI); nothing is compiled.
# Regenerate the locks with `python scripts/lock.py` after changing pyproject.toml.
set -eu
cd "$(dirname "$0")"
pip_install() {
    python -m pip install --no-cache-dir --disable-pip-version-check "$@"
}
pip_install --only-binary=:all: --require-hashes --no-deps -r requirements/runtime.lock
pip_install --only-binary=:all: --require-hashes --no-deps -r requirements/build.lock
pip_install --no-deps --no-build-isolation .
python -m pip check
