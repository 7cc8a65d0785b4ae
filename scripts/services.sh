#!/usr/bin/env bash
# Make sure the services the tests use are up: PostgreSQL (127.0.0.1:5432, trust auth, db `test`) and
# Redis. On machines that already run them this does nothing; elsewhere it installs them from apt when
# it can (root) and starts them. Tests that need a missing service skip with a reason (fail under CI=true).
set -uo pipefail
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    v=$(ls /etc/postgresql 2>/dev/null | head -n1)
    if [ -n "$v" ]; then
      conf=/etc/postgresql/$v/main/pg_hba.conf
      grep -q "^host all all 127.0.0.1/32 trust" "$conf" 2>/dev/null || \
        sed -i '1i host all all 127.0.0.1/32 trust' "$conf" 2>/dev/null || true
      pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true
      sleep 2
      su postgres -c "psql -tc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 || createdb test" 2>/dev/null || true
    fi
  fi
fi
if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1 || true
fi
pg_up && echo "postgres: up" >&2 || echo "postgres: not available" >&2
exit 0
