#!/bin/sh
# Make sure the PostgreSQL server binaries (initdb, postgres) are on this machine, for
# plait-postgres's tests: they start their own throwaway cluster on 127.0.0.1.
# Debian only; needs root (CI runs as root with no stdin). Installs nothing when present.
set -eu

if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL server binaries are missing: run 'sudo apt-get install -y postgresql'" >&2
    exit 1
fi
# The tests make their own cluster: ask Debian not to create and start a default one.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/plait-no-main.conf
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql </dev/null
