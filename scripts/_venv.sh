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
    echo "creating the virtualenv .venv ..." >&2
    "$python" -m venv .venv
fi
# A line per package pip fetches, so that the first run (a minute or two) is not a blank screen; pip's whole
# output is shown only when the install fails (the build backend is chatty even with --quiet).
echo "installing callcenter-ari${EXTRAS:-} and its dependencies into .venv ..." >&2
pip_log=$(mktemp)
progress() { awk '/^Collecting /{ print "  " $2; fflush() }' >&2; }
if ! { .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off --upgrade pip \
       && .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -e ".${EXTRAS:-}"; } \
       2>&1 | tee "$pip_log" | progress; then
    cat "$pip_log" >&2
    rm -f "$pip_log"
    echo "installing callcenter-ari into .venv failed (pip's output above)" >&2
    exit 1
fi
rm -f "$pip_log"
echo "installed" >&2
