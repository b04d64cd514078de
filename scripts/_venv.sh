# Sourced by scripts/demo and scripts/test: a virtualenv in .venv with the project installed.
# On a fresh Debian, `python3 -m venv` needs the python3-venv package; install it when it is missing.
set -euo pipefail

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "callcenter-ari needs Python 3.11 or newer as $python" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
        sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        echo "installing python3-venv (Debian) ..." >&2
        $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    "$python" -m venv .venv
fi
# pip's output is shown only when the install fails (the build backend is chatty even with --quiet).
pip_log=$(mktemp)
if ! { .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip \
       && .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${EXTRAS:-}"; } >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    rm -f "$pip_log"
    echo "installing callcenter-ari into .venv failed (pip's output above)" >&2
    exit 1
fi
rm -f "$pip_log"
