#!/bin/sh
# Nightly audit wrapper for systemd and cron: runs `gpverify audit` from a gpverify checkout or from a site
# folder `gpverify init` wrote (this script is in its deploy/), appends to a log, and returns gpverify's exit
# code (0 passed, 1 failed, 2 could not run, 3 bad input).
#
# Settings (environment, or the file named by GPVERIFY_AUDIT_ENV, default /etc/gpverify/audit.env):
#   GPVERIFY_HOME         the checkout or site folder (default: the directory above this script)
#   GPVERIFY              the gpverify program (default: GPVERIFY_HOME/.venv/bin/gpverify, else gpverify on PATH)
#   GPVERIFY_AUDIT_ARGS   what to audit and how, e.g. for a site folder "--inventory inventory.yml --waivers
#                         waivers.yml --checks checks --wait 600" (relative to GPVERIFY_HOME; default: "--lab",
#                         the simulated lab)
#   GPVERIFY_REPORTS      where reports and history.sqlite go (default: $GPVERIFY_HOME/reports)
#   plus the password variables the inventory names (password_env), never on a command line.
set -u
ENV_FILE=${GPVERIFY_AUDIT_ENV:-/etc/gpverify/audit.env}
# shellcheck disable=SC1090
[ -r "$ENV_FILE" ] && . "$ENV_FILE"
HOME_DIR=${GPVERIFY_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
REPORTS=${GPVERIFY_REPORTS:-$HOME_DIR/reports}
ARGS=${GPVERIFY_AUDIT_ARGS:---lab}
mkdir -p "$REPORTS"
cd "$HOME_DIR" || exit 3
if [ -z "${GPVERIFY:-}" ]; then
    if [ -x "$HOME_DIR/.venv/bin/gpverify" ]; then GPVERIFY=$HOME_DIR/.venv/bin/gpverify
    else GPVERIFY=$(command -v gpverify) || { echo "gpverify is not installed in $HOME_DIR/.venv or on PATH" >&2; exit 3; }
    fi
fi
echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) gpverify audit $ARGS" >>"$REPORTS/audit.log"
# shellcheck disable=SC2086
"$GPVERIFY" audit $ARGS --reports "$REPORTS" </dev/null >>"$REPORTS/audit.log" 2>&1
code=$?
echo "=== exit $code" >>"$REPORTS/audit.log"
exit $code
