#!/usr/bin/env bash
# Installs Trino 476 (the engine Athena v3 is built on) for the test stack: the server core
# tarball plus the Hive connector plugin, both from Maven Central, checked against pinned SHA-256
# sums, unpacked once into ~/.cache/clickstream-lake/trino-server-476/. 476 is the newest release
# Maven Central has (later ones are not published there). Prints the install folder on stdout.
# Idempotent: when the install is complete it returns at once, without touching the network.
set -euo pipefail

TRINO_VERSION="476"
# sha256 of the artifacts as Maven Central serves them (its .sha1 files agree: 6bae2db4…, 7b2a4b64…).
CORE_SHA256="0f388f9967c177ae70a47c099082fc95387f0c3cb96d8000d1d41fc3a5223158"
HIVE_SHA256="611bacdb07d9f3cf7b9d47f97ecc76fa2e7ff8bfe8a9728c3d06adc1bfb8662e"
MAVEN_CENTRAL="${MAVEN_CENTRAL_URL:-https://repo.maven.apache.org/maven2}"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/clickstream-lake"
DEST="$CACHE_ROOT/trino-server-$TRINO_VERSION"

if [ -f "$DEST/.installed" ]; then
  echo "setup-trino: Trino $TRINO_VERSION already in $DEST" >&2
  echo "$DEST"
  exit 0
fi

# Downloads one artifact into the cache's downloads/ folder (kept, so a failed unpack re-runs offline).
fetch() {
  local path="$1" sha="$2" out="$CACHE_ROOT/downloads/$(basename "$1")"
  mkdir -p "$CACHE_ROOT/downloads"
  if [ -f "$out" ] && echo "$sha  $out" | sha256sum -c --quiet - 2>/dev/null; then
    echo "$out"
    return
  fi
  echo "setup-trino: downloading $(basename "$path") from Maven Central" >&2
  curl -fsSL --retry 3 -o "$out.part" "$MAVEN_CENTRAL/$path"
  if ! echo "$sha  $out.part" | sha256sum -c --quiet - >&2; then
    rm -f "$out.part"
    echo "setup-trino: $(basename "$path") does not match its pinned sha256 $sha; refusing to install it" >&2
    exit 1
  fi
  mv "$out.part" "$out"
  echo "$out"
}

core="$(fetch "io/trino/trino-server-core/$TRINO_VERSION/trino-server-core-$TRINO_VERSION.tar.gz" "$CORE_SHA256")"
hive="$(fetch "io/trino/trino-hive/$TRINO_VERSION/trino-hive-$TRINO_VERSION.zip" "$HIVE_SHA256")"

echo "setup-trino: unpacking into $DEST" >&2
tmp="$(mktemp -d "$CACHE_ROOT/trino-unpack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$core" -C "$tmp"
unzip -q "$hive" -d "$tmp/hive"
mkdir -p "$tmp/trino-server-core-$TRINO_VERSION/plugin"
mv "$tmp/hive/trino-hive-$TRINO_VERSION" "$tmp/trino-server-core-$TRINO_VERSION/plugin/hive"
rm -rf "$DEST"
mv "$tmp/trino-server-core-$TRINO_VERSION" "$DEST"
touch "$DEST/.installed"
# The downloads are only needed until the install is complete.
rm -f "$core" "$hive"
echo "setup-trino: Trino $TRINO_VERSION ready in $DEST" >&2
echo "$DEST"
