#!/usr/bin/env bash
# The distributed stack on this machine, without Docker: Kafka (infra/kafka/kafka.sh, or a broker
# that already answers), the machine's PostgreSQL, and each service as its own Node process.
#
#   stack.sh up [--replicas routing=2,sla=2] [--no-sample]
#                     start what is not running, wait until every process answers /readyz
#   stack.sh down     SIGTERM every process (then the broker, if `up` started it), wait, report
#   stack.sh status   each process with its pid, URL and readiness (exit 0 all ready, 1 some not, 3 none)
#   stack.sh logs [name]   follow the logs (all, or e.g. grid-routing-2)
#
# Replicas: `--replicas` takes service=count pairs (intake, routing|grid-routing, sla|sla-timer,
# notification), 1-9 each. Replica n of a service listens on its base port + 10*(n-1): intake 8080,
# grid-routing 8081, sla-timer 8082, notification 8083; grid-routing-2 8091, sla-timer-2 8092, …
# Logs and pid files: infra/local/.run/<service>-<n>.{log,pid,port}.
#
# Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/griddispatch, database
# created if absent), KAFKA_BROKERS (default: kafka.sh's broker on 127.0.0.1:9092), GD_TOPIC_PREFIX,
# GD_API_KEYS and GD_KEY_PEPPER (default: an admin key `local` and a pepper generated at the first
# `up` and kept in infra/local/.run/ — the service processes have no built-in key), STACK_HOST (default 127.0.0.1), STACK_PORT_BASE
# (default 8080), STACK_START_TIMEOUT / STACK_STOP_TIMEOUT (seconds, default 180 / 40). Everything
# else (LOG_LEVEL, GD_SLA_POLICY, GD_TIME_ZONE, OTEL_*, NOTIFY_*) is passed to the services as is.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUN="$HERE/.run"
KAFKA_SH="$ROOT/infra/kafka/kafka.sh"
HOST="${STACK_HOST:-127.0.0.1}"
PORT_BASE="${STACK_PORT_BASE:-8080}"
START_TIMEOUT="${STACK_START_TIMEOUT:-180}"
STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-40}"
DEFAULT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/griddispatch"
export GD_TOPIC_PREFIX="${GD_TOPIC_PREFIX:-griddispatch.}"

# The services refuse to start without keys and a pepper: a local stack generates its own once
# (random, readable only by this user) instead of a well-known key on a listening port.
local_secret() {
  local file="$RUN/$1"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$RUN"
    (umask 077 && node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64url'))" >"$file")
  fi
  cat "$file"
}
if [[ -z "${GD_API_KEYS:-}" ]]; then GD_API_KEYS="local:gdk_$(local_secret api-key):admin"; fi
if [[ -z "${GD_KEY_PEPPER:-}" ]]; then GD_KEY_PEPPER="$(local_secret key-pepper)"; fi
export GD_API_KEYS GD_KEY_PEPPER
# /docs only where nobody else can reach it, as the embedded start does.
if [[ "$HOST" == 127.0.0.1 ]]; then export GD_DOCS="${GD_DOCS:-1}"; fi

# Start order follows the events (consumers before producers); stop order is the reverse.
SERVICES=(notification sla-timer grid-routing intake)

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

port_offset() {
  case "$1" in
    intake) echo 0 ;;
    grid-routing) echo 1 ;;
    sla-timer) echo 2 ;;
    notification) echo 3 ;;
  esac
}

what_it_serves() {
  case "$1" in
    intake) echo "public API: /v1/requests, /v1/work-orders, /open311/v2, /board, /docs" ;;
    grid-routing) echo "/v1/grids, /v1/routing/unroutable, /docs" ;;
    sla-timer) echo "/readyz, /metrics" ;;
    notification) echo "/v1/subscriptions, /v1/deliveries, /docs" ;;
  esac
}

port_of() { echo $((PORT_BASE + $(port_offset "$1") + 10 * ($2 - 1))); }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# The pid of instance NAME (e.g. grid-routing-2) if it still runs this stack's service (a pid file
# alone could name a recycled pid: check the command line too).
managed_pid() {
  local name="$1" service="${1%-*}" pid
  [[ -f "$RUN/$name.pid" ]] || return 1
  pid="$(cat "$RUN/$name.pid")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "services/$service/src/main.ts"; then
    echo "$pid"
    return 0
  fi
  return 1
}

