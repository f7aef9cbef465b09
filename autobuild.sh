#!/usr/bin/env bash
# autobuild.sh: sets up dnslens' all-in-one stack (ClickHouse, Grafana, one dnslens capture per
# monitored interface, an optional dnstap collector) with docker compose.
#
#   ./autobuild.sh                 ask the questions, write .env and docker-compose.override.yml,
#                                  build, start, wait until healthy, print how to get in
#   ./autobuild.sh --yes [flags]   the same without questions: flags, AUTOBUILD_* variables, the
#                                  previous answers (.env), then the defaults
#   ./autobuild.sh --dry-run       print the files and the commands; write and run nothing
#   ./autobuild.sh down            stop the stack; the data stays
#   ./autobuild.sh down --volumes  stop the stack and delete its data (asks, or needs --yes)
#   ./autobuild.sh sensor --bus nats://HOST:4222 --interfaces eth0
#                                  a sensor-only host: one dnslens capture container per interface,
#                                  publishing to a remote NATS JetStream (no ClickHouse, no Grafana)
#
# It writes only generated, git-ignored files: .env (the answers, mode 600), secrets/ (the generated
# passwords, mode 700) and docker-compose.override.yml. Re-running keeps the passwords and the data
# and applies the new answers (a retention change re-runs the migration service). It needs Docker
# with Compose v2 (`docker compose`). `./autobuild.sh --help` for flags.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ENV_FILE="$HERE/.env"
OVERRIDE_FILE="$HERE/docker-compose.override.yml"
SECRETS_DIR="$HERE/secrets"
MAX_TRIES=10 # interactive: a question asked more often than this ends the run

# The ClickHouse users are fixed in docker/clickhouse/users.d/dnslens.xml (their passwords' hashes
# go to secrets/clickhouse-users.xml).
DATABASE=dnslens
WRITER_USER=dnslens
READER_USER=grafana
# uid of the `node` user in the dnslens image, and of Grafana in its image
IMAGE_UID=1000
GRAFANA_IMAGE_UID=472

usage() {
  cat <<'EOF'
Usage: ./autobuild.sh [up] [options]
       ./autobuild.sh down [--volumes] [--yes] [--dry-run]
       ./autobuild.sh sensor --bus URL --interfaces LIST [--server-name IFACE=NAME] [--dry-run]

Sensor mode (a host that only captures and publishes to a remote bus, e.g. the NATS of the
`cluster` compose profile; builds the dnslens image and runs a container per interface with plain
docker, no compose; re-running replaces the containers and keeps their spool volumes):
  --bus URL[,URL...]         NATS server(s) to publish to, nats:// or tls://          AUTOBUILD_BUS
  --interfaces, --server-name   as below (required: no questions are asked)

Answers (flag, or environment variable; asked interactively when neither is given):
  --interfaces LIST          interfaces to capture on, comma separated, or "none"   AUTOBUILD_INTERFACES
  --server-name IFACE=NAME   server name stored with that interface's events         AUTOBUILD_SERVER_NAMES
                             (repeatable; default HOSTNAME_IFACE; the dashboards'     (IFACE=NAME,...)
                             "Server" selector)
  --dnstap SPEC              dnstap collector: no, yes (= tcp:6000 on 127.0.0.1),    AUTOBUILD_DNSTAP
                             tcp:PORT, tcp:0.0.0.0:PORT, or unix:/path/NAME.sock
  --dnstap-name NAME         server name of the dnstap collector's events           AUTOBUILD_DNSTAP_NAME
                             (default HOSTNAME_dnstap)
  --clickhouse-data PATH     ClickHouse data directory                               AUTOBUILD_CLICKHOUSE_DATA
  --clickhouse-logs PATH     ClickHouse log directory                                AUTOBUILD_CLICKHOUSE_LOGS
  --grafana-data PATH        Grafana data directory                                  AUTOBUILD_GRAFANA_DATA
  --retention-days N         days raw events are kept                                AUTOBUILD_RETENTION_DAYS
  --rollup-retention-days R  days rollups are kept: one number, or five for          AUTOBUILD_ROLLUP_RETENTION_DAYS
                             minute,hour,day,week,month
  --timezone ZONE            IANA time zone of the rollups' days and the heatmap      AUTOBUILD_TIMEZONE
                             (default: this host's zone)
  --expose-grafana yes|no    publish Grafana on all addresses, not only 127.0.0.1    AUTOBUILD_EXPOSE_GRAFANA
Not asked (defaults 3000 and 8123, both on 127.0.0.1 unless Grafana is exposed; 100000):
  --grafana-port N                                                                   AUTOBUILD_GRAFANA_PORT
  --clickhouse-port N        ClickHouse HTTP, for the capture services and you      AUTOBUILD_CLICKHOUSE_PORT
  --batch-size N             events per ClickHouse insert (tuning)                  AUTOBUILD_BATCH_SIZE
Running:
  -y, --yes                  accept the default of every question not answered,    AUTOBUILD_YES=1
                             and the summary, without asking
  --dry-run                  print the generated files and the commands, run nothing
  --timeout SECONDS          how long to wait for the services to be healthy (300) AUTOBUILD_TIMEOUT
  -h, --help                 this help
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf 'autobuild: warning: %s\n' "$*" >&2; }
fail() {
  printf 'autobuild: %s\n' "$*" >&2
  exit 1
}
# A bad answer or flag that cannot be asked again: exit code 2, like dnslens' own config errors.
refuse() {
  printf 'autobuild: %s\n' "$*" >&2
  exit 2
}

# ------------------------------------------------------------------ arguments

ACTION=up
DRY_RUN=
REMOVE_DATA=
ANSWER_FLAGS=
YES=${AUTOBUILD_YES:-}
TIMEOUT=${AUTOBUILD_TIMEOUT:-300}
POLL=${AUTOBUILD_POLL_SECONDS:-2}
A_INTERFACES=${AUTOBUILD_INTERFACES:-}
A_SERVER_NAMES=${AUTOBUILD_SERVER_NAMES:-}
A_BATCH_SIZE=${AUTOBUILD_BATCH_SIZE:-}
A_DNSTAP=${AUTOBUILD_DNSTAP:-}
A_DNSTAP_NAME=${AUTOBUILD_DNSTAP_NAME:-}
A_TIMEZONE=${AUTOBUILD_TIMEZONE:-}
A_CH_DATA=${AUTOBUILD_CLICKHOUSE_DATA:-}
A_CH_LOGS=${AUTOBUILD_CLICKHOUSE_LOGS:-}
A_GRAFANA_DATA=${AUTOBUILD_GRAFANA_DATA:-}
A_RETENTION=${AUTOBUILD_RETENTION_DAYS:-}
A_ROLLUP=${AUTOBUILD_ROLLUP_RETENTION_DAYS:-}
A_EXPOSE=${AUTOBUILD_EXPOSE_GRAFANA:-}
A_GRAFANA_PORT=${AUTOBUILD_GRAFANA_PORT:-}
A_CH_PORT=${AUTOBUILD_CLICKHOUSE_PORT:-}
A_BUS=${AUTOBUILD_BUS:-}
case "$YES" in 1 | yes | true) YES=1 ;; *) YES= ;; esac

need_value() {
  [ "$2" -ge 2 ] || refuse "$1 needs a value (see --help)"
}

if [ $# -gt 0 ]; then
  case "$1" in
    up) shift ;;
    down) ACTION=down && shift ;;
    sensor) ACTION=sensor && shift ;;
  esac
