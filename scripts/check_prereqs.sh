#!/usr/bin/env bash
# One-line messages for the two things a fresh machine must bring: Python 3.11+ and Java 17+.
py="${PYTHON:-python3}"
if ! command -v "$py" >/dev/null 2>&1 || ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11, or install python3.11 and python3.11-venv)" >&2
  exit 1
fi
if ! command -v java >/dev/null 2>&1; then
  echo "error: Java 17 or newer is required for Spark (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)" >&2
  exit 1
fi
major=$(java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}')
if [ -z "$major" ] || [ "$major" -lt 17 ]; then
  echo "error: Java 17 or newer is required for Spark, found ${major:-none} (apt-get install openjdk-17-jre-headless)" >&2
  exit 1
fi
