#!/usr/bin/env bash
# counsel on Synapse's scale-out, on one fresh Debian machine, everything on loopback:
#   PostgreSQL (own cluster, C collation) + Redis (replication) + Synapse main process
#   + one generic worker (/sync and client reads) + nginx routing between them + two bots on
#   one PostgreSQL store (one active, one hot standby; docs/scaling.md).
# Then one end-to-end check: an E2E youth opens a direct chat and gets the bot's greeting;
# then the active bot is killed (SIGKILL), the standby takes over, and the check runs again.
# Stops everything it started unless --keep. Idempotent: a second run reuses the state dir.
# Its PostgreSQL cluster is named for the state dir (see PG_CLUSTER).
#
# Usage (as root, from anywhere):  deploy/scaleout.sh [--keep] [--stop] [--bench CMD]
#   --keep       leave all processes running (stop them later with --stop)
#   --stop       stop a deployment left running by --keep, then exit
#   --bench CMD  after the check, run CMD with COUNSEL_SCALEOUT_URL, COUNSEL_SCALEOUT_DATA
#                and COUNSEL_SCALEOUT_SERVER_NAME exported (the bench lives in bench/)
# Environment (defaults in brackets): COUNSEL_SCALEOUT_DIR [/var/lib/counsel-scaleout],
#   COUNSEL_SCALEOUT_SERVER_NAME [counsel.localhost], COUNSEL_SCALEOUT_PORT_PROXY [18080],
#   ..._PORT_MAIN [18008], ..._PORT_REPLICATION [19093], ..._PORT_WORKER [18083],
#   ..._PORT_REDIS [16379], ..._PORT_PG [15432].
#   The bots' $STATE/data/counsel.toml is written by the first run only (it keeps what an
#   administrator changed there): remove it after changing SERVER_NAME or PORT_PROXY.
#
# This is a smoke deployment: services run as root from the repository's .venv. A real
# install runs `counsel up` under deploy/counsel.service or deploy/compose.yaml.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$(realpath -m "${COUNSEL_SCALEOUT_DIR:-/var/lib/counsel-scaleout}")
SERVER_NAME=${COUNSEL_SCALEOUT_SERVER_NAME:-counsel.localhost}
HOST=127.0.0.1
PORT_PROXY=${COUNSEL_SCALEOUT_PORT_PROXY:-18080}
PORT_MAIN=${COUNSEL_SCALEOUT_PORT_MAIN:-18008}
PORT_REPLICATION=${COUNSEL_SCALEOUT_PORT_REPLICATION:-19093}
PORT_WORKER=${COUNSEL_SCALEOUT_PORT_WORKER:-18083}
PORT_REDIS=${COUNSEL_SCALEOUT_PORT_REDIS:-16379}
PORT_PG=${COUNSEL_SCALEOUT_PORT_PG:-15432}
# The cluster lives where Debian keeps clusters (the postgres user cannot enter $STATE), so it
# is named for the state directory: a new state directory gets a new database, never the
# Synapse database of another deployment, whose signing key and admin token it lacks.
PG_CLUSTER=counsel-$(printf '%s' "$STATE" | cksum | cut -d ' ' -f 1)
PG_ROLE=counsel
PG_DB=synapse
PG_BOT_DB=counsel
WORKER_NAME=sync1
VENV=$REPO/.venv
PY=$VENV/bin/python
DATA=$STATE/data
HS=$DATA/synapse
RUN=$STATE/run
LOGS=$STATE/logs
SECRETS=$STATE/secrets
PACKAGES=(postgresql redis-server nginx libpq-dev gcc)

KEEP=0
STOP_ONLY=0
BENCH=""
STARTED=0
TIMINGS=()
RUN_START=$EPOCHREALTIME

