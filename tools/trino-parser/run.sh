#!/usr/bin/env bash
# Builds (once per source change) and runs the Trino-parser check over sql/athena/.
# The compiled class and the resolved classpath are cached under ~/.cache/clickstream-lake/,
# keyed by a hash of pom.xml and the Java source; Maven keeps the jars in ~/.m2.
# `run.sh --compile-only` builds (or finds) the cached class and prints its folder, checking nothing
# (scripts/provision-test-stack.sh uses it, so a statement being edited cannot fail provisioning).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
COMPILE_ONLY=""
if [ "${1:-}" = "--compile-only" ]; then COMPILE_ONLY=1; shift; fi
SQL_DIR="${1:-$ROOT/sql/athena}"
SRC="$HERE/src/main/java/lake/tools/ParseAthenaSql.java"

if [ -n "${JAVA_HOME:-}" ]; then JAVA="$JAVA_HOME/bin/java"; JAVAC="$JAVA_HOME/bin/javac"; else JAVA=java; JAVAC=javac; fi

KEY="$(cat "$HERE/pom.xml" "$SRC" | sha256sum | cut -c1-16)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/clickstream-lake/trino-parser/$KEY"

if [ ! -f "$CACHE/ready" ]; then
  mkdir -p "$CACHE/classes"
  echo "trino-parser: resolving io.trino:trino-parser and compiling into $CACHE" >&2
  mvn -q -B -f "$HERE/pom.xml" dependency:build-classpath -Dmdep.outputFile="$CACHE/classpath.txt" >&2
  "$JAVAC" -d "$CACHE/classes" -cp "$(cat "$CACHE/classpath.txt")" "$SRC"
  touch "$CACHE/ready"
fi
if [ -n "$COMPILE_ONLY" ]; then echo "$CACHE"; exit 0; fi

exec "$JAVA" -cp "$CACHE/classes:$(cat "$CACHE/classpath.txt")" lake.tools.ParseAthenaSql "$SQL_DIR"