fi
while [ $# -gt 0 ]; do
  opt=$1
  val=
  case "$opt" in
    --*=*) val=${opt#*=} && opt=${opt%%=*} && set -- "$opt" "$val" "${@:2}" ;;
  esac
  case "$opt" in
    -h | --help) usage && exit 0 ;;
    -y | --yes) YES=1 && shift && continue ;;
    --dry-run) DRY_RUN=1 && shift && continue ;;
    --volumes) REMOVE_DATA=1 && shift && continue ;;
  esac
  case "$opt" in
    --interfaces | --server-name | --batch-size | --dnstap | --dnstap-name | --clickhouse-data | --clickhouse-logs | --grafana-data) ;;
    --retention-days | --rollup-retention-days | --timezone | --expose-grafana | --grafana-port | --clickhouse-port | --timeout | --bus) ;;
    *) refuse "unknown option $opt (see --help)" ;;
  esac
  need_value "$opt" $#
  val=$2
  [ "$opt" = --timeout ] || ANSWER_FLAGS="$ANSWER_FLAGS $opt"
  case "$opt" in
    --interfaces) A_INTERFACES=$val ;;
    --server-name) A_SERVER_NAMES=${A_SERVER_NAMES:+$A_SERVER_NAMES,}$val ;;
    --batch-size) A_BATCH_SIZE=$val ;;
    --dnstap) A_DNSTAP=$val ;;
    --dnstap-name) A_DNSTAP_NAME=$val ;;
    --timezone) A_TIMEZONE=$val ;;
    --clickhouse-data) A_CH_DATA=$val ;;
    --clickhouse-logs) A_CH_LOGS=$val ;;
    --grafana-data) A_GRAFANA_DATA=$val ;;
    --retention-days) A_RETENTION=$val ;;
    --rollup-retention-days) A_ROLLUP=$val ;;
    --expose-grafana) A_EXPOSE=$val ;;
    --grafana-port) A_GRAFANA_PORT=$val ;;
    --clickhouse-port) A_CH_PORT=$val ;;
    --timeout) TIMEOUT=$val ;;
    --bus) A_BUS=$val ;;
  esac
  shift 2
done
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || refuse "--timeout: \"$TIMEOUT\" is not a number of seconds"
[ "$ACTION" != down ] || [ -z "$ANSWER_FLAGS" ] || refuse "down takes only --volumes, --yes and --dry-run (not$ANSWER_FLAGS)"
if [ "$ACTION" = sensor ]; then
  for f in $ANSWER_FLAGS; do
    case "$f" in --bus | --interfaces | --server-name) ;; *) refuse "sensor takes only --bus, --interfaces, --server-name and --dry-run (not $f)" ;; esac
  done
elif [[ " $ANSWER_FLAGS " == *" --bus "* ]]; then
  refuse "--bus goes with sensor: ./autobuild.sh sensor --bus nats://HOST:4222 --interfaces IFACE"
fi
[ "$ACTION" = down ] || [ -z "$REMOVE_DATA" ] || refuse "--volumes goes with down: ./autobuild.sh down --volumes"

# ------------------------------------------------------------------ the previous .env

