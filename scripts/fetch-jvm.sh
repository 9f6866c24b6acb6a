#!/usr/bin/env bash
# Fetches the pinned Kafka broker, Kafka Connect and Debezium PostgreSQL connector jars from
# Maven Central into the cache (outside the checkout), and the Debezium SQL Server plugin of
# the compose stack's Connect image, so that its connector file is validated by the plugin
# itself in the tests. Maven checks every artifact's published checksum (--strict-checksums
# fails on a mismatch); the list of jars and their SHA-256 is kept beside them so a later
# run can tell a damaged cache from a good one.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${HOSPITAL_STACK_CACHE:-$HOME/.cache/hospital-stack}
pom=$here/devstack/maven/pom.xml

fetch() {  # fetch PROFILE DEST [POM]
  local profile=$1 dest=$cache/$2 pom=${3:-$pom}
  local stamp_key
  stamp_key=$(sha256sum "$pom" | cut -c1-16)
  if [ -f "$dest/.complete-$stamp_key" ] && (cd "$dest" && sha256sum --quiet -c SHA256SUMS); then
    return 0
  fi
  echo "fetching ${profile:-$2} jars into $dest"
  rm -rf "$dest.tmp"
  mvn -q -B --strict-checksums -f "$pom" ${profile:+-P"$profile"} dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dest.tmp"
  (cd "$dest.tmp" && sha256sum -- *.jar > SHA256SUMS)
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  touch "$dest/.complete-$stamp_key"
}

mkdir -p "$cache"
fetch kafka kafka-libs
fetch debezium-postgres debezium-postgres
fetch "" debezium-sqlserver "$here/docker/connect/pom.xml"
echo "JVM artifacts ready in $cache"