# Every instance with a pid file, in start order (name-1, name-2, …).
known_instances() {
  local service f
  for service in "${SERVICES[@]}"; do
    for f in "$RUN/$service"-[0-9].pid; do
      [[ -e "$f" ]] && basename "$f" .pid
    done
  done
  return 0
}

readyz() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/readyz" 2>/dev/null || true; }

# --- PostgreSQL -------------------------------------------------------------------------------
database_url() {
  if [[ -n "${DATABASE_URL:-}" ]]; then
    echo "$DATABASE_URL"
  else
    echo "$DEFAULT_DATABASE_URL"
  fi
}

ensure_database() {
  local url
  url="$(database_url)"
  if [[ -n "${DATABASE_URL:-}" ]]; then
    psql "$url" -Atqc 'SELECT 1' >/dev/null 2>&1 || die "cannot connect to DATABASE_URL ($url)"
    say "PostgreSQL: $url"
    return 0
  fi
  if ! port_open 127.0.0.1 5432; then
    local cluster
    cluster="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$cluster" ]] || die "no PostgreSQL answers on 127.0.0.1:5432 and none is installed; set DATABASE_URL"
    say "PostgreSQL $cluster is not running; starting it (pg_ctlcluster)"
    pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || die "could not start PostgreSQL $cluster; set DATABASE_URL"
  fi
  if [[ "$(psql -h 127.0.0.1 -U postgres -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'griddispatch'")" != 1 ]]; then
    createdb -h 127.0.0.1 -U postgres griddispatch || die "could not create database griddispatch"
    say "PostgreSQL: created database griddispatch"
  fi
  say "PostgreSQL: $url"
}

# --- Kafka ------------------------------------------------------------------------------------
ensure_kafka() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    say "Kafka: $KAFKA_BROKERS (KAFKA_BROKERS; topics are created by the services)"
    return 0
  fi
  export KAFKA_BROKERS=127.0.0.1:9092
  local started_here=0
  port_open 127.0.0.1 9092 || started_here=1
  bash "$KAFKA_SH" up | sed 's/^/  /'
  # `down` stops the broker only when this `up` started it.
  if ((started_here)) && bash "$KAFKA_SH" status 2>/dev/null | grep -q 'pid'; then touch "$RUN/kafka.started"; fi
  say "Kafka: $KAFKA_BROKERS"
}

# --- up ---------------------------------------------------------------------------------------
declare -A REPLICAS=([intake]=1 [grid-routing]=1 [sla-timer]=1 [notification]=1)

parse_replicas() {
  local spec="$1" pair service count
  IFS=',' read -ra pairs <<<"$spec"
  for pair in "${pairs[@]}"; do
    [[ "$pair" =~ ^([a-z-]+)=([0-9]+)$ ]] || die "--replicas: expected service=count, got '$pair'"
    count="${BASH_REMATCH[2]}"
    case "${BASH_REMATCH[1]}" in
      intake) service=intake ;;
      routing | grid-routing) service=grid-routing ;;
      sla | sla-timer) service=sla-timer ;;
      notification | notify) service=notification ;;
      *) die "--replicas: unknown service '${BASH_REMATCH[1]}' (intake, routing, sla, notification)" ;;
    esac
    ((count >= 1 && count <= 9)) || die "--replicas: $service=$count (1 to 9)"
    REPLICAS[$service]="$count"
  done
}

start_instance() {
  local service="$1" n="$2" name="$1-$2" port pid
  port="$(port_of "$service" "$n")"
  if pid="$(managed_pid "$name")"; then
    say "$name already running (pid $pid, port $port)"
    return 0
  fi
  port_open 127.0.0.1 "$port" && die "port $port for $name is taken by another program (set STACK_PORT_BASE)"
  local sample=0
  [[ "$service" == grid-routing && "$LOAD_SAMPLE" == 1 ]] && sample=1
  (
    cd "$ROOT"
    DATABASE_URL="$(database_url)" PORT="$port" HOST="$HOST" GD_SAMPLE_DATA="$sample" \
      nohup setsid node --import tsx "services/$service/src/main.ts" >"$RUN/$name.log" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN/$name.pid"
  )
  echo "$port" >"$RUN/$name.port"
  STARTED+=("$name")
  say "started $name (pid $(cat "$RUN/$name.pid"), port $port, log ${RUN#"$ROOT"/}/$name.log)"
}