declare -A PREV=()
read_previous() {
  [ -f "$ENV_FILE" ] || return 0
  local line key
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key=${line%%=*}
    [[ "$key" =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
    PREV[$key]=${line#*=}
  done <"$ENV_FILE"
}
prev() { printf '%s' "${PREV[$1]:-${2:-}}"; }
read_previous

# ------------------------------------------------------------------ tools

# Compose v2 only: v1 (Debian's and Ubuntu's docker-compose 1.29) crashes with
# KeyError: 'ContainerConfig' whenever it re-creates a container on current engines (a retention
# change re-creates migrate, a rebuild the capture services) and ignores pull_policy.
COMPOSE=()
COMPOSE_V2_HELP="install Compose v2, the docker compose plugin: the docker-compose-plugin package from Docker's apt repository (https://docs.docker.com/compose/install/linux/), or docker-compose-v2 on Ubuntu"
find_compose() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  else
    return 1
  fi
}

check_prerequisites() {
  local problems=()
  command -v ip >/dev/null 2>&1 || problems+=("ip is missing: install iproute2 (it lists the interfaces to capture on)")
  if ! command -v docker >/dev/null 2>&1; then
    problems+=("docker is missing: install Docker Engine (https://docs.docker.com/engine/install/)")
  else
    if ! docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
      problems+=("cannot reach the Docker engine: is it running, and may this user use it (root, or the docker group)?")
    fi
    if ! find_compose; then
      if command -v docker-compose >/dev/null 2>&1; then
        problems+=("only Compose v1 (docker-compose) is here, and it breaks re-runs of this stack (KeyError: 'ContainerConfig' when it re-creates a container): $COMPOSE_V2_HELP")
      else
        problems+=("'docker compose' (Compose v2) does not work: $COMPOSE_V2_HELP")
      fi
    fi
  fi
  [ ${#problems[@]} -eq 0 ] && return 0
  if [ -n "$DRY_RUN" ]; then
    for p in "${problems[@]}"; do warn "$p"; done
    [ ${#COMPOSE[@]} -gt 0 ] || COMPOSE=(docker compose)
    return 0
  fi
  for p in "${problems[@]}"; do printf 'autobuild: %s\n' "$p" >&2; done
  exit 1
}

# `run CMD...`: print the command, then run it unless this is a dry run.
run() {
  printf '+ %s\n' "$*"
  [ -n "$DRY_RUN" ] || "$@"
}

# ------------------------------------------------------------------ validation
# Each check takes an answer, sets NORM to its normal form and returns 0, or sets WHY and returns 1.

NORM=
WHY=
IFACES=()

list_interfaces() {
  local name
  while IFS= read -r name; do
    name=${name%%@*}
    [ -n "$name" ] && IFACES+=("$name")
  done < <(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }')
}

is_interface() {
  local i
  for i in "${IFACES[@]}"; do [ "$i" = "$1" ] && return 0; done
  return 1
}

check_interfaces() {
  local list=${1//,/ } i out=()
  if [ "$list" = none ]; then
    NORM=none
    return 0
  fi
  for i in $list; do
    if ! [[ "$i" =~ ^[A-Za-z0-9_.-]+$ ]]; then
      WHY="\"$i\" is not an interface name"
      return 1
    fi
    if ! is_interface "$i"; then
      WHY="unknown interface \"$i\" (this host has: ${IFACES[*]})"
      return 1
    fi
    [[ " ${out[*]} " == *" $i "* ]] || out+=("$i")
  done
  if [ ${#out[@]} -eq 0 ]; then
    WHY='give at least one interface, or "none"'
    return 1
  fi
  NORM=$(
    IFS=,
    printf '%s' "${out[*]}"
  )
}

check_name() {
  if [[ "$1" =~ ^[A-Za-z0-9_.-]{1,64}$ ]]; then
    NORM=$1
    return 0
  fi
  WHY="\"$1\" is not a server name (letters, digits, '.', '_', '-'; at most 64)"
  return 1
}

# check_int VALUE MIN MAX WHAT
check_int() {
  if [[ "$1" =~ ^[0-9]+$ ]] && [ ${#1} -le 9 ] && [ "$((10#$1))" -ge "$2" ] && [ "$((10#$1))" -le "$3" ]; then
    NORM=$((10#$1))
    return 0
  fi
  WHY="\"$1\" is not $4 ($2..$3)"
  return 1
}
check_batch() { check_int "$1" 1 10000000 "a number of events"; }
check_days() { check_int "$1" 1 36500 "a whole number of days"; }
check_port() { check_int "$1" 1 65535 "a port number"; }

check_rollup() {
  local parts=() p out=()
  IFS=', ' read -r -a parts <<<"$1"
  if [ ${#parts[@]} -eq 1 ]; then parts=("${parts[0]}" "${parts[0]}" "${parts[0]}" "${parts[0]}" "${parts[0]}"); fi
  if [ ${#parts[@]} -ne 5 ]; then
    WHY="\"$1\" is neither one number of days nor five (minute,hour,day,week,month)"
    return 1
  fi
  for p in "${parts[@]}"; do
    check_days "$p" || return 1
    out+=("$NORM")
  done
  NORM=$(
    IFS=,
    printf '%s' "${out[*]}"
  )
}

check_yesno() {
  case "${1,,}" in
    y | yes | true | 1) NORM=yes ;;
    n | no | false | 0) NORM=no ;;
    *)
      WHY="\"$1\" is not yes or no"
      return 1
      ;;
  esac
}

# A directory we can write to (made when missing; only looked at in a dry run).
writable_dir() {
  local dir=$1 probe
  if [ -n "$DRY_RUN" ]; then
    local up=$dir
    while [ ! -e "$up" ]; do up=$(dirname "$up"); done
    if [ ! -d "$up" ]; then
      WHY="$up is not a directory"
      return 1
    fi
    if [ ! -w "$up" ]; then
      WHY="$up is not writable"
      return 1
    fi
    return 0
  fi
  if ! mkdir -p -- "$dir" 2>/dev/null; then
    WHY="cannot create $dir"
    return 1
  fi
  if ! probe=$(mktemp -p "$dir" .autobuild-probe.XXXXXX 2>/dev/null); then
    WHY="$dir is not writable"
    return 1
  fi
  rm -f -- "$probe"
}

absolute() {
  local p=$1
  case "$p" in
    \~) p=$HOME ;;
    \~/*) p=$HOME/${p:2} ;;
    /*) ;;
    *) p=$HERE/$p ;;
  esac
  # no repeated slashes, no "./" pieces, no trailing slash
  p=$(printf '%s' "$p" | tr -s /)
  while [[ "$p" == *"/./"* ]]; do p=${p//\/.\//\/}; done
  p=${p%/.}
  [ "$p" = / ] || p=${p%/}
  printf '%s' "$p"
}

# own_dir DIR PREVIOUS: DIR may become the stack's: it is new, empty, or PREVIOUS (the previous
# run's answer). The stack hands its directories to the containers' users (chown -R) and
# `down --volumes` deletes them, so a directory holding other files (/var/lib, /tmp) is refused.
own_dir() {
  [ -d "$1" ] || return 0
  [ "$1" = "$2" ] && return 0
  [ -z "$(find "$1" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ] && return 0
  WHY="$1 already holds files, and the previous run (.env) did not use it for this: give a new or empty directory"
  return 1
}

# check_path PATH PREV_KEY [OTHER_NAME=OTHER_PATH...]: a data directory, apart from the others
check_path() {
  local p key=$2 other name dir
  p=$(absolute "$1")
  # .env and YAML carry it unquoted: keep to characters that need no quoting anywhere.
  if ! [[ "$p" =~ ^/[A-Za-z0-9_./+@-]+$ ]] || [[ "$p" == *"/../"* ]] || [[ "$p" == */.. ]]; then
    WHY="\"$1\": use a path of letters, digits and . _ - + @ / only (no spaces, no ..)"
    return 1
  fi
  case "$p" in / | "$HERE" | "$HOME")
    WHY="\"$1\" would put the data directly in $p: give a directory of its own"
    return 1
    ;;
  esac
  for other in "${@:3}"; do
    name=${other%%=*} dir=${other#*=}
    if [ "$p" = "$dir" ]; then
      WHY="$p is also the $name"
      return 1
    elif [[ "$p/" == "$dir/"* ]]; then
      WHY="$p is inside the $name"
      return 1
    elif [[ "$dir/" == "$p/"* ]]; then
      WHY="$p contains the $name"
      return 1
    fi
  done
  own_dir "$p" "$(prev "$key")" || return 1
  # ClickHouse's directories as the previous run recorded them: ClickHouse's entrypoint chowns them
  # to 101:101 at its first start, so this user may no longer write there, and need not.
  if [[ "$key" == CLICKHOUSE_* ]] && [ "$p" = "$(prev "$key")" ] && [ -d "$p" ]; then
    NORM=$p
    return 0
  fi
  writable_dir "$p" || return 1
  NORM=$p
}
check_ch_data() { check_path "$1" CLICKHOUSE_DATA_DIR; }
check_ch_logs() { check_path "$1" CLICKHOUSE_LOGS_DIR "ClickHouse data directory=$A_CH_DATA"; }
check_grafana_data() { check_path "$1" GRAFANA_DATA_DIR "ClickHouse data directory=$A_CH_DATA" "ClickHouse log directory=$A_CH_LOGS"; }

check_dnstap() {
  local spec=${1,,}
  case "$spec" in
    no | none | off | n)
      NORM=no
      return 0
      ;;
    yes | y | on | true)
      NORM=tcp:127.0.0.1:6000
      return 0
      ;;
    unix:*)
      local path
      path=$(absolute "${1:5}")
      if ! [[ "$path" =~ ^/[A-Za-z0-9_./+@-]+\.sock$ ]]; then
        WHY="\"$1\": give unix:/path/to/NAME.sock (letters, digits and . _ - + @ / only)"
        return 1
      fi
      local prev_socket
      prev_socket=$(prev AUTOBUILD_DNSTAP)
      case "$prev_socket" in unix:*) prev_socket=$(dirname "${prev_socket#unix:}") ;; *) prev_socket= ;; esac
      own_dir "$(dirname "$path")" "$prev_socket" || return 1
      writable_dir "$(dirname "$path")" || return 1
      NORM=unix:$path
      return 0
      ;;
  esac
  local rest=${spec#tcp:} addr=127.0.0.1
  if [ "$rest" = "$spec" ] && [[ "$spec" == *:* ]]; then
    WHY="\"$1\" is not no, yes, tcp:PORT, tcp:ADDRESS:PORT or unix:/path/NAME.sock"
    return 1
  fi
  if [[ "$rest" == *:* ]]; then
    addr=${rest%:*}
    rest=${rest##*:}
    if ! [[ "$addr" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
      WHY="\"$1\": the address in tcp:ADDRESS:PORT must be an IPv4 address (0.0.0.0 for all)"
      return 1
    fi
  fi
  if ! check_port "$rest"; then
    WHY="\"$1\" is not no, yes, tcp:PORT, tcp:ADDRESS:PORT or unix:/path/NAME.sock"
    return 1
  fi
  NORM=tcp:$addr:$NORM
}

# ------------------------------------------------------------------ questions

# ask VAR FLAG QUESTION DEFAULT CHECK
# The value given by flag or environment is checked (refused when bad); otherwise --yes takes the
# default, and interactively the question is asked until the answer passes.
ask() {
  local var=$1 flag=$2 question=$3 default=$4 check=$5 answer tries=0
  answer=${!var}
  if [ -n "$answer" ]; then
    "$check" "$answer" || refuse "$flag: $WHY"
    printf -v "$var" '%s' "$NORM"
    return 0
  fi
  if [ -n "$YES" ]; then
    "$check" "$default" || refuse "$flag: the default \"$default\" does not work: $WHY; give $flag"
    printf -v "$var" '%s' "$NORM"
    return 0
  fi
  while :; do
    tries=$((tries + 1))
    [ "$tries" -le "$MAX_TRIES" ] || refuse "$flag: no usable answer after $MAX_TRIES tries"
    printf '%s [%s]: ' "$question" "$default"
    if ! IFS= read -r answer; then
      printf '\n'
      refuse "no answer to \"$question\" (input ended): answer with $flag, or accept the defaults with --yes"
    fi
    [ -t 0 ] || printf '%s\n' "$answer" # answers from a file or pipe: show them, as a terminal would
    answer=${answer#"${answer%%[![:space:]]*}"}
    answer=${answer%"${answer##*[![:space:]]}"}
    [ -n "$answer" ] || answer=$default
    if "$check" "$answer"; then
      printf -v "$var" '%s' "$NORM"
      return 0
    fi
    say "  $WHY; please try again."
  done
}

default_interface() {
  local dev
  dev=$(ip route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
  if [ -n "$dev" ] && is_interface "$dev"; then
    printf '%s' "$dev"
    return
  fi
  local i
  for i in "${IFACES[@]}"; do
    if [ "$i" != lo ]; then
      printf '%s' "$i"
      return
    fi
  done
  printf '%s' "${IFACES[0]:-none}"
}

HOST_TAG=$(uname -n | tr -c 'A-Za-z0-9_.\n-' '_')
HOST_TAG=${HOST_TAG:-dnslens}

# name_in LIST IFACE: the name for IFACE in a list of IFACE=NAME pairs (flags, or the previous run)
name_in() {
  local pairs=() pair
  IFS=, read -r -a pairs <<<"$1"
  for pair in "${pairs[@]}"; do
    if [ "${pair%%=*}" = "$2" ]; then printf '%s' "${pair#*=}"; fi
  done
}

ask_questions() {
  list_interfaces
  [ ${#IFACES[@]} -gt 0 ] || warn "ip -o link show listed no interfaces"
  if [ -z "$A_INTERFACES" ] && [ -z "$YES" ]; then
    say "Network interfaces on this host:"
    ip -o link show 2>/dev/null | awk -F': ' '{ split($3, f, " "); sub(/@.*/, "", $2); printf "  %-16s %s\n", $2, f[1] }'
  fi
  ask A_INTERFACES --interfaces "Interfaces to monitor (comma separated, or none)" \
    "$(prev AUTOBUILD_INTERFACES "$(default_interface)")" check_interfaces

  # given names: "IFACE=NAME" pairs, for monitored interfaces
  local pairs=() pair iface default_name
  IFS=, read -r -a pairs <<<"$A_SERVER_NAMES"
  for pair in "${pairs[@]}"; do
    [[ "$pair" == *=* ]] || refuse "--server-name: \"$pair\" is not IFACE=NAME"
    [[ ",$A_INTERFACES," == *",${pair%%=*},"* ]] || refuse "--server-name: ${pair%%=*} is not one of the monitored interfaces ($A_INTERFACES)"
  done
  SERVER_NAMES=()
  MONITORED=()
  [ "$A_INTERFACES" = none ] || IFS=, read -r -a MONITORED <<<"$A_INTERFACES"
  if [ ${#MONITORED[@]} -gt 0 ] && [ -z "$YES" ]; then
    say "Each interface's events carry a server name: it is the \"Server\" selector in the dashboards."
  fi
  for iface in "${MONITORED[@]}"; do
    default_name=$(name_in "$(prev AUTOBUILD_SERVER_NAMES)" "$iface")
    ANSWER=$(name_in "$A_SERVER_NAMES" "$iface")
    ask ANSWER --server-name "Server name for $iface" "${default_name:-${HOST_TAG}_$iface}" check_name
    SERVER_NAMES+=("$iface=$ANSWER")
  done

  if [ -z "$A_DNSTAP" ] && [ -z "$YES" ]; then
    say "A dnstap collector receives what resolvers (BIND, Unbound, ...) log over dnstap; the resolver must"
    say "be configured to send it (README.md, section dnstap, has the BIND and Unbound lines)."
  fi
  ask A_DNSTAP --dnstap "dnstap collector (no, yes = tcp:6000 on 127.0.0.1, tcp:PORT, tcp:0.0.0.0:PORT, unix:/path/NAME.sock)" \
    "$(prev AUTOBUILD_DNSTAP no)" check_dnstap
  if [ "$A_DNSTAP" != no ]; then
    ask A_DNSTAP_NAME --dnstap-name "Server name for the dnstap collector's events" "$(prev AUTOBUILD_DNSTAP_NAME "${HOST_TAG}_dnstap")" check_name
  elif [ -n "$A_DNSTAP_NAME" ]; then
    check_name "$A_DNSTAP_NAME" || refuse "--dnstap-name: $WHY"
  else
    A_DNSTAP_NAME=$(prev AUTOBUILD_DNSTAP_NAME) # kept for when the collector is asked for again
  fi
  ask A_CH_DATA --clickhouse-data "ClickHouse data directory" "$(prev CLICKHOUSE_DATA_DIR "$HERE/data/clickhouse")" check_ch_data
  ask A_CH_LOGS --clickhouse-logs "ClickHouse log directory" "$(prev CLICKHOUSE_LOGS_DIR "$HERE/data/clickhouse-logs")" check_ch_logs
  ask A_GRAFANA_DATA --grafana-data "Grafana data directory" "$(prev GRAFANA_DATA_DIR "$HERE/data/grafana")" check_grafana_data
  ask A_RETENTION --retention-days "Days to keep raw DNS events" "$(prev DNSLENS_TTL_DAYS 30)" check_days
  local rollup_default
  rollup_default=$(prev DNSLENS_ROLLUP_TTL_MINUTE_DAYS 90),$(prev DNSLENS_ROLLUP_TTL_HOUR_DAYS 730),$(prev DNSLENS_ROLLUP_TTL_DAY_DAYS 730),$(prev DNSLENS_ROLLUP_TTL_WEEK_DAYS 1825),$(prev DNSLENS_ROLLUP_TTL_MONTH_DAYS 1825)
  ask A_ROLLUP --rollup-retention-days "Days to keep rollups (one number, or minute,hour,day,week,month)" "$rollup_default" check_rollup
  # a stack from before this question has its rollups in UTC: keep them there unless asked
  local zone_default=UTC
  [ -n "${PREV[DNSLENS_TTL_DAYS]:-}" ] || zone_default=$(host_zone)
  ask A_TIMEZONE --timezone "Time zone of the rollups' days and the heatmap (IANA name)" "$(prev DNSLENS_TIMEZONE "$zone_default")" check_zone
  local exposed=no
  [ "$(prev GRAFANA_BIND 127.0.0.1)" = 0.0.0.0 ] && exposed=yes
  ask A_EXPOSE --expose-grafana "Expose Grafana beyond this host (yes/no)" "$exposed" check_yesno
  # not asked: flags, environment, previous run, default
  YES_SAVED=$YES
  YES=1
  ask A_BATCH_SIZE --batch-size "Events per ClickHouse insert" "$(prev DNSLENS_BATCH_SIZE 100000)" check_batch
  ask A_GRAFANA_PORT --grafana-port "Grafana port" "$(prev GRAFANA_PORT 3000)" check_port
  ask A_CH_PORT --clickhouse-port "ClickHouse HTTP port" "$(prev CLICKHOUSE_HTTP_PORT 8123)" check_port
  YES=$YES_SAVED
}

# The host's IANA zone: TZ, then systemd's, Debian's /etc/timezone, the /etc/localtime link; else UTC.
host_zone() {
  local z=${TZ:-}
  [ -n "$z" ] || z=$(timedatectl show -p Timezone --value 2>/dev/null || true)
  [ -n "$z" ] || z=$(head -n 1 /etc/timezone 2>/dev/null || true)
  [ -n "$z" ] || z=$(readlink /etc/localtime 2>/dev/null | sed -n 's|.*/zoneinfo/||p' | sed 's|^\(posix\|right\)/||')
  check_zone "${z:-UTC}" 2>/dev/null || z=UTC
  printf '%s' "${z:-UTC}"
}

check_zone() {
  if [[ ! "$1" =~ ^[A-Za-z][A-Za-z0-9_+/-]*$ ]] || [[ "$1" =~ ^(posix/|right/|posixrules$|localtime$) ]]; then
    WHY="not an IANA time zone name (e.g. UTC, Europe/Berlin, Asia/Jakarta)"
    return 1
  fi
  # a zone file starts with TZif (not zone.tab, posixrules, ...)
  if [ -d /usr/share/zoneinfo ] && [ "$(head -c 4 "/usr/share/zoneinfo/$1" 2>/dev/null)" != TZif ]; then
    WHY="no zone $1 in /usr/share/zoneinfo (e.g. UTC, Europe/Berlin, Asia/Jakarta)"
    return 1
  fi
  NORM=$1
}

# ------------------------------------------------------------------ ports

port_in_use() {
  command -v ss >/dev/null 2>&1 || return 1
  [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
}

check_ports() {
  local what name port prev_key flag b busy=()
  for what in "Grafana:$A_GRAFANA_PORT:GRAFANA_PORT:--grafana-port" "ClickHouse:$A_CH_PORT:CLICKHOUSE_HTTP_PORT:--clickhouse-port" "dnstap:$DNSTAP_PORT:DNSTAP_PORT:--dnstap"; do
    IFS=: read -r name port prev_key flag <<<"$what"
    [ -n "$port" ] || continue
    # our own stack from the previous run holds its ports
    [ "$(prev "$prev_key")" = "$port" ] && continue
    port_in_use "$port" && busy+=("$name port $port is in use on this host: choose another with $flag")
  done
  [ ${#busy[@]} -eq 0 ] && return 0
  for b in "${busy[@]}"; do printf 'autobuild: %s\n' "$b" >&2; done
  [ -n "$DRY_RUN" ] && return 0
  exit 2
}

# ------------------------------------------------------------------ generated files

# secret NAME PREV_KEY: the password kept in secrets/NAME, or one that a version before secrets/
# kept in .env, or a new one.
secret() {
  local file=$SECRETS_DIR/$1 old=${PREV[$2]:-}
  if [ -s "$file" ]; then
    head -n 1 "$file" | tr -d '\n'
  elif [ -n "$old" ]; then
    printf '%s' "$old"
  else
    od -An -tx1 -N20 /dev/urandom | tr -d ' \n'
  fi
}

derive() {
  IFS=, read -r TTL_MINUTE TTL_HOUR TTL_DAY TTL_WEEK TTL_MONTH <<<"$A_ROLLUP"
  GRAFANA_BIND=127.0.0.1
  [ "$A_EXPOSE" = yes ] && GRAFANA_BIND=0.0.0.0
  DNSTAP_KIND=no DNSTAP_PORT='' DNSTAP_ADDR='' DNSTAP_SOCKET=''
  case "$A_DNSTAP" in
    tcp:*)
      DNSTAP_KIND=tcp
      DNSTAP_ADDR=$(cut -d: -f2 <<<"$A_DNSTAP")
      DNSTAP_PORT=$(cut -d: -f3 <<<"$A_DNSTAP")
      ;;
    unix:*)
      DNSTAP_KIND=unix
      DNSTAP_SOCKET=${A_DNSTAP#unix:}
      ;;
  esac
  # Services run as the owner of their host directories; as root we hand the directories to the
  # images' own users instead.
  if [ "$(id -u)" -eq 0 ]; then
    GRAFANA_UID=$GRAFANA_IMAGE_UID GRAFANA_GID=0 DNSTAP_UID=$IMAGE_UID DNSTAP_GID=$IMAGE_UID
  else
    GRAFANA_UID=$(id -u) GRAFANA_GID=$(id -g) DNSTAP_UID=$(id -u) DNSTAP_GID=$(id -g)
  fi
  SERVICES=()
  local pair
  for pair in "${SERVER_NAMES[@]}"; do SERVICES+=("capture-${pair%%=*}"); done
  [ "$DNSTAP_KIND" = no ] || SERVICES+=(dnstap)
  W_PASS=$(secret clickhouse_writer_password CLICKHOUSE_WRITER_PASSWORD)
  R_PASS=$(secret clickhouse_reader_password CLICKHOUSE_READER_PASSWORD)
  G_PASS=$(secret grafana_admin_password GRAFANA_ADMIN_PASSWORD)
}

sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# The ClickHouse users' passwords as hashes (compose mounts the file into users.d as a secret).
clickhouse_users_file() {
  cat <<EOF
<!-- Generated by ./autobuild.sh: the passwords of the users in docker/clickhouse/users.d/dnslens.xml,
     as SHA-256 hashes. The plain passwords are in this directory's other files. -->
<clickhouse>
    <users>
        <$WRITER_USER>
            <password_sha256_hex>$(sha256 "$W_PASS")</password_sha256_hex>
        </$WRITER_USER>
        <$READER_USER>
            <password_sha256_hex>$(sha256 "$R_PASS")</password_sha256_hex>
        </$READER_USER>
    </users>
</clickhouse>
EOF
}

# secrets/: mode 700, so no other user of the host can reach it; its files 644, so each
# container's user (ClickHouse 101, Grafana, node) can read the one compose mounts for it.
write_secrets() {
  mkdir -p -- "$SECRETS_DIR"
  chmod 700 "$SECRETS_DIR"
  printf '%s\n' "$W_PASS" | write_file "$SECRETS_DIR/clickhouse_writer_password" 644
  printf '%s\n' "$R_PASS" | write_file "$SECRETS_DIR/clickhouse_reader_password" 644
  printf '%s\n' "$G_PASS" | write_file "$SECRETS_DIR/grafana_admin_password" 644
  clickhouse_users_file | write_file "$SECRETS_DIR/clickhouse-users.xml" 644
  # The `cluster` compose profile's inter-server secret (docker/cluster/cluster.xml): made once, kept.
  if [ ! -s "$SECRETS_DIR/clickhouse-cluster.xml" ]; then
    cluster_secret_file | write_file "$SECRETS_DIR/clickhouse-cluster.xml" 644
  fi
}

# remote_servers' <secret> for the `cluster` profile's nodes: with it a node runs its part of a
# Distributed query as the user who asked, and no password sits in the tracked configuration.
cluster_secret_file() {
  cat <<EOF
<!-- Generated by ./autobuild.sh for the cluster profile (docker-compose.yml, docker/cluster/). -->
<clickhouse>
    <remote_servers>
        <dnslens>
            <secret>$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')</secret>
        </dnslens>
    </remote_servers>
</clickhouse>
EOF
}

# Written by this script (the password keys only by versions before secrets/: dropped now).
MANAGED_KEYS=" COMPOSE_PROJECT_NAME CLICKHOUSE_DATABASE CLICKHOUSE_WRITER_USER CLICKHOUSE_WRITER_PASSWORD CLICKHOUSE_READER_USER CLICKHOUSE_READER_PASSWORD GRAFANA_ADMIN_USER GRAFANA_ADMIN_PASSWORD CLICKHOUSE_HTTP_PORT GRAFANA_BIND GRAFANA_PORT GRAFANA_UID GRAFANA_GID CLICKHOUSE_DATA_DIR CLICKHOUSE_LOGS_DIR GRAFANA_DATA_DIR DNSLENS_BATCH_SIZE DNSLENS_TTL_DAYS DNSLENS_ROLLUP_TTL_MINUTE_DAYS DNSLENS_ROLLUP_TTL_HOUR_DAYS DNSLENS_ROLLUP_TTL_DAY_DAYS DNSLENS_ROLLUP_TTL_WEEK_DAYS DNSLENS_ROLLUP_TTL_MONTH_DAYS DNSLENS_TIMEZONE DNSTAP_PORT AUTOBUILD_INTERFACES AUTOBUILD_SERVER_NAMES AUTOBUILD_DNSTAP AUTOBUILD_DNSTAP_NAME "

# The .env text: the answers, no password (those are in secrets/).
env_file() {
  local names
  names=$(
    IFS=,
    printf '%s' "${SERVER_NAMES[*]}"
  )
  cat <<EOF
# Generated by ./autobuild.sh: the stack's answers (the passwords are in secrets/).
# Re-running ./autobuild.sh offers these answers as the defaults.
COMPOSE_PROJECT_NAME=dnslens
CLICKHOUSE_DATABASE=$DATABASE
CLICKHOUSE_WRITER_USER=$WRITER_USER
CLICKHOUSE_READER_USER=$READER_USER
GRAFANA_ADMIN_USER=admin
CLICKHOUSE_HTTP_PORT=$A_CH_PORT
GRAFANA_BIND=$GRAFANA_BIND
GRAFANA_PORT=$A_GRAFANA_PORT
GRAFANA_UID=$GRAFANA_UID
GRAFANA_GID=$GRAFANA_GID
CLICKHOUSE_DATA_DIR=$A_CH_DATA
CLICKHOUSE_LOGS_DIR=$A_CH_LOGS
GRAFANA_DATA_DIR=$A_GRAFANA_DATA
DNSLENS_BATCH_SIZE=$A_BATCH_SIZE
DNSLENS_TTL_DAYS=$A_RETENTION
DNSLENS_ROLLUP_TTL_MINUTE_DAYS=$TTL_MINUTE
DNSLENS_ROLLUP_TTL_HOUR_DAYS=$TTL_HOUR
DNSLENS_ROLLUP_TTL_DAY_DAYS=$TTL_DAY
DNSLENS_ROLLUP_TTL_WEEK_DAYS=$TTL_WEEK
DNSLENS_ROLLUP_TTL_MONTH_DAYS=$TTL_MONTH
DNSLENS_TIMEZONE=$A_TIMEZONE
DNSTAP_PORT=$DNSTAP_PORT
AUTOBUILD_INTERFACES=$A_INTERFACES
AUTOBUILD_SERVER_NAMES=$names
AUTOBUILD_DNSTAP=$A_DNSTAP
AUTOBUILD_DNSTAP_NAME=$A_DNSTAP_NAME
EOF
  # settings added by hand (an image tag, say) are kept
  local key kept=()
  for key in "${!PREV[@]}"; do
    [[ "$MANAGED_KEYS" == *" $key "* ]] || kept+=("$key=${PREV[$key]}")
  done
  if [ ${#kept[@]} -gt 0 ]; then
    printf '# kept from the previous .env\n'
    printf '%s\n' "${kept[@]}" | sort
  fi
}

# hidden NAME PREV_KEY: how a dry run shows a password: kept from before, or new.
hidden() {
  if [ -s "$SECRETS_DIR/$1" ] || [ -n "${PREV[$2]:-}" ]; then printf '<kept>'; else printf '<generated>'; fi
}

# The dnslens flags every writer shares: the server, the writer login, batching and retention.
# Retention is on every writer because each re-applies it at start-up.
writer_flags() {
  local address=$1
  cat <<EOF
      - "--clickhouseOutputType"
      - "1"
      - "--clickhouseAddress"
      - "$address"
      - "--clickhouseUsername"
      - "\${CLICKHOUSE_WRITER_USER}"
      - "--clickhousePassword"
      - "@/run/secrets/clickhouse_writer_password"
      - "--clickhouseDictionaryUser"
      - "dnslens_dict"
      - "--clickhouseDatabase"
      - "\${CLICKHOUSE_DATABASE}"
      - "--clickhouseBatchSize"
      - "\${DNSLENS_BATCH_SIZE}"
      - "--clickhouseTTL"
      - "\${DNSLENS_TTL_DAYS}"
      - "--clickhouseRollupTTLMinute"
      - "\${DNSLENS_ROLLUP_TTL_MINUTE_DAYS}"
      - "--clickhouseRollupTTLHour"
      - "\${DNSLENS_ROLLUP_TTL_HOUR_DAYS}"
      - "--clickhouseRollupTTLDay"
      - "\${DNSLENS_ROLLUP_TTL_DAY_DAYS}"
      - "--clickhouseRollupTTLWeek"
      - "\${DNSLENS_ROLLUP_TTL_WEEK_DAYS}"
      - "--clickhouseRollupTTLMonth"
      - "\${DNSLENS_ROLLUP_TTL_MONTH_DAYS}"
      - "--timezone"
      - "\${DNSLENS_TIMEZONE}"
EOF
}

writer_common() {
  # the image is the one the migrate service builds (autobuild.sh builds it first)
  cat <<'EOF'
    image: dnslens:local
    pull_policy: never
    restart: unless-stopped
    depends_on:
      clickhouse:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
    secrets: [clickhouse_writer_password]
EOF
}

SERVICES=()
override_file() {
  local pair iface name svc volumes=()
  cat <<'EOF'
# Generated by ./autobuild.sh from its answers (kept in .env); re-run it instead of editing.
# One dnslens capture per monitored interface, and the dnstap collector when asked for.
services:
EOF
  for pair in "${SERVER_NAMES[@]}"; do
    iface=${pair%%=*}
    name=${pair#*=}
    svc=capture-$iface
    volumes+=("spool-$iface")
    cat <<EOF
  $svc:
EOF
    writer_common
    cat <<EOF
    # Live capture needs the host's interfaces and two capabilities (tcpdump holds them as file
    # capabilities; dnslens runs unprivileged). On the host network, ClickHouse is on 127.0.0.1.
    network_mode: host
    cap_drop: [ALL]
    cap_add: [NET_RAW, NET_ADMIN]
    volumes:
      - "spool-$iface:/var/lib/dnslens"
    healthcheck:
      test: ["CMD", "node", "docker/health.mjs", "--process", "tcpdump", "--store", "http://127.0.0.1:\${CLICKHOUSE_HTTP_PORT}"]
      interval: 10s
      timeout: 5s
      retries: 5
      start_period: 15s
    command:
      - "--devName"
      - "$iface"
      - "--serverName"
      - "$name"
EOF
    writer_flags "127.0.0.1:\${CLICKHOUSE_HTTP_PORT}"
  done
  if [ "$DNSTAP_KIND" != no ]; then
    volumes+=(spool-dnstap)
    local listen health
    cat <<EOF
  dnstap:
EOF
    writer_common
    # on a unix socket it runs as the owner of the socket's host directory; over TCP as the image's user
    [ "$DNSTAP_KIND" = unix ] && printf '    user: "%s:%s"\n' "$DNSTAP_UID" "$DNSTAP_GID"
    cat <<EOF
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
EOF
    if [ "$DNSTAP_KIND" = tcp ]; then
      listen=tcp://0.0.0.0:6000
      health='"--tcp", "127.0.0.1:6000"'
      cat <<EOF
    ports:
      - "$DNSTAP_ADDR:\${DNSTAP_PORT}:6000"
    volumes:
      - "spool-dnstap:/var/lib/dnslens"
EOF
    else
      listen=unix:///run/dnstap/$(basename "$DNSTAP_SOCKET")
      health="\"--socket\", \"/run/dnstap/$(basename "$DNSTAP_SOCKET")\""
      cat <<EOF
    volumes:
      - "spool-dnstap:/var/lib/dnslens"
      - "$(dirname "$DNSTAP_SOCKET"):/run/dnstap"
EOF
    fi
    cat <<EOF
    healthcheck:
      test: ["CMD", "node", "docker/health.mjs", $health, "--store", "http://clickhouse:8123"]
      interval: 10s
      timeout: 5s
      retries: 5
      start_period: 15s
    command:
      - "--dnstapSocket"
      - "$listen"
EOF
    # resolvers on the host connect to the socket as their own user
    [ "$DNSTAP_KIND" = unix ] && printf '      - "--dnstapPermission"\n      - "666"\n'
    cat <<EOF
      - "--serverName"
      - "$A_DNSTAP_NAME"
EOF
    writer_flags clickhouse:8123
  fi
  if [ ${#SERVICES[@]} -eq 0 ]; then
    printf '  {}\n'
  fi
  if [ ${#volumes[@]} -gt 0 ]; then
    printf '\n# dnslens spools batches here while ClickHouse is away\nvolumes:\n'
    local v
    for v in "${volumes[@]}"; do printf '  %s: {}\n' "$v"; done
  fi
}

write_file() { # PATH MODE: stdin to PATH, atomically
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chmod "$2" "$tmp"
  mv -f -- "$tmp" "$1"
}

# ------------------------------------------------------------------ start and wait

# state of a service's container: "status|health|exit code", empty when there is none
service_state() {
  local id
  id=$("${COMPOSE[@]}" ps -a -q "$1" 2>/dev/null | head -n 1)
  [ -n "$id" ] || return 0
  docker inspect --format '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}' "$id" 2>/dev/null || true
}

wait_for_health() {
  local deadline=$((SECONDS + TIMEOUT)) svc state
  say "Waiting for the services to be healthy (at most ${TIMEOUT}s)..."
  for svc in clickhouse migrate grafana "${SERVICES[@]}"; do
    while :; do
      state=$(service_state "$svc")
      case "$svc|$state" in
        migrate\|exited\|*\|0) break ;;
        migrate\|exited\|*) fail "the schema migration failed (exit ${state##*|}): ${COMPOSE[*]} logs migrate" ;;
        *\|running\|healthy\|*) break ;;
        *\|exited\|* | *\|dead\|*) fail "$svc stopped (exit ${state##*|}): ${COMPOSE[*]} logs $svc" ;;
      esac
      if [ "$SECONDS" -ge "$deadline" ]; then
        fail "$svc is not healthy after ${TIMEOUT}s (state: ${state:-no container}): ${COMPOSE[*]} logs $svc"
      fi
      sleep "$POLL"
    done
    if [ "$svc" = migrate ]; then say "  migrate: completed"; else say "  $svc: healthy"; fi
  done
}

grafana_url() {
  if [ "$GRAFANA_BIND" = 0.0.0.0 ]; then
    local ip
    ip=$(ip -o -4 route get 1.1.1.1 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "src") { print $(i + 1); exit } }')
    printf 'http://%s:%s' "${ip:-THIS-HOST}" "$A_GRAFANA_PORT"
  else
    printf 'http://127.0.0.1:%s' "$A_GRAFANA_PORT"
  fi
}

print_access() {
  local dir
  dir=$(printf '%q' "$HERE")
  cat <<EOF

dnslens is running.
  Grafana:       $(grafana_url)
                 user admin, password in $SECRETS_DIR/grafana_admin_password
  Data arriving: cd $dir && ${COMPOSE[*]} run --rm --no-deps migrate sql --clickhouseAddress clickhouse:8123 --clickhouseUsername $WRITER_USER --clickhousePassword @/run/secrets/clickhouse_writer_password --clickhouseDatabase $DATABASE "SELECT Server, count() AS messages, max(PacketTime) AS newest FROM DNS_LOG GROUP BY Server"
  Ad hoc SQL:    cd $dir && ${COMPOSE[*]} exec clickhouse clickhouse-client --database $DATABASE
  Stop:          ./autobuild.sh down   (the data stays; down --volumes deletes it)
EOF
}

# Every answer, before anything is written: what a re-run would change is seen first.
print_summary() {
  local pair names=() dnstap=$A_DNSTAP
  for pair in "${SERVER_NAMES[@]}"; do names+=("${pair%%=*} as ${pair#*=}"); done
  [ "$A_DNSTAP" = no ] || dnstap="$A_DNSTAP, events named $A_DNSTAP_NAME"
  cat <<EOF

The stack will be set up with:
  Interfaces:          ${names[*]:-none}
  dnstap collector:    $dnstap
  ClickHouse data:     $A_CH_DATA
  ClickHouse logs:     $A_CH_LOGS
  Grafana data:        $A_GRAFANA_DATA
  Keep raw events:     $A_RETENTION days
  Keep rollups:        $TTL_MINUTE,$TTL_HOUR,$TTL_DAY,$TTL_WEEK,$TTL_MONTH days (minute,hour,day,week,month)
  Time zone:           $A_TIMEZONE (rollup days, weeks and months; the heatmap)
  Grafana:             $(grafana_url) ($([ "$GRAFANA_BIND" = 0.0.0.0 ] && printf 'reachable from other hosts' || printf 'this host only'))
  ClickHouse HTTP:     127.0.0.1:$A_CH_PORT
  Events per insert:   $A_BATCH_SIZE
  Files:               $ENV_FILE, $OVERRIDE_FILE, $SECRETS_DIR/
EOF
}

confirm() {
  [ -n "$YES" ] && return 0
  local answer=
  printf 'Write these files and start the stack? [Y/n]: '
  if ! IFS= read -r answer; then
    printf '\n'
    refuse "no answer (input ended): nothing written; --yes accepts the summary without asking"
  fi
  [ -t 0 ] || printf '%s\n' "$answer"
  case "${answer,,}" in
    '' | y | yes) return 0 ;;
    *) refuse "nothing written or started (the answer was \"$answer\")" ;;
  esac
}

# ------------------------------------------------------------------ actions

up() {
  check_prerequisites
  ask_questions
  derive
  check_ports
  local env_text override_text
  override_text=$(override_file)
  env_text=$(env_file)
  print_summary
  if [ -n "$DRY_RUN" ]; then
    say "--- $ENV_FILE (mode 600)"
    printf '%s\n' "$env_text"
    say "--- $SECRETS_DIR/ (mode 700): clickhouse_writer_password $(hidden clickhouse_writer_password CLICKHOUSE_WRITER_PASSWORD), clickhouse_reader_password $(hidden clickhouse_reader_password CLICKHOUSE_READER_PASSWORD), grafana_admin_password $(hidden grafana_admin_password GRAFANA_ADMIN_PASSWORD), clickhouse-users.xml (their hashes), clickhouse-cluster.xml (the cluster profile's inter-server secret)"
    say "--- $OVERRIDE_FILE"
    printf '%s\n' "$override_text"
    say "--- commands"
  else
    confirm
    # secrets/ first: .env no longer holds the passwords an older version kept there
    (
      umask 077
      write_secrets
      printf '%s\n' "$env_text" | write_file "$ENV_FILE" 600
    )
    printf '%s\n' "$override_text" | write_file "$OVERRIDE_FILE" 644
    say "Wrote $ENV_FILE, $SECRETS_DIR/ and $OVERRIDE_FILE"
    if [ "$(id -u)" -eq 0 ]; then
      chown -R "$GRAFANA_UID:$GRAFANA_GID" "$A_GRAFANA_DATA"
      [ "$DNSTAP_KIND" = unix ] && chown "$DNSTAP_UID:$DNSTAP_GID" "$(dirname "$DNSTAP_SOCKET")"
    fi
  fi
  local old_ttl new_ttl
  old_ttl="$(prev DNSLENS_TTL_DAYS),$(prev DNSLENS_ROLLUP_TTL_MINUTE_DAYS),$(prev DNSLENS_ROLLUP_TTL_HOUR_DAYS),$(prev DNSLENS_ROLLUP_TTL_DAY_DAYS),$(prev DNSLENS_ROLLUP_TTL_WEEK_DAYS),$(prev DNSLENS_ROLLUP_TTL_MONTH_DAYS)"
  new_ttl="$A_RETENTION,$A_ROLLUP"
  if [ -n "${PREV[DNSLENS_TTL_DAYS]:-}" ] && [ "$old_ttl" != "$new_ttl" ]; then
    # The migrate command carries the retention, so compose re-creates and re-runs it; the
    # writers wait for it again. (No second, forced run: two migrations must not overlap.)
    say "Retention changed (raw,minute,hour,day,week,month: $old_ttl -> $new_ttl days): the migrate service re-runs and applies it."
  fi
  cd "$HERE"
  run "${COMPOSE[@]}" build migrate
  local old_zone
  old_zone=$(prev DNSLENS_TIMEZONE UTC)
  if [ -n "${PREV[DNSLENS_TTL_DAYS]:-}" ] && [ "$old_zone" != "$A_TIMEZONE" ] && [ ${#SERVICES[@]} -gt 0 ]; then
    # the migration rebuilds the rollups with their views dropped: nothing may write meanwhile
    say "Time zone changed ($old_zone -> $A_TIMEZONE): the captures stop while the migrate service rebuilds the rollups."
    run "${COMPOSE[@]}" stop "${SERVICES[@]}"
  fi
  run "${COMPOSE[@]}" up -d --remove-orphans
  [ -n "$DRY_RUN" ] && return 0
  wait_for_health
  print_access
}

down() {
  check_prerequisites
  cd "$HERE"
  if [ -z "$REMOVE_DATA" ]; then
    run "${COMPOSE[@]}" down --remove-orphans
    say "Stopped. The data stays in $(prev CLICKHOUSE_DATA_DIR "$HERE/data/clickhouse"), $(prev CLICKHOUSE_LOGS_DIR "$HERE/data/clickhouse-logs") and $(prev GRAFANA_DATA_DIR "$HERE/data/grafana"); ./autobuild.sh brings it back."
    return 0
  fi
  local dirs=() d
  for d in "$(prev CLICKHOUSE_DATA_DIR)" "$(prev CLICKHOUSE_LOGS_DIR)" "$(prev GRAFANA_DATA_DIR)"; do
    [ -n "$d" ] && dirs+=("$d")
  done
  say "This stops the stack and DELETES its data: the spool volumes and ${dirs[*]:-no directories (no .env)}"
  if [ -z "$YES" ]; then
    local answer=
    printf 'Type "delete" to go on: '
    IFS= read -r answer || true
    [ "$answer" = delete ] || refuse "nothing deleted (the answer was not \"delete\"); --yes skips this question"
  fi
  run "${COMPOSE[@]}" down --remove-orphans --volumes
  for d in "${dirs[@]}"; do
    case "$d" in / | "$HOME" | "$HERE" | "") continue ;; /*) ;; *) continue ;; esac
    run rm -rf -- "$d" || warn "could not delete $d (files of the containers' users: delete it as root)"
  done
}

# ------------------------------------------------------------------ sensor mode

SENSOR_IMAGE=dnslens:local

# check_bus LIST: NATS server URLs, nats:// or tls://, host[:port]
check_bus() {
  local url urls=()
  IFS=, read -r -a urls <<<"$1"
  [ ${#urls[@]} -gt 0 ] || return 1
  for url in "${urls[@]}"; do
    if ! [[ "$url" =~ ^(nats|tls)://([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$ ]]; then
      WHY="\"$url\" is not a NATS server URL (nats://HOST:PORT or tls://HOST:PORT)"
      return 1
    fi
  done
}

sensor() {
  [ -n "$A_BUS" ] || refuse "sensor mode needs the bus to publish to: --bus nats://HOST:4222 (or AUTOBUILD_BUS), the NATS JetStream of the collectors' host (docker compose --profile cluster there)"
  check_bus "$A_BUS" || refuse "--bus: $WHY"
  case "$A_INTERFACES" in '' | none) refuse "sensor mode needs the interfaces to capture on: --interfaces eth0[,eth1] (or AUTOBUILD_INTERFACES)" ;; esac
  local problems=()
  command -v ip >/dev/null 2>&1 || problems+=("ip is missing: install iproute2 (it lists the interfaces to capture on)")
  if ! command -v docker >/dev/null 2>&1; then
    problems+=("docker is missing: install Docker Engine (https://docs.docker.com/engine/install/)")
  elif ! docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
    problems+=("cannot reach the Docker engine: is it running, and may this user use it (root, or the docker group)?")
  fi
  if [ ${#problems[@]} -gt 0 ]; then
    for p in "${problems[@]}"; do printf 'autobuild: %s\n' "$p" >&2; done
    [ -n "$DRY_RUN" ] || exit 1
  fi
  list_interfaces
  check_interfaces "$A_INTERFACES" || refuse "--interfaces: $WHY"
  local ifaces=() iface name pair pairs=()
  IFS=, read -r -a ifaces <<<"$NORM"
  IFS=, read -r -a pairs <<<"$A_SERVER_NAMES"
  for pair in "${pairs[@]}"; do
    [[ "$pair" == *=* ]] || refuse "--server-name: \"$pair\" is not IFACE=NAME"
    [[ ",$NORM," == *",${pair%%=*},"* ]] || refuse "--server-name: ${pair%%=*} is not one of the monitored interfaces ($NORM)"
    check_name "${pair#*=}" || refuse "--server-name: $WHY"
  done
  cd "$HERE"
  run docker build -t "$SENSOR_IMAGE" .
  for iface in "${ifaces[@]}"; do
    name=$(name_in "$A_SERVER_NAMES" "$iface")
    name=${name:-${HOST_TAG}_$iface}
    # a re-run replaces the container; its spool volume (batches the bus has not taken) stays
    printf '+ %s\n' "docker rm -f dnslens-sensor-$iface"
    [ -n "$DRY_RUN" ] || docker rm -f "dnslens-sensor-$iface" >/dev/null 2>&1 || true
    # Live capture: the host's interfaces and the two capture capabilities (tcpdump holds them as
    # file capabilities; dnslens runs unprivileged), as the stack's capture services.
    run docker run -d --name "dnslens-sensor-$iface" --restart unless-stopped \
      --network host --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN \
      -v "dnslens-sensor-spool-$iface:/var/lib/dnslens" \
      "$SENSOR_IMAGE" \
      --devName "$iface" --serverName "$name" \
      --natsOutputType 1 --natsOutputServer "$A_BUS" --natsSpoolDir /var/lib/dnslens/nats-spool
  done
  [ -n "$DRY_RUN" ] && return 0
  local state
  for iface in "${ifaces[@]}"; do
    state=$(docker inspect --format '{{.State.Status}}' "dnslens-sensor-$iface" 2>/dev/null || true)
    [ "$state" = running ] || fail "dnslens-sensor-$iface is not running (state: ${state:-no container}): docker logs dnslens-sensor-$iface"
    say "  dnslens-sensor-$iface: running, publishing to $A_BUS"
  done
  say "Logs: docker logs -f dnslens-sensor-${ifaces[0]}   Stop: docker rm -f dnslens-sensor-${ifaces[0]}"
}

case "$ACTION" in
  down) down ;;
  sensor) sensor ;;
  *) up ;;
esac
