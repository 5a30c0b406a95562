#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) from Maven Central jars.
#
#   ops/kafka/kafka.sh fetch            copy the broker jars into ops/kafka/libs (Maven)
#   ops/kafka/kafka.sh start            fetch if needed, format a fresh data dir, start, wait ready
#   ops/kafka/kafka.sh stop             SIGTERM (controlled shutdown), SIGKILL after a timeout
#   ops/kafka/kafka.sh restart          stop, then start again on the same data (topics, offsets kept)
#   ops/kafka/kafka.sh status           running or not, and where
#
# Settings (environment):
#   KAFKA_PORT             client port on 127.0.0.1                  (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port                      (default KAFKA_PORT+1)
#   KAFKA_RUN_DIR          pid file, config, data and log directory   (default .run/kafka)
#   KAFKA_HEAP             JVM heap                                   (default 1g)
#   KAFKA_READY_TIMEOUT    seconds to wait for readiness              (default 90)
#   PYTHON                 interpreter with aiokafka, for the readiness probe (default .venv/bin/python)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
libs="$here/libs"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
run_dir="${KAFKA_RUN_DIR:-$root/.run/kafka}"
heap="${KAFKA_HEAP:-1g}"
ready_timeout="${KAFKA_READY_TIMEOUT:-90}"
python="${PYTHON:-$root/.venv/bin/python}"
pid_file="$run_dir/kafka.pid"

die() { echo "kafka.sh: $*" >&2; exit 1; }

running_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid; pid="$(cat "$pid_file")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch() {
  local stamp="$libs/.pom.sha256" want
  want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found: install Maven (Debian package 'maven')"
  rm -rf "$libs"
  echo "kafka.sh: fetching broker jars from Maven Central into $libs" >&2
  mvn -q -B -f "$here/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >&2
  echo "$want" > "$stamp"
}

start() {
  local keep="${1:-}"
  if pid="$(running_pid)"; then
    local running_port; running_port="$(cat "$run_dir/port" 2>/dev/null || echo "?")"
    if [[ "$running_port" != "$port" ]]; then
      die "a broker from $run_dir is already running on port $running_port (pid $pid); stop it first"
    fi
    echo "kafka.sh: already running (pid $pid) on 127.0.0.1:$port" >&2; return 0
  fi
  fetch
  [[ -x "$python" ]] || die "no Python at $python for the readiness probe (set PYTHON)"
  local data="$run_dir/data" t0 t1
  t0="$(date +%s.%N)"
  local java_opts=(-Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$here/log4j2.properties")
  if [[ "$keep" == keep && -f "$data/log/meta.properties" && -f "$run_dir/server.properties" ]]; then
    echo "kafka.sh: starting on the existing data in $data" >&2
  else
    rm -rf "$data"; mkdir -p "$data"
    sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@DATA_DIR@|$data|g" \
      "$here/server.properties.in" > "$run_dir/server.properties"
    local cluster_id
    cluster_id="$("$python" -c 'import base64,uuid;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')"
    java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format \
      --config "$run_dir/server.properties" --cluster-id="$cluster_id" --standalone \
      > "$run_dir/format.log" 2>&1 || { cat "$run_dir/format.log" >&2; die "storage format failed"; }
  fi
  nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$run_dir/server.properties" \
    >> "$run_dir/server.log" 2>&1 &
  echo $! > "$pid_file"
  echo "$port" > "$run_dir/port"
  if ! "$python" "$here/ready.py" --bootstrap "127.0.0.1:$port" --timeout "$ready_timeout" \
       --pid "$(cat "$pid_file")"; then
    tail -n 40 "$run_dir/server.log" >&2
    stop || true
    die "broker did not become ready (log: $run_dir/server.log)"
  fi
  t1="$(date +%s.%N)"
  printf 'kafka.sh: ready on 127.0.0.1:%s (pid %s) in %.1fs\n' "$port" "$(cat "$pid_file")" \
    "$(echo "$t1 - $t0" | bc)" >&2
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$pid_file"; echo "kafka.sh: not running" >&2; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then echo "kafka.sh: SIGKILL $pid" >&2; kill -KILL "$pid"; fi
  rm -f "$pid_file"
  echo "kafka.sh: stopped" >&2
}

status() {
  if pid="$(running_pid)"; then echo "running pid=$pid bootstrap=127.0.0.1:$port dir=$run_dir"
  else echo "stopped"; return 3; fi
}

mkdir -p "$run_dir"
case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start keep ;;
  status) status ;;
  *) die "usage: kafka.sh fetch|start|stop|restart|status" ;;
esac
