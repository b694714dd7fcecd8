#!/usr/bin/env bash
# A local single-node Apache Kafka 3.9.1 (KRaft) without Docker: the broker jars come from Maven
# Central through mvn (cached in infra/kafka/.cache/lib), data and log live in
# infra/kafka/.run/<port>/. Needs Java 17 and Maven; `topics` needs the workspace's node_modules.
#
#   kafka.sh up       fetch jars (first time), format, start, wait until ready, create topics
#   kafka.sh down     stop the broker this script started on KAFKA_PORT (SIGTERM, then wait)
#   kafka.sh status   say whether a broker runs on KAFKA_PORT (exit 0 if so, 3 if not)
#   kafka.sh topics   create the missing topics of topics.json (with GD_TOPIC_PREFIX) and list them
#   kafka.sh logs     follow the broker's log
#
# Environment: KAFKA_PORT (default 9092; the controller listens on KAFKA_PORT+1),
# GD_TOPIC_PREFIX (default griddispatch.), KAFKA_START_TIMEOUT / KAFKA_STOP_TIMEOUT (seconds,
# default 120 / 60), KAFKA_HEAP_OPTS (default -Xms256m -Xmx1g).
# A broker on the port that this script did not start is used as is, never stopped.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KAFKA_VERSION=3.9.1
HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT=$((PORT + 1))
LIB="$HERE/.cache/lib"
RUN="$HERE/.run/$PORT"
PIDFILE="$RUN/kafka.pid"
LOG="$RUN/kafka.log"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-60}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# The pid of the broker this script started for PORT, if it still runs (a pid file alone could
# name a recycled pid: check the command line too).
managed_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $RUN/server.properties"; then
    echo "$pid"
    return 0
  fi
  rm -f "$PIDFILE"
  return 1
}

need() { command -v "$1" >/dev/null || die "$1 is not installed ($2)"; }

fetch_jars() {
  [[ -f "$LIB/.complete-$KAFKA_VERSION" ]] && return 0
  need java "Java 17 runs the broker"
  need mvn "Maven fetches the broker jars from Maven Central"
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (first run only)..."
  local tmp="$LIB.tmp.$$"
  rm -rf "$tmp"
  mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
    || die "mvn could not fetch the Kafka jars (see the output above)"
  rm -rf "$LIB"
  mkdir -p "$(dirname "$LIB")"
  mv "$tmp" "$LIB"
  touch "$LIB/.complete-$KAFKA_VERSION"
  say "cached $(ls "$LIB"/*.jar | wc -l) jars in ${LIB#"$ROOT"/}"
}

write_config() {
  mkdir -p "$RUN/data"
  cat >"$RUN/server.properties" <<EOF
# Written by infra/kafka/kafka.sh for port $PORT; edits are overwritten on the next 'up'.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
# One partition for __consumer_offsets: the first group join does not wait for 50 of them.
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
}

