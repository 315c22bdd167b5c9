#!/bin/sh
# Nightly audit wrapper for systemd and cron: runs `gpverify audit` from the checkout, appends to a log,
# and returns gpverify's exit code (0 passed, 1 failed, 2 could not run, 3 bad input).
#
# Settings (environment, or the file named by GPVERIFY_AUDIT_ENV, default /etc/gpverify/audit.env):
#   GPVERIFY_HOME         the gpverify checkout (default: the directory above this script)
#   GPVERIFY_AUDIT_ARGS   what to audit and how, e.g. "--inventory /etc/gpverify/inventory.yml --waivers
#                         /etc/gpverify/waivers.yml --wait 600" (default: "--lab", the simulated lab)
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
echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) gpverify audit $ARGS" >>"$REPORTS/audit.log"
# shellcheck disable=SC2086
"$HOME_DIR/.venv/bin/gpverify" audit $ARGS --reports "$REPORTS" </dev/null >>"$REPORTS/audit.log" 2>&1
code=$?
echo "=== exit $code" >>"$REPORTS/audit.log"
exit $code
