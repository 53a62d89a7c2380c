# Sourced by bench/e2e_compare.sh and bench/e2e_workers.sh: a throw-away PostgreSQL database on
# 127.0.0.1:5432 (created as `postgres`, dropped when the calling script exits), migrated with
# `atendimento db upgrade` (the app then connects as atendimento_app, under RLS) and loaded with the
# demo data. Needs $BIN (the atendimento command) and a name prefix as $1.
pg_demo_db() {
  local name="$1_$$_$(date +%s)"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $name" >/dev/null
  # shellcheck disable=SC2064  # the name is fixed now, on purpose
  trap "psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS $name WITH (FORCE)' >/dev/null" EXIT
  export ATENDIMENTO_DATABASE_ADMIN_URL="postgresql://postgres@127.0.0.1/$name"
  export ATENDIMENTO_DATABASE_URL="postgresql://atendimento_app@127.0.0.1/$name"
  export ATENDIMENTO_JWT_SECRET=${ATENDIMENTO_JWT_SECRET:-bench-secret-bench-secret-bench-secret-0123}
  "$BIN" db upgrade >/dev/null
  "$BIN" demo >/dev/null
}
