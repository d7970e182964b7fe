#!/usr/bin/env bash
# Fetches Apache Kafka's broker jars (org.apache.kafka:kafka_2.13 and its
# runtime dependencies) from Maven Central into a cache outside the repo,
# for the Kafka integration tests of detect/kafka. Prints the directory.
#
#   scripts/kafka-jars.sh            # KAFKA_VERSION=4.1.1 by default
#   MINERWATCH_KAFKA_JARS=$(scripts/kafka-jars.sh) go test ./detect/kafka/
#
# Idempotent: a directory that already holds kafka_2.13-VERSION.jar is kept.
set -euo pipefail
version="${KAFKA_VERSION:-4.1.1}"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/minerwatch/kafka-$version"
if ls "$dir"/kafka_2.13-"$version".jar "$dir"/log4j-slf4j-impl-*.jar >/dev/null 2>&1; then
  echo "$dir"; exit 0
fi
command -v mvn >/dev/null || { echo "kafka-jars: mvn not found (apt-get install maven)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A throw-away pom whose only job is to name the broker as a dependency, so
# that Maven resolves the same runtime classpath the Kafka distribution ships.
cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>minerwatch</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$version</version>
    </dependency>
    <!-- The distribution's logging backend (Kafka logs through SLF4J 1.x):
         without it the broker is mute and a failing test shows no cause. -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>2.24.3</version>
    </dependency>
  </dependencies>
</project>
POM
mkdir -p "$dir.tmp"
mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dir.tmp" >&2
rm -rf "$dir"; mv "$dir.tmp" "$dir"
echo "$dir"