say() { printf '[scaleout %6.1fs] %s\n' "$(since "$RUN_START")" "$*"; }
die() { printf 'scaleout: %s\n' "$*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

PHASE=""
PHASE_START=""
phase() {
    finish_phase
    PHASE=$1
    PHASE_START=$EPOCHREALTIME
    say "$PHASE ..."
}
finish_phase() {
    if [[ -n $PHASE ]]; then
        TIMINGS+=("$PHASE|$(since "$PHASE_START")")
        PHASE=""
    fi
}

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

parse_args() {
    while (($#)); do
        case $1 in
            --keep) KEEP=1 ;;
            --stop) STOP_ONLY=1 ;;
            --bench) [[ $# -ge 2 ]] || die "--bench needs a command"; BENCH=$2; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option $1 (see --help)" ;;
        esac
        shift
    done
}

# ---------------------------------------------------------------- packages and venv

missing_packages() {
    local package
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
            || printf '%s\n' "$package"
    done
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) && return 0
    say "installing ${missing[*]}"
    # Debian starts a package's default service on install (PostgreSQL on 5432, Redis on
    # 6379, nginx on :80 on every address). We run our own instances on loopback, so keep
    # the defaults down, with Debian's own mechanism, for the duration of the install.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    (
        umask 022
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    ) >>"$LOGS/apt.log" 2>&1 || { ((made_policy)) && rm -f "$policy"; die "apt-get install failed (log: $LOGS/apt.log)"; }
    ((made_policy)) && rm -f "$policy"
    return 0
}

ensure_venv() {
    [[ -x $VENV/bin/counsel ]] || (umask 022; make -C "$REPO" venv)
    if ! "$PY" -c 'import psycopg2, txredisapi, hiredis' 2>/dev/null; then
        local version
        version=$("$PY" -c 'import importlib.metadata as m; print(m.version("matrix-synapse"))')
        # The same Synapse, only with its PostgreSQL and Redis extras added.
        (umask 022; "$VENV/bin/pip" install --quiet "matrix-synapse[postgres,redis]==$version") \
            >>"$LOGS/pip.log" 2>&1 || die "pip install failed (log: $LOGS/pip.log)"
    fi
}

# ---------------------------------------------------------------- helpers

