#!/usr/bin/env bash
# The distributed stack on this machine, without Docker: Kafka (infra/kafka/kafka.sh, or a broker
# that already answers), the machine's PostgreSQL, each service as its own Node process, and one
# front door (nginx from Debian's packages) that routes the public API by path to them.
#
#   stack.sh up [--replicas routing=2,sla=2] [--no-sample]
#                     start what is not running, wait until every process answers /readyz, then
#                     start (or reload) the front door on STACK_PORT_BASE
#   stack.sh down     stop the front door, SIGTERM every process (then the broker, if `up` started
#                     it), wait, report
#   stack.sh status   the front door and each process with its pid, URL and readiness (exit 0 all
#                     ready, 1 some not, 3 none)
#   stack.sh logs [name]   follow the logs (all, or e.g. grid-routing-2, front-door)
#
# Ports: the front door listens on STACK_PORT_BASE (default 8080); the services behind it on
# STACK_PORT_BASE + 100 + their offset: intake 8180, grid-routing 8181, sla-timer 8182,
# notification 8183. Replica n of a service: + 10*(n-1) (grid-routing-2 8191, sla-timer-2 8192, …).
# Replicas: `--replicas` takes service=count pairs (intake, routing|grid-routing, sla|sla-timer,
# notification), 1-9 each; the front door balances over the replicas of each service.
# Logs and pid files: infra/local/.run/<service>-<n>.{log,pid,port}; the front door's generated
# config, log and pid under infra/local/.run/front-door/.
#
# Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/griddispatch, database
# created if absent), KAFKA_BROKERS (default: kafka.sh's broker on 127.0.0.1:9092), GD_TOPIC_PREFIX,
# GD_API_KEYS and GD_KEY_PEPPER (default: an admin key `local` and a pepper generated at the first
# `up` and kept in the run dir — the service processes have no built-in key), STACK_HOST (default
# 127.0.0.1: where the front door and the services listen), STACK_PORT_BASE (default 8080),
# STACK_RUN_DIR (default infra/local/.run), STACK_START_TIMEOUT / STACK_STOP_TIMEOUT (seconds,
# default 180 / 40). Everything
# else (LOG_LEVEL, GD_SLA_POLICY, GD_TIME_ZONE, OTEL_*, NOTIFY_*) is passed to the services as is.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUN="${STACK_RUN_DIR:-$HERE/.run}"
NGINX_TEMPLATE="$ROOT/infra/nginx/front-door.conf.template"
FRONT="$RUN/front-door"
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
# The front door reaches the services over loopback and forwards the client's address in
# X-Forwarded-For: failed-login limits then count per client, not for every caller at once.
export GD_TRUST_PROXY="${GD_TRUST_PROXY:-127.0.0.1}"
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
    intake) echo "/v1/requests, /v1/work-orders, /v1/callbacks, /v1/board, /v1/events/stream, /open311/v2, /board, /docs" ;;
    grid-routing) echo "/v1/grids, /v1/routing/unroutable, /v1/requests/:id/reroute, /docs" ;;
    sla-timer) echo "/readyz, /metrics" ;;
    notification) echo "/v1/subscriptions, /v1/deliveries, /v1/inbound/sms, /docs" ;;
  esac
}