format_storage() {
  [[ -f "$RUN/data/meta.properties" ]] && return 0
  say "formatting KRaft storage in ${RUN#"$ROOT"/}/data"
  local cluster_id
  local log4j="-Dlog4j.configuration=file:$HERE/log4j.properties"
  cluster_id="$(java "$log4j" -cp "$LIB/*" kafka.tools.StorageTool random-uuid)"
  java "$log4j" -cp "$LIB/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$RUN/server.properties" --ignore-formatted >/dev/null
}

create_topics() {
  local tsx="$ROOT/node_modules/.bin/tsx"
  [[ -x "$tsx" ]] || die "node_modules is missing: run 'pnpm install' first (topics are created with kafkajs)"
  say "topics on $HOST:$PORT (prefix ${GD_TOPIC_PREFIX:-griddispatch.}):"
  KAFKA_BROKERS="$HOST:$PORT" "$tsx" "$HERE/create-topics.ts"
}

wait_ready() {
  local pid="$1" started=$SECONDS next_report=$((SECONDS + 5))
  while true; do
    if ! kill -0 "$pid" 2>/dev/null; then
      printf '\n' >&2
      tail -n 30 "$LOG" >&2 || true
      die "the broker exited during start-up (log: ${LOG#"$ROOT"/})"
    fi
    if grep -q 'Kafka Server started' "$LOG" 2>/dev/null && port_open "$PORT"; then
      say "ready on $HOST:$PORT after $((SECONDS - started))s"
      return 0
    fi
    if ((SECONDS - started >= START_TIMEOUT)); then
      tail -n 30 "$LOG" >&2 || true
      kill -TERM "$pid" 2>/dev/null || true
      die "not ready after ${START_TIMEOUT}s; stopped it (log: ${LOG#"$ROOT"/})"
    fi
    if ((SECONDS >= next_report)); then
      say "waiting for the broker... $((SECONDS - started))s"
      next_report=$((SECONDS + 5))
    fi
    sleep 1
  done
}

cmd_up() {
  local pid
  if pid="$(managed_pid)"; then
    say "already up on $HOST:$PORT (pid $pid)"
    create_topics
    return 0
  fi
  if port_open "$PORT"; then
    say "a broker not started by this script already answers on $HOST:$PORT; using it as is"
    create_topics || die "$HOST:$PORT is taken by something that does not answer as Kafka"
    return 0
  fi
  port_open "$CONTROLLER_PORT" && die "controller port $CONTROLLER_PORT (KAFKA_PORT+1) is taken; choose another KAFKA_PORT"
  need java "Java 17 runs the broker"
  fetch_jars
  write_config
  format_storage
  say "starting Apache Kafka $KAFKA_VERSION (KRaft) on $HOST:$PORT, controller on $CONTROLLER_PORT"
  # shellcheck disable=SC2086 # HEAP_OPTS holds several JVM flags.
  nohup setsid java $HEAP_OPTS -XX:+UseG1GC -Dlog4j.configuration="file:$HERE/log4j.properties" \
    -cp "$LIB/*" kafka.Kafka "$RUN/server.properties" >"$LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PIDFILE"
  wait_ready "$pid"
  create_topics
}

cmd_down() {
  local pid
  if ! pid="$(managed_pid)"; then
    if port_open "$PORT"; then
      say "the broker on $HOST:$PORT was not started by this script; leaving it running"
    else
      say "not running on $HOST:$PORT"
    fi
    return 0
  fi
  say "stopping the broker on $HOST:$PORT (pid $pid)"
  kill -TERM "$pid"
  local started=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS - started >= STOP_TIMEOUT)); then
      say "still running after ${STOP_TIMEOUT}s; killing it (the next start recovers its log)"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  rm -f "$PIDFILE"
  say "stopped after $((SECONDS - started))s"
}

cmd_status() {
  local pid
  if pid="$(managed_pid)"; then
    say "up on $HOST:$PORT (pid $pid, data ${RUN#"$ROOT"/}/data)"
  elif port_open "$PORT"; then
    say "up on $HOST:$PORT (not started by this script)"
  else
    say "down on $HOST:$PORT"
    return 3
  fi
}

cmd_topics() {
  port_open "$PORT" || die "no broker answers on $HOST:$PORT (run: kafka.sh up)"
  create_topics
}

main() {
  local command="${1:-}"
  case "$command" in
    up | down | status | topics | logs) ;;
    *) die "usage: kafka.sh up|down|status|topics|logs   (KAFKA_PORT=$PORT)" ;;
  esac
  if [[ "$command" == logs ]]; then
    [[ -f "$LOG" ]] || die "no log yet at ${LOG#"$ROOT"/}"
    exec tail -n 50 -f "$LOG"
  fi
  mkdir -p "$HERE/.run"
  # One invocation per port at a time: two test runs starting Kafka together share one broker.
  exec 9>"$HERE/.run/$PORT.lock"
  flock -w $((START_TIMEOUT + 60)) 9 || die "another kafka.sh is busy with port $PORT"
  "cmd_$command"
}

main "$@"