secret_file() {
    # A random secret, made once, owner-only.
    local file=$1
    [[ -s $file ]] || head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$file"
    chmod 600 "$file"
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

require_free_port() {
    port_busy "$1" && die "port $1 on $HOST is in use; stop that program or set $2"
    return 0
}

alive() { [[ -s $1 ]] && kill -0 "$(<"$1")" 2>/dev/null; }

wait_healthy() {
    # $1 url, $2 pid file of the process that must stay up, $3 its log, $4 seconds
    local url=$1 pidfile=$2 log=$3 deadline=$((SECONDS + $4))
    while ((SECONDS < deadline)); do
        if [[ $("$PY" - "$url" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as answer:
        print(answer.status)
except Exception:
    print(0)
PY
) == 200 ]]; then
            return 0
        fi
        alive "$pidfile" || { tail -n 20 "$log" >&2; die "the process behind $url stopped (log: $log)"; }
        sleep 0.2
    done
    tail -n 20 "$log" >&2
    die "$url did not become healthy within $4 s (log: $log)"
}

start_background() {
    # $1 name (pid file run/$1.pid, log logs/$1.log), then the command
    local name=$1
    shift
    setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
    # Not a job of this shell: a bot killed on purpose (the failover) is not reported.
    disown
}

stop_pidfile() {
    local name=$1 pidfile=$RUN/$1.pid pid
    alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid=$(<"$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name did not stop in 20 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

pg_version() { find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1; }

pg_exists() { pg_lsclusters -h | awk -v c="$PG_CLUSTER" '$2 == c' | grep -q .; }

pg_online() { pg_lsclusters -h | awk -v c="$PG_CLUSTER" '$2 == c && $4 == "online"' | grep -q .; }

stop_all() {
    local name
    # Both bots at once: a standby told later would take over from the stopping active one.
    for name in bot bot2; do
        alive "$RUN/$name.pid" && kill -TERM "$(<"$RUN/$name.pid")" 2>/dev/null
    done
    # The reverse of the start order: nothing talks to a stopped server.
    for name in bot2 bot nginx worker main redis; do stop_pidfile "$name"; done
    if command -v pg_lsclusters >/dev/null && pg_online; then
        pg_ctlcluster "$(pg_version)" "$PG_CLUSTER" stop
    fi
}

on_exit() {
    local status=$?
    if ((STARTED)) && ! ((KEEP)); then
        say "stopping everything this run started"
        stop_all
    fi
    ((status == 0)) || printf 'scaleout: failed (exit %d); logs are in %s\n' "$status" "$LOGS" >&2
}

# ---------------------------------------------------------------- PostgreSQL and Redis

start_postgres() {
    local version
    version=$(pg_version)
    [[ -n $version ]] || die "PostgreSQL is not installed (apt-get install postgresql)"
    if pg_exists; then
        # The password is made before the cluster, so a cluster without it outlived its state.
        [[ -s $SECRETS/pg_password ]] || die "PostgreSQL cluster $PG_CLUSTER holds the database \
of an earlier deployment in $STATE whose secrets are gone; restore $STATE from a backup, \
or remove the cluster with: pg_dropcluster --stop $version $PG_CLUSTER"
    else
        secret_file "$SECRETS/pg_password"
        # Synapse refuses databases whose collation is not C; the whole cluster is made so.
        pg_createcluster "$version" "$PG_CLUSTER" --port "$PORT_PG" --locale C --encoding UTF8 >/dev/null
    fi
    # pg_conftool would write an address unquoted, which PostgreSQL cannot parse.
    printf "listen_addresses = '%s'\n" "$HOST" >"/etc/postgresql/$version/$PG_CLUSTER/conf.d/counsel.conf"
    chmod 644 "/etc/postgresql/$version/$PG_CLUSTER/conf.d/counsel.conf"
    pg_conftool "$version" "$PG_CLUSTER" set port "$PORT_PG"
    if ! pg_online; then
        require_free_port "$PORT_PG" COUNSEL_SCALEOUT_PORT_PG
        pg_ctlcluster "$version" "$PG_CLUSTER" start
    fi
    local password
    password=$(<"$SECRETS/pg_password")
    # The password goes through stdin, never onto a command line that ps could show.
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PORT_PG" -d postgres <<SQL
SELECT 'CREATE ROLE $PG_ROLE LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE') \gexec
ALTER ROLE $PG_ROLE WITH LOGIN PASSWORD '$password';
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_ROLE ENCODING ''UTF8'' LC_COLLATE ''C'' LC_CTYPE ''C'' TEMPLATE template0'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
SELECT 'CREATE DATABASE $PG_BOT_DB OWNER $PG_ROLE ENCODING ''UTF8'' TEMPLATE template0'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_BOT_DB') \gexec
SQL
    (umask 077; printf '%s:%s:%s:%s:%s\n' "$HOST" "$PORT_PG" "$PG_DB" "$PG_ROLE" "$password" \
        >"$SECRETS/pgpass")
}

start_redis() {
    require_free_port "$PORT_REDIS" COUNSEL_SCALEOUT_PORT_REDIS
    secret_file "$SECRETS/redis_password"
    mkdir -p "$STATE/redis"
    # Replication and cache only: nothing needs to survive a restart, so no snapshots.
    (umask 077; cat >"$STATE/redis/redis.conf" <<CONF
bind $HOST
port $PORT_REDIS
protected-mode yes
requirepass $(<"$SECRETS/redis_password")
dir $STATE/redis
save ""
appendonly no
daemonize no
CONF
)
    start_background redis redis-server "$STATE/redis/redis.conf"
    local deadline=$((SECONDS + 20))
    until REDISCLI_AUTH=$(<"$SECRETS/redis_password") redis-cli -h "$HOST" -p "$PORT_REDIS" ping 2>/dev/null \
        | grep -q PONG; do
        alive "$RUN/redis.pid" || die "redis stopped (log: $LOGS/redis.log)"
        ((SECONDS < deadline)) || die "redis did not answer within 20 s"
        sleep 0.1
    done
}

# ---------------------------------------------------------------- Synapse, nginx, bot

write_config() {
    (cd "$REPO" && "$PY" -m deploy.scaleout_config --state "$STATE" \
        --pgpass "$SECRETS/pgpass" --redis-password "$SECRETS/redis_password" \
        --pg-password "$SECRETS/pg_password" \
        --server-name "$SERVER_NAME" --proxy-port "$PORT_PROXY" --main-port "$PORT_MAIN" \
        --replication-port "$PORT_REPLICATION" --worker-port "$PORT_WORKER" \
        --redis-port "$PORT_REDIS" --pg-port "$PORT_PG")
    if [[ ! -s $HS/signing.key ]]; then
        "$PY" -m synapse.app.homeserver -c "$HS/homeserver.yaml" --generate-keys >/dev/null
    fi
}

start_synapse() {
    require_free_port "$PORT_MAIN" COUNSEL_SCALEOUT_PORT_MAIN
    require_free_port "$PORT_REPLICATION" COUNSEL_SCALEOUT_PORT_REPLICATION
    start_background main "$PY" -m synapse.app.homeserver -c "$HS/homeserver.yaml"
    # The first start creates the schema in PostgreSQL: allow for it.
    wait_healthy "http://$HOST:$PORT_MAIN/health" "$RUN/main.pid" "$LOGS/main.log" 180
}

start_worker() {
    require_free_port "$PORT_WORKER" COUNSEL_SCALEOUT_PORT_WORKER
    start_background worker "$PY" -m synapse.app.generic_worker \
        -c "$HS/homeserver.yaml" -c "$HS/$WORKER_NAME.yaml"
    wait_healthy "http://$HOST:$PORT_WORKER/health" "$RUN/worker.pid" "$LOGS/worker.log" 90
}

start_nginx() {
    require_free_port "$PORT_PROXY" COUNSEL_SCALEOUT_PORT_PROXY
    local conf=$STATE/nginx/nginx.conf
    nginx -t -q -c "$conf" -p "$STATE/nginx" -e "$LOGS/nginx-error.log"
    # nginx daemonizes itself and writes its own pid file (run/nginx.pid).
    nginx -c "$conf" -p "$STATE/nginx" -e "$LOGS/nginx-error.log"
    wait_healthy "http://$HOST:$PORT_PROXY/health" "$RUN/nginx.pid" "$LOGS/nginx-error.log" 20
}

provision() {
    (cd "$REPO" && "$PY" -m deploy.provision --url "http://$HOST:$PORT_PROXY" --data "$DATA" \
        --server-name "$SERVER_NAME")
}

start_bot() {
    # $1 name (bot, bot2): the same data directory (the nio device) and the same PostgreSQL
    # store; whichever wins the advisory lock acts, the other waits as a standby.
    start_background "$1" "$VENV/bin/counsel" bot --data "$DATA" --config "$DATA/counsel.toml"
}

wait_log() {
    # $1 name, $2 the log line that means ready, $3 seconds
    local name=$1 line=$2 deadline=$((SECONDS + $3))
    until grep -q "$line" "$LOGS/$name.log" 2>/dev/null; do
        alive "$RUN/$name.pid" || { tail -n 20 "$LOGS/$name.log" >&2; die "$name stopped (log: $LOGS/$name.log)"; }
        ((SECONDS < deadline)) || die "$name did not log '$line' within $3 s (log: $LOGS/$name.log)"
        sleep 0.1
    done
}

start_bots() {
    start_bot bot
    # Ready once it has cross-signed its device: it joins and answers nothing before that.
    wait_log bot 'cross-signing' 90
    start_bot bot2
    wait_log bot2 'waiting as a standby' 60
}

failover() {
    # Kill the active bot as a crash would; the standby must take over and answer.
    local killed_at
    kill -KILL "$(<"$RUN/bot.pid")"
    killed_at=$EPOCHREALTIME
    wait_log bot2 'now the active one' 15
    say "standby active $(since "$killed_at") s after the kill"
    wait_log bot2 'cross-signing' 30
    # The killed one comes back as the new standby, as its supervisor would restart it.
    start_bot bot
    wait_log bot 'waiting as a standby' 60
}

e2e_check() {
    (cd "$REPO" && "$PY" -m deploy.e2e_check --url "http://$HOST:$PORT_PROXY" \
        --accounts "$DATA/bridge/accounts.json" --store "$STATE/youth-store")
}

rotate_logs() {
    # One run's logs, so readiness checks never see an earlier run's lines.
    local file
    for file in "$LOGS"/*.log; do
        [[ -e $file ]] && mv -f "$file" "$file.previous"
    done
    return 0
}

report_memory() {
    local name pid rss
    for name in main worker bot bot2 redis; do
        alive "$RUN/$name.pid" || continue
        pid=$(<"$RUN/$name.pid")
        rss=$(ps -o rss= -p "$pid" | tr -d ' ')
        printf '  %-8s RSS %6.1f MB\n' "$name" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
    done
}

report_timings() {
    local entry
    printf '\nTimings (seconds):\n'
    for entry in "${TIMINGS[@]}"; do
        printf '  %-38s %6s\n' "${entry%%|*}" "${entry##*|}"
    done
    printf '  %-38s %6s\n' "total" "$(since "$RUN_START")"
}

main() {
    parse_args "$@"
    ((EUID == 0)) || die "run as root (it installs Debian packages and starts PostgreSQL)"
    command -v apt-get >/dev/null || die "this script needs Debian (apt-get)"
    umask 077
    mkdir -p "$STATE" "$RUN" "$LOGS" "$SECRETS"
    chmod 700 "$STATE" "$SECRETS"
    trap on_exit EXIT

    # A deployment left running by an earlier --keep is ours: stop it before starting anew.
    if ((STOP_ONLY)); then
        stop_all
        say "stopped"
        return 0
    fi
    stop_all
    rotate_logs

    phase "Debian packages"; install_packages
    phase "venv (Synapse postgres+redis extras)"; ensure_venv
    STARTED=1
    phase "PostgreSQL (cluster, role, database)"; start_postgres
    phase "Redis"; start_redis
    phase "configuration"; write_config
    phase "Synapse main process -> /health"; start_synapse
    phase "generic worker -> /health"; start_worker
    phase "nginx -> /health"; start_nginx
    phase "provision accounts"; provision
    phase "bots start -> one active, one standby"; start_bots
    phase "E2E check (youth -> greeting)"; e2e_check
    phase "SIGKILL the active bot -> standby takes over"; failover
    phase "E2E check after the failover"; e2e_check
    if [[ -n $BENCH ]]; then
        phase "bench"
        (cd "$REPO" && COUNSEL_SCALEOUT_URL="http://$HOST:$PORT_PROXY" COUNSEL_SCALEOUT_DATA="$DATA" \
            COUNSEL_SCALEOUT_SERVER_NAME="$SERVER_NAME" bash -c "$BENCH")
    fi
    finish_phase
    printf '\nMemory after the check:\n'
    report_memory
    report_timings
    if ((KEEP)); then
        printf '\nStill running (stop with %s --stop):\n' "${BASH_SOURCE[0]}"
        printf '  Homeserver (nginx):  http://%s:%s\n  Data directory:      %s\n' \
            "$HOST" "$PORT_PROXY" "$DATA"
        printf '  PostgreSQL cluster:  %s (pg_dropcluster --stop %s %s removes it)\n' \
            "$PG_CLUSTER" "$(pg_version)" "$PG_CLUSTER"
    fi
}

# Sourced (by the tests), it only defines; run, it deploys.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