# The services sit behind the front door, 100 ports above it.
port_of() { echo $((PORT_BASE + 100 + $(port_offset "$1") + 10 * ($2 - 1))); }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# The pid of instance NAME (e.g. grid-routing-2) if it still runs this stack's service (a pid file
# alone could name a recycled pid: check the command line too).
managed_pid() {
  local name="$1" service="${1%-*}" pid
  [[ -f "$RUN/$name.pid" ]] || return 1
  pid="$(cat "$RUN/$name.pid")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE "dist/$service\.js|services/$service/src/main\.ts"; then
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

# --- front door (nginx) -----------------------------------------------------------------------
# nginx from Debian's packages, run from a config generated under $FRONT (`-p` prefix): no system
# service and no files outside the run dir. As root, its workers run as nobody.
NGINX=""

nginx_bin() {
  command -v nginx 2>/dev/null && return 0
  [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx && return 0
  return 1
}

ensure_nginx() {
  NGINX="$(nginx_bin)" && return 0
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    say "nginx is not installed; installing Debian's nginx-light for the front door"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; } || die "could not install nginx-light"
    NGINX="$(nginx_bin)" || die "nginx-light installed but no nginx binary found"
  else
    die "nginx is not installed (the front door): sudo apt-get install -y nginx-light"
  fi
}

# The front door's master pid, if it runs from this run dir.
front_pid() {
  local pid
  [[ -f "$FRONT/nginx.pid" ]] || return 1
  pid="$(cat "$FRONT/nginx.pid")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$FRONT/nginx.conf"; then
    echo "$pid"
    return 0
  fi
  return 1
}

# `server 127.0.0.1:<port> …;` for each running replica of SERVICE.
upstream_servers() {
  local service="$1" name out=""
  for name in $(known_instances); do
    [[ "${name%-*}" == "$service" ]] && managed_pid "$name" >/dev/null || continue
    out+="server 127.0.0.1:$(cat "$RUN/$name.port") max_fails=1 fail_timeout=2s; "
  done
  [[ -n "$out" ]] || die "front door: no running $service process to route to"
  echo "$out"
}

render_front_door() {
  local conf user_line=""
  mkdir -p "$FRONT/tmp"
  conf="$(<"$NGINX_TEMPLATE")"
  conf="${conf//'${GD_LISTEN}'/$HOST:$PORT_BASE}"
  conf="${conf//'${GD_INTAKE_SERVERS}'/$(upstream_servers intake)}"
  conf="${conf//'${GD_GRID_ROUTING_SERVERS}'/$(upstream_servers grid-routing)}"
  conf="${conf//'${GD_NOTIFICATION_SERVERS}'/$(upstream_servers notification)}"
  printf '%s\n' "$conf" >"$FRONT/front-door.conf"
  if [[ $EUID -eq 0 ]]; then
    user_line="user nobody $(getent group nogroup >/dev/null && echo nogroup || echo nobody);"
  fi
  cat >"$FRONT/nginx.conf" <<CONF
# Generated by infra/local/stack.sh up: edit infra/nginx/front-door.conf.template instead.
$user_line
worker_processes 1;
worker_shutdown_timeout 5s;
pid $FRONT/nginx.pid;
error_log $FRONT/error.log warn;
events { worker_connections 4096; }
http {
  access_log $FRONT/access.log;
  client_body_temp_path $FRONT/tmp/body;
  proxy_temp_path $FRONT/tmp/proxy;
  fastcgi_temp_path $FRONT/tmp/fastcgi;
  uwsgi_temp_path $FRONT/tmp/uwsgi;
  scgi_temp_path $FRONT/tmp/scgi;
  include $FRONT/front-door.conf;
}
CONF
}

nginx_cmd() { "$NGINX" -p "$FRONT/" -c "$FRONT/nginx.conf" -e "$FRONT/error.log" "$@"; }

# Starts the front door, or reloads it with the current replicas when it already runs.
start_front_door() {
  local pid t0=$SECONDS
  render_front_door
  if ! nginx_cmd -t -q 2>"$FRONT/check.log"; then
    cat "$FRONT/check.log" >&2
    return 1
  fi
  if pid="$(front_pid)"; then
    nginx_cmd -s reload
    say "front door: reloaded nginx (pid $pid) with the running replicas"
    return 0
  fi
  # nginx puts itself in the background; its pid file is how status and down find it.
  nginx_cmd 9>&- || return 1
  until port_open 127.0.0.1 "$PORT_BASE"; do
    if ((SECONDS - t0 >= 10)); then
      tail -n 20 "$FRONT/error.log" >&2
      return 1
    fi
    sleep 0.2
  done
  say "front door: nginx (pid $(front_pid || echo '?')) on http://$HOST:$PORT_BASE, config ${FRONT#"$ROOT"/}/nginx.conf"
}

stop_front_door() {
  local pid t0=$SECONDS
  if ! pid="$(front_pid)"; then
    rm -f "$FRONT/nginx.pid"
    return 0
  fi
  # QUIT: stop accepting, finish the requests in flight (open board streams get 5 s).
  kill -QUIT "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS - t0 >= STOP_TIMEOUT)); then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$FRONT/nginx.pid"
  say "stopped the front door (nginx pid $pid) after $((SECONDS - t0))s"
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
      nohup setsid node --enable-source-maps "dist/$service.js" >"$RUN/$name.log" 2>&1 </dev/null 9>&- &
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
  grids="$(curl -s -m 5 -H "Authorization: Bearer $secret" "http://127.0.0.1:$PORT_BASE/v1/grids" | jq -r '.items | length' 2>/dev/null || true)"
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
  (cd "$ROOT" && node_modules/.bin/tsx infra/build/build.ts) || die "build failed (pnpm build)"
  ensure_nginx
  if ! front_pid >/dev/null && port_open 127.0.0.1 "$PORT_BASE"; then
    die "port $PORT_BASE for the front door is taken by another program (set STACK_PORT_BASE)"
  fi
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
  if ! start_front_door; then
    say "the front door did not start; stopping what this command started"
    stop_instances "${STARTED[@]}"
    exit 1
  fi
  report_sample
  print_table
  local secret
  secret="$(cut -d, -f1 <<<"$GD_API_KEYS" | cut -d: -f2)"
  cat <<EOF

One address for the whole API: http://$HOST:$PORT_BASE (the front door routes each path to its
service: infra/local/README.md). API keys: GD_API_KEYS=$GD_API_KEYS (Bearer <secret>). Try:
  curl -s -H 'Authorization: Bearer $secret' http://127.0.0.1:$PORT_BASE/v1/requests
  the dispatch board: http://127.0.0.1:$PORT_BASE/board?key=$secret
Stop: pnpm stack:down
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
        say "$name (pid $pid) still running after ${STOP_TIMEOUT}s; killing it (SIGKILL loses nothing: docs/architecture.md#reliability-rules)"
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
  stop_front_door
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
  if pid="$(front_pid)"; then
    case "$(readyz "$PORT_BASE")" in
      200) state=ready ;;
      503) state="not ready" ;;
      *) state="no answer" ;;
    esac
    printf '%-16s %-8s %-24s %-10s %s\n' front-door "$pid" "http://$HOST:$PORT_BASE" "$state" "the public API, routed by path (nginx)"
  elif [[ -f "$FRONT/nginx.conf" ]]; then
    printf '%-16s %-8s %-24s %-10s %s\n' front-door - "http://$HOST:$PORT_BASE" exited "the public API, routed by path (nginx)"
  fi
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
  if [[ -z "$names" ]] && ! front_pid >/dev/null; then
    say "no service processes (start: pnpm stack:up)"
    return 3
  fi
  print_table
  if front_pid >/dev/null; then
    total=$((total + 1))
    [[ "$(readyz "$PORT_BASE")" == 200 ]] && ready=$((ready + 1))
  fi
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
    [[ "$1" == front-door ]] && exec tail -n 50 -f "$FRONT/error.log" "$FRONT/access.log"
    [[ -f "$RUN/$1.log" ]] || die "no log for '$1' (names: front-door $(known_instances | tr '\n' ' '))"
    exec tail -n 50 -f "$RUN/$1.log"
  fi
  compgen -G "$RUN/*.log" >/dev/null || die "no logs yet in ${RUN#"$ROOT"/}"
  exec tail -n 20 -f "$RUN"/*.log "$FRONT"/*.log
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