wait_ready() {
  local started=$SECONDS next_report=$((SECONDS + 5)) name pid pending
  while true; do
    pending=()
    for name in "${WANTED[@]}"; do
      if ! pid="$(managed_pid "$name")"; then
        printf '\n--- last lines of %s ---\n' "${RUN#"$ROOT"/}/$name.log" >&2
        tail -n 40 "$RUN/$name.log" >&2 || true
        say "$name exited during start-up; stopping what this command started"
        stop_instances "${STARTED[@]}"
        exit 1
      fi
      [[ "$(readyz "$(cat "$RUN/$name.port")")" == 200 ]] || pending+=("$name")
    done
    ((${#pending[@]} == 0)) && break
    if ((SECONDS - started >= START_TIMEOUT)); then
      say "not ready after ${START_TIMEOUT}s: ${pending[*]} (see their logs); stopping what this command started"
      stop_instances "${STARTED[@]}"
      exit 1
    fi
    if ((SECONDS >= next_report)); then
      say "waiting for /readyz ($((SECONDS - started))s): $((${#WANTED[@]} - ${#pending[@]}))/${#WANTED[@]} ready; still starting: ${pending[*]}"
      next_report=$((SECONDS + 5))
    fi
    sleep 1
  done
  say "all ${#WANTED[@]} processes ready after $((SECONDS - started))s"
}

report_sample() {
  local secret grids
  secret="$(cut -d, -f1 <<<"$GD_API_KEYS" | cut -d: -f2)"
  grids="$(curl -s -m 5 -H "Authorization: Bearer $secret" "http://127.0.0.1:$(port_of grid-routing 1)/v1/grids" | jq -r '.items | length' 2>/dev/null || true)"
  if [[ "$grids" =~ ^[0-9]+$ ]]; then
    say "routing data: $grids grids$([[ "$LOAD_SAMPLE" == 1 ]] && echo ' (GD_SAMPLE_DATA=1: the sample county loads only into a database without grids)')"
  else
    say "routing data: could not list /v1/grids with the first key of GD_API_KEYS (needs requests:read)"
  fi
}

cmd_up() {
  LOAD_SAMPLE=1
  while (($# > 0)); do
    case "$1" in
      --replicas) [[ $# -ge 2 ]] || die "--replicas needs a value, e.g. routing=2,sla=2"; parse_replicas "$2"; shift 2 ;;
      --replicas=*) parse_replicas "${1#--replicas=}"; shift ;;
      --no-sample) LOAD_SAMPLE=0; shift ;;
      *) die "unknown option '$1' (up [--replicas routing=2,sla=2] [--no-sample])" ;;
    esac
  done
  command -v node >/dev/null || die "node is not installed"
  [[ -x "$ROOT/node_modules/.bin/tsx" ]] || die "node_modules is missing: run 'pnpm install' first"
  ensure_database
  ensure_kafka
  STARTED=()
  WANTED=()
  local service n
  for service in "${SERVICES[@]}"; do
    for ((n = 1; n <= REPLICAS[$service]; n++)); do
      start_instance "$service" "$n"
      WANTED+=("$service-$n")
    done
  done
  local extra=()
  for name in $(known_instances); do
    [[ " ${WANTED[*]} " == *" $name "* ]] || { managed_pid "$name" >/dev/null && extra+=("$name"); }
  done
  ((${#extra[@]} == 0)) || say "also running from an earlier 'up': ${extra[*]} (left as is)"
  wait_ready
  report_sample
  print_table
  local secret
  secret="$(cut -d, -f1 <<<"$GD_API_KEYS" | cut -d: -f2)"
  cat <<EOF

API keys: GD_API_KEYS=$GD_API_KEYS (Bearer <secret>). Try:
  curl -s -H 'Authorization: Bearer $secret' http://127.0.0.1:$(port_of intake 1)/v1/requests
In distributed mode each service answers its own routes: grids on grid-routing's port, subscriptions
and deliveries on notification's (infra/local/README.md). Stop: pnpm stack:down
EOF
}

# --- down -------------------------------------------------------------------------------------
# SIGTERM to each (graceful: drain, commit, close), wait; SIGKILL the process group after
# STOP_TIMEOUT. Reports each one.
stop_instances() {
  (($# > 0)) || return 0
  local name pid started=$SECONDS t0="${EPOCHREALTIME/./}" ms
  declare -A pids=()
  for name in "$@"; do
    if pid="$(managed_pid "$name")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids[$name]="$pid"
    else
      rm -f "$RUN/$name.pid" "$RUN/$name.port"
    fi
  done
  while ((${#pids[@]} > 0)); do
    for name in "$@"; do
      [[ -n "${pids[$name]:-}" ]] || continue
      pid="${pids[$name]}"
      if ! kill -0 "$pid" 2>/dev/null; then
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
        say "stopped $name (pid $pid) after $((ms / 1000)).$((ms % 1000 / 100))s"
        rm -f "$RUN/$name.pid" "$RUN/$name.port"
        unset "pids[$name]"
      elif ((SECONDS - started >= STOP_TIMEOUT)); then
        say "$name (pid $pid) still running after ${STOP_TIMEOUT}s; killing it (SIGKILL loses nothing: DESIGN §5)"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        rm -f "$RUN/$name.pid" "$RUN/$name.port"
        unset "pids[$name]"
      fi
    done
    ((${#pids[@]} == 0)) || sleep 0.3
  done
}

cmd_down() {
  local instances=() service name
  # Front door first, so nothing new comes in while the rest drains.
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    service="${SERVICES[$i]}"
    for name in $(known_instances); do
      [[ "${name%-*}" == "$service" ]] && instances+=("$name")
    done
  done
  if ((${#instances[@]} == 0)); then
    say "no service processes are running"
  else
    say "stopping ${instances[*]}"
    stop_instances "${instances[@]}"
  fi
  if [[ -f "$RUN/kafka.started" ]]; then
    bash "$KAFKA_SH" down | sed 's/^/  /'
    rm -f "$RUN/kafka.started"
  else
    say "Kafka: left running (not started by stack.sh up)"
  fi
}

# --- status -----------------------------------------------------------------------------------
print_table() {
  local name pid port code state
  printf '\n%-16s %-8s %-24s %-10s %s\n' PROCESS PID URL READYZ SERVES
  for name in $(known_instances); do
    port="$(cat "$RUN/$name.port" 2>/dev/null || echo '?')"
    if pid="$(managed_pid "$name")"; then
      code="$(readyz "$port")"
      case "$code" in
        200) state=ready ;;
        503) state="not ready" ;;
        *) state="no answer" ;;
      esac
    else
      pid='-'
      state=exited
    fi
    printf '%-16s %-8s %-24s %-10s %s\n' "$name" "$pid" "http://127.0.0.1:$port" "$state" "$(what_it_serves "${name%-*}")"
  done
}

cmd_status() {
  local names total=0 ready=0 name pid
  names="$(known_instances)"
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then say "Kafka: $KAFKA_BROKERS (KAFKA_BROKERS)"; else bash "$KAFKA_SH" status | sed 's/^/  /' || true; fi
  if [[ -z "$names" ]]; then
    say "no service processes (start: pnpm stack:up)"
    return 3
  fi
  print_table
  for name in $names; do
    if pid="$(managed_pid "$name")"; then
      total=$((total + 1))
      [[ "$(readyz "$(cat "$RUN/$name.port")")" == 200 ]] && ready=$((ready + 1))
    fi
  done
  printf '\n'
  say "$ready of $total running processes ready"
  ((total > 0)) || return 3
  ((ready == total)) || return 1
}

cmd_logs() {
  if [[ $# -gt 0 ]]; then
    [[ -f "$RUN/$1.log" ]] || die "no log for '$1' (names: $(known_instances | tr '\n' ' '))"
    exec tail -n 50 -f "$RUN/$1.log"
  fi
  compgen -G "$RUN/*.log" >/dev/null || die "no logs yet in ${RUN#"$ROOT"/}"
  exec tail -n 20 -f "$RUN"/*.log
}

main() {
  local command="${1:-}"
  [[ $# -gt 0 ]] && shift
  mkdir -p "$RUN"
  case "$command" in
    up | down | status) ;;
    logs) cmd_logs "$@" ;;
    *) die "usage: stack.sh up [--replicas routing=2,sla=2] [--no-sample] | down | status | logs [name]" ;;
  esac
  if [[ "$command" != status ]]; then
    # One up/down at a time.
    exec 9>"$RUN/stack.lock"
    flock -w $((START_TIMEOUT + 120)) 9 || die "another stack.sh up/down is running"
  fi
  "cmd_$command" "$@"
}

main "$@"
