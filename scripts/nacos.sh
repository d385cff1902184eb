#!/usr/bin/env bash
# Provisions and runs a real Nacos server: 2.x from Maven Central artifacts, 3.x from the server kit
# (../shared/nacos3: the server modules Central lacks, a pom for the rest, the official class-path
# order). No Docker, no zip.
#
#   scripts/nacos.sh install            resolve the server's classpath into the cache (once)
#   scripts/nacos.sh start [--auth] [--fresh]
#                                       start a standalone server in the background, wait until ready
#                                       (--fresh: on a new database, not the one its port left behind)
#   scripts/nacos.sh stop               stop the server this script started (pid file), wait for exit
#   scripts/nacos.sh status             say whether it runs, and where
#   scripts/nacos.sh check              fail when the server's logs show a class that did not load
#   scripts/nacos.sh cluster-start      start a 3-node cluster on NACOS_PORT, +10, +20 (the nodes not
#                                       running yet), wait until every node is ready and sees 3 UP
#   scripts/nacos.sh cluster-stop       stop the cluster's nodes
#   scripts/nacos.sh cluster-status     each node's state as the cluster reports it
#
# Environment:
#   NACOS_PORT           HTTP port (default 8848); gRPC uses NACOS_PORT+1000 and +1001, and a
#                        cluster node also NACOS_PORT-1000 (Raft); a 3.x server also takes
#                        NACOS_PORT-1000 (Raft) and a console port (any free one)
#   NACOS_VERSION        server version (default 2.3.2; falls back through NACOS_FALLBACK_VERSIONS);
#                        each version is installed beside the others, in <cache>/nacos-<version>/lib;
#                        3.x (3.0.3) comes from the kit in NACOS3_KIT
#   NACOS3_KIT           the Nacos 3 server kit (default <repo>/../shared/nacos3)
#   NACOS_V1_API         3.x only: on (default, the 3.0/3.1 default) serves the v1/v2 HTTP client API;
#                        off answers it with 410, as Nacos 3.2 does
#   NACOS_ADMIN_PASSWORD 3.x with --auth: the password set for the user nacos (default nacos)
#   NACOS_MAVEN_GROUP    Maven groupId of the server modules (default org.jeecgframework.nacos)
#   NACOS_CACHE_DIR      where jars, data and logs live (default <repo>/.nacos, git-ignored)
#   NACOS_START_TIMEOUT  seconds to wait for readiness (default 120; for a whole cluster, 180)
#   NACOS_JAVA_OPTS      extra JVM options (default heap: -Xms256m -Xmx512m)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${NACOS_PORT:-8848}
VERSION=${NACOS_VERSION:-2.3.2}
FALLBACK_VERSIONS=${NACOS_FALLBACK_VERSIONS:-"2.2.3 2.0.4"}
MAVEN_GROUP=${NACOS_MAVEN_GROUP:-org.jeecgframework.nacos}
CACHE=${NACOS_CACHE_DIR:-$ROOT/.nacos}
TIMEOUT=${NACOS_START_TIMEOUT:-120}
JAVA_OPTS=${NACOS_JAVA_OPTS:-"-Xms256m -Xmx512m"}
KIT=${NACOS3_KIT:-$ROOT/../shared/nacos3}
V1_API=${NACOS_V1_API:-on}
ADMIN_PASSWORD=${NACOS_ADMIN_PASSWORD:-nacos}

say() { printf '[nacos] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

need_java() {
  command -v java >/dev/null 2>&1 || die "java not found: install a JDK 17+ (e.g. apt-get install openjdk-17-jdk-headless)"
}
need_maven() {
  command -v mvn >/dev/null 2>&1 || die "mvn not found: install Apache Maven (e.g. apt-get install maven)"
}

# shellcheck source=lib/ports.sh
. "$ROOT/scripts/lib/ports.sh"

is3() { case $1 in 3.*) return 0 ;; *) return 1 ;; esac; }

# The version actually installed (the first that resolved) is recorded in the cache.
installed_version() { cat "$CACHE/installed-version" 2>/dev/null || true; }
lib_dir() { echo "$CACHE/nacos-$1/lib"; }

# A version is installed when its lib folder holds the jars and `classpath`: the jars in Maven's
# resolution order, the order Nacos's own distribution loads them in. The order matters: both
# com.caucho:hessian 4.x and SOFA's hessian 3.x are needed, and caucho's must come first.
install_version() {
  local v=$1 lib
  lib=$(lib_dir "$v")
  if [ -f "$lib/classpath" ]; then
    say "Nacos $v already installed in $lib"
    return 0
  fi
  if is3 "$v"; then install_kit "$v" "$lib"; return; fi
  need_maven
  say "resolving Nacos $v ($MAVEN_GROUP:nacos-console) from Maven Central into $lib"
  rm -rf "$lib"
  mkdir -p "$lib"
  # Two runs: in one, build-classpath reuses the set copy-dependencies resolved, in hash order.
  local -a mvn=(mvn -B -q -f "$ROOT/scripts/nacos/pom.xml" -Dnacos.groupId="$MAVEN_GROUP" -Dnacos.version="$v")
  local boot
  boot=$(spring_boot_bom "$v")
  [ -z "$boot" ] || mvn+=("-Dspring.boot.version=$boot")
  if "${mvn[@]}" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >"$CACHE/install-$v.log" 2>&1 \
      && "${mvn[@]}" dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$lib/maven-classpath.txt" >>"$CACHE/install-$v.log" 2>&1 \
      && write_classpath "$lib"; then
    say "installed Nacos $v ($(ls "$lib"/*.jar | wc -l) jars)"
    return 0
  fi
  say "Nacos $v did not resolve:"
  grep -E '^\[ERROR\]|^\[nacos\]' "$CACHE/install-$v.log" | head -3 >&2 || tail -5 "$CACHE/install-$v.log" >&2
  rm -rf "$lib"
  return 1
}

# The Spring Boot BOM a version needs imported (scripts/nacos/pom.xml says why): the Boot version
# its own modules depend on. Versions that resolve to one Spring generation without it need none.
spring_boot_bom() {
  case $1 in
    2.2.3) echo 2.6.14 ;;
  esac
}

# Rewrites Maven's classpath (jars in ~/.m2) to the copies in $1, keeping the order, and checks it.
write_classpath() {
  local lib=$1 jar cp="" caucho=0 sofa=0 i=0 spring=""
  while IFS= read -r jar || [ -n "$jar" ]; do
    i=$((i + 1))
    # Spring Framework's own jars (groupId org.springframework): their major versions, to compare.
    case "$jar" in
      */org/springframework/spring-*/*) spring="$spring $(basename "$(dirname "$jar")" | cut -d. -f1)" ;;
    esac
    [ -f "$lib/$(basename "$jar")" ] || { echo "[nacos] $(basename "$jar") is on Maven's classpath but was not copied" >&2; return 1; }
    cp="$cp${cp:+:}$lib/$(basename "$jar")"
    case "$jar" in
      */com/caucho/hessian/*) caucho=$i ;;
      */com/alipay/sofa/hessian/*) sofa=$i ;;
    esac
  done < <(tr ':' '\n' <"$lib/maven-classpath.txt")
  if [ "$caucho" = 0 ] || [ "$sofa" = 0 ] || [ "$caucho" -gt "$sofa" ]; then
    echo "[nacos] expected com.caucho:hessian before com.alipay.sofa:hessian on the classpath (positions $caucho, $sofa)" >&2
    return 1
  fi
  if [ "$(printf '%s\n' $spring | sort -u | wc -l)" -gt 1 ]; then
    echo "[nacos] Spring Framework jars of more than one generation on the classpath (majors:$spring); see spring_boot_bom" >&2
    return 1
  fi
  printf '%s\n' "$cp" >"$lib/classpath"
}

# Nacos 3 from the kit: its pom's jars (each the version the distribution ships, no transitive
# resolution) and its server modules in one folder, the class path in the kit's classpath.txt
# order (the official nacos-server.jar's BOOT-INF/classpath.idx). Jars the kit has but that order
# leaves out (Spring Boot's empty starters) are copied but not on the class path, as in the jar.
install_kit() {
  local v=$1 lib=$2 name cp="" kitv
  [ -f "$KIT/classpath.txt" ] || die "Nacos $v needs the server kit, not found at $KIT (set NACOS3_KIT)"
  kitv=$(sed -n 's/^nacos-bootstrap-\(.*\)\.jar$/\1/p' "$KIT/classpath.txt" | head -1)
  [ "$kitv" = "$v" ] || die "the kit at $KIT is Nacos $kitv, not $v"
  need_maven
  say "installing Nacos $v from the kit $KIT into $lib"
  rm -rf "$lib"
  mkdir -p "$lib"
  if ! mvn -B -q -f "$KIT/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" >"$CACHE/install-$v.log" 2>&1; then
    say "Nacos $v: the kit's jars did not resolve:"
    grep -E '^\[ERROR\]' "$CACHE/install-$v.log" | head -3 >&2 || tail -5 "$CACHE/install-$v.log" >&2
    rm -rf "$lib"
    return 1
  fi
  cp "$KIT"/server-modules/*.jar "$lib/"
  while IFS= read -r name || [ -n "$name" ]; do
    [ -n "$name" ] || continue
    if [ ! -f "$lib/$name" ]; then
      say "Nacos $v: $name is in the kit's classpath.txt but neither in its server-modules nor its pom"
      rm -rf "$lib"
      return 1
    fi
    cp="$cp${cp:+:}$lib/$name"
  done <"$KIT/classpath.txt"
  printf '%s\n' "$cp" >"$lib/classpath"
  say "installed Nacos $v ($(tr ':' '\n' <"$lib/classpath" | wc -l) jars on the class path)"
}

cmd_install() {
  mkdir -p "$CACHE"
  local v
  if [ -n "${NACOS_VERSION:-}" ]; then
    install_version "$VERSION" || die "Nacos $VERSION could not be resolved (see $CACHE/install-$VERSION.log)"
    ensure_cds "$VERSION"
    return
  fi
  local current
  current=$(installed_version)
  if [ -n "$current" ] && [ -f "$(lib_dir "$current")/classpath" ]; then
    say "Nacos $current already installed"
    ensure_cds "$current"
    return 0
  fi
  # The default server: the newest that resolves (an explicit NACOS_VERSION is used as asked).
  for v in $VERSION $FALLBACK_VERSIONS; do
    if install_version "$v"; then
      echo "$v" >"$CACHE/installed-version"
      ensure_cds "$v"
      return 0
    fi
  done
  die "no Nacos 2.x server version could be resolved from Maven Central"
}

node_home() { echo "$CACHE/node-$1"; }
pid_file() { echo "$(node_home "$1")/nacos.pid"; }

# Prints the pid of the server we started on this port, if it still runs and is ours.
running_pid() {
  local port=$1 pf pid
  pf=$(pid_file "$port")
  [ -f "$pf" ] || return 1
  pid=$(cat "$pf")
  # Guard against pid reuse: the process must be the JVM whose nacos.home is ours.
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-Dnacos.home=$(node_home "$port") "; then
    echo "$pid"
    return 0
  fi
  rm -f "$pf"
  return 1
}

# The version a node was last started as (empty before its first start).
node_version() { cat "$(node_home "$1")/version" 2>/dev/null || true; }

# Readiness: 3.x answers on its admin API (its v1 console path answers 410), 2.x on the v1 console
# path. A node of unknown version (not ours) is asked both.
ready() {
  local code v
  v=$(node_version "$1")
  if [ -z "$v" ] || is3 "$v"; then
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/nacos/v3/admin/core/state/readiness" || true)
    [ "$code" = 200 ] && return 0
    [ -n "$v" ] && return 1
  fi
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/nacos/v1/console/health/readiness" || true)
  [ "$code" = 200 ]
}

# A free TCP port from the OS (for a 3.x console, which needs one of its own).
os_free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# A missing class shows only when the code path runs (the gRPC push path loads SOFA's hessian on the
# first push), and then only in a log file. Any such line means the classpath is not the
# distribution's: say so loudly, with the lines.
class_errors() {
  local home
  home=$(node_home "$1")
  grep -rhE 'NoClassDefFoundError|ClassNotFoundException' "$home/logs" 2>/dev/null | head -5
}

check_classes() {
  local found
  found=$(class_errors "$1")
  [ -z "$found" ] && return 0
  say "error: Nacos on port $1 failed to load classes (its classpath is broken; see $(node_home "$1")/logs):"
  printf '%s\n' "$found" >&2
  return 1
}

# The class-data archive for a version's class path ($1, its lib folder) under this JDK.
cds_archive() {
  local jdk
  jdk=$(java -version 2>&1 | head -2 | cksum | cut -d' ' -f1)
  echo "$1/classes-$jdk.jsa"
}

# Makes version $1's class-data archive once per JDK: a server started on free ports, stopped when
# ready, writes the classes it loaded as it exits. One process makes it (a lock folder; one left
# by a process killed on the way is stale after 10 minutes); the others start without it.
ensure_cds() {
  local v=$1 lib cds lock port tries=0
  lib=$(lib_dir "$v")
  cds=$(cds_archive "$lib")
  [ -f "$cds" ] && return 0
  lock="$lib/cds.lock"
  find "$lock" -maxdepth 0 -mmin +10 -exec rmdir {} \; 2>/dev/null || true
  mkdir "$lock" 2>/dev/null || return 0
  while port=$(os_free_port) && ! nacos_ports_free "$port" -1000 && [ "$tries" -lt 20 ]; do tries=$((tries + 1)); done
  say "making the class-data archive of Nacos $v (a server on port $port, once per JDK)"
  (
    export NACOS_VERSION=$v CDS_DUMP=1
    start_node "$port" false "" && wait_ready "$port"
    stop_node "$port"
  ) >/dev/null 2>&1 || true
  rm -rf "$(node_home "$port")"
  rmdir "$lock" 2>/dev/null || true
  if [ -f "$cds" ]; then say "class-data archive ready: $cds"; else say "no class-data archive made (servers start without one)"; fi
}

# start_node PORT AUTH MEMBERS: launches one server process in the background.
start_node() {
  local port=$1 auth=$2 members=$3 home v lib pid
  need_java
  [ -n "${NACOS_VERSION:-}" ] || [ -n "$(installed_version)" ] || cmd_install
  v=${NACOS_VERSION:-$(installed_version)}
  lib=$(lib_dir "$v")
  [ -f "$lib/classpath" ] || install_version "$v" || die "Nacos $v could not be installed"
  home=$(node_home "$port")
  if pid=$(running_pid "$port"); then
    say "already running on port $port (pid $pid)"
    return 0
  fi
  if ready "$port"; then
    die "something else already answers on port $port; stop it or choose NACOS_PORT"
  fi
  # Every port the server will bind: HTTP, gRPC (+1000, +1001), Raft (-1000) for a cluster node
  # and for any 3.x server (3.x standalone starts its Raft group too).
  local -a extra=()
  { [ -n "$members" ] || is3 "$v"; } && extra=(-1000)
  nacos_ports_free "$port" "${extra[@]}" \
    || die "a port Nacos needs is taken: $port, $((port + 1000)), $((port + 1001))${extra:+ or $((port - 1000))}; choose another NACOS_PORT"
  # Data of another version (2.x and 3.x Derby schemas differ) is not reused.
  [ "$(node_version "$port")" = "$v" ] && [ "${FRESH:-false}" = false ] || rm -rf "$home/data"
  # A standalone server's database that this start creates gets its first config write from
  # prime_config (wait_ready); a cluster's config writes wait for its Raft leader.
  rm -f "$home/fresh-db"
  if [ -z "$members" ] && [ ! -d "$home/data/derby-data" ]; then mkdir -p "$home" && : >"$home/fresh-db"; fi
  # Fresh logs each start: the class-loading check below reads them.
  rm -rf "$home/logs"
  mkdir -p "$home/logs" "$home/conf"
  echo "$v" >"$home/version"
  local -a props=(
    "-Dnacos.home=$home"
    "-Dnacos.server.ip=127.0.0.1"
    "-Dnacos.inetutils.ip-address=127.0.0.1"
    "-Dnacos.preferHostnameOverIp=false"
    "-Dnacos.core.auth.enabled=$auth"
    "-Dnacos.core.auth.system.type=nacos"
    # Nacos gives its embedded Derby 3 s to open; creating a new database takes far longer on a busy
    # 2-core machine ("load derby-schema.sql error ... Login timeout exceeded").
    "-Ddb.pool.config.connectionTimeout=120000"
  )
  if [ -n "$members" ]; then
    # Every node reads the same member list from its own conf/cluster.conf; config data lives in
    # each node's embedded Derby, replicated by Raft (port-1000), naming data by Distro (gRPC).
    printf '%s\n' $members >"$home/conf/cluster.conf"
    props+=("-Dnacos.standalone=false" "-Dnacos.member.list=${members// /,}" "-DembeddedStorage=true")
  else
    props+=("-Dnacos.standalone=true")
  fi
  if [ "$auth" = true ]; then
    # A fresh random token key per start; the server identity pair lets cluster members talk.
    local key
    key=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
    props+=(
      "-Dnacos.core.auth.plugin.nacos.token.secret.key=$key"
      "-Dnacos.core.auth.server.identity.key=fastify-nacos"
      "-Dnacos.core.auth.server.identity.value=fastify-nacos-test"
      # With the user cache on, users load 5 s after start and logins fail until then.
      "-Dnacos.core.auth.caching.enabled=false"
    )
  fi
  local main=com.alibaba.nacos.Nacos cport="" extra_info=""
  local -a args=()
  # 2.x: server.port; 3.x: nacos.server.main.port below (server.port there would put the console
  # on the server's port).
  is3 "$v" || props+=("-Dserver.port=$port")
  if is3 "$v"; then
    [ -z "$members" ] || die "a cluster of Nacos $v is not supported by this script (2.x only)"
    [ -f "$KIT/conf/application.properties" ] || die "Nacos $v needs the server kit's conf/, not found at $KIT (set NACOS3_KIT)"
    case $V1_API in on) ;; off) ;; *) die "NACOS_V1_API must be on or off, not $V1_API" ;; esac
    cport=$(os_free_port) || die "no free port for the Nacos console"
    main=com.alibaba.nacos.bootstrap.NacosBootstrap
    # 3.x reads its port from nacos.server.main.port (server.port alone leaves gRPC on 9848) and
    # starts the console on a port of its own. A token key is needed even with auth off.
    args=(
      "--spring.config.additional-location=file:$KIT/conf/"
      "--nacos.server.main.port=$port"
      "--nacos.console.port=$cport"
    )
    props+=(
      "-Dnacos.core.api.compatibility.client.enabled=$([ "$V1_API" = on ] && echo true || echo false)"
      # Auth off means off for the admin API and the console too (3.x guards them apart); the
      # test helpers read Nacos's own state through the admin API.
      "-Dnacos.core.auth.admin.enabled=$auth"
      "-Dnacos.core.auth.console.enabled=$auth"
    )
    if [ "$auth" != true ]; then
      props+=(
        "-Dnacos.core.auth.plugin.nacos.token.secret.key=$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
        "-Dnacos.core.auth.server.identity.key=fastify-nacos"
        "-Dnacos.core.auth.server.identity.value=fastify-nacos-test"
      )
    fi
    extra_info=", v1 API $V1_API, console :$cport"
  fi
  # Class data sharing: the first server of a version and JDK writes the classes it loaded to an
  # archive when it stops (see stop_node); later starts map them instead of parsing and verifying
  # the jars again (the same classes from the same class path: 6.7 -> 5.0 CPU-s to ready here).
  local cds
  cds=$(cds_archive "$lib")
  rm -f "$home/classes.jsa.new"
  local -a share=()
  if [ -f "$cds" ]; then
    share=("-XX:SharedArchiveFile=$cds")
  elif [ "${CDS_DUMP:-}" = 1 ]; then
    share=("-XX:ArchiveClassesAtExit=$home/classes.jsa.new")
  fi
  # The server resolves relative paths (Tomcat's basedir, derby) against its working directory.
  (
    cd "$home"
    # shellcheck disable=SC2086
    # C1 only (-XX:TieredStopAtLevel=1): a test server needs a quick start, not peak throughput;
    # on 2 cores it halves the time to ready (23-37 s to 14 s measured, busy machine).
    exec setsid java $JAVA_OPTS -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-OmitStackTraceInFastThrow "${share[@]}" \
      "${props[@]}" -cp "$(cat "$lib/classpath")" "$main" "${args[@]}" >"$home/logs/start.out" 2>&1 </dev/null
  ) &
  pid=$!
  echo "$pid" >"$(pid_file "$port")"
  # Until the subshell has exec'd the JVM its command line is bash's (or setsid's), which
  # running_pid, guarding against pid reuse, would take for a server that exited: wait for it.
  local tries=0
  while kill -0 "$pid" 2>/dev/null && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-Dnacos.home=$home " && [ "$tries" -lt 400 ]; do
    sleep 0.05
    tries=$((tries + 1))
  done
  echo "$auth" >"$home/auth"
  if is3 "$v"; then
    echo "$V1_API" >"$home/v1-api"
    echo "$cport" >"$home/console-port"
  else
    rm -f "$home/v1-api" "$home/console-port"
  fi
  say "starting Nacos $v on 127.0.0.1:$port (pid $pid, auth=$auth$extra_info, home $home)"
}

# With auth on, wait for a login that succeeds: a fresh 3.x server has no admin password until one
# is set (POST /v3/auth/user/admin, answered once per data directory), and for some seconds after
# readiness its login can still answer 403. 2.x has its nacos/nacos user from the start.
# Where a user logs in: v3 on 3.x, v1 on 2.x.
login_path() { if is3 "$1"; then echo /nacos/v3/auth/user/login; else echo /nacos/v1/auth/login; fi; }

wait_login() {
  local port=$1 start=$SECONDS v path code
  [ "$(cat "$(node_home "$port")/auth" 2>/dev/null)" = true ] || return 0
  v=$(node_version "$port")
  path=$(login_path "$v")
  if is3 "$v"; then
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST --data-urlencode "password=$ADMIN_PASSWORD" "http://127.0.0.1:$port/nacos/v3/auth/user/admin" || true)
    say "admin password: POST /nacos/v3/auth/user/admin answered $code"
  fi
  while :; do
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST --data-urlencode username=nacos --data-urlencode "password=$ADMIN_PASSWORD" "http://127.0.0.1:$port$path" || true)
    [ "$code" = 200 ] && break
    if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
      say "Nacos on port $port: login as nacos still answered $code after ${TIMEOUT}s"
      return 1
    fi
    sleep 0.5
  done
  say "login as nacos succeeds after $((SECONDS - start))s more"
}

# A 3.x console binds its port a few seconds after the server answers readiness.
console_up() {
  local f
  f="$(node_home "$1")/console-port"
  [ ! -f "$f" ] || ! port_free "$(cat "$f")"
}

wait_ready() {
  local port=$1 start=$SECONDS pid
  while ! ready "$port" || ! console_up "$port"; do
    if ! pid=$(running_pid "$port"); then
      say "Nacos on port $port exited during start-up; last lines of its log:"
      tail -40 "$(node_home "$port")/logs/start.out" >&2 || true
      return 1
    fi
    if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
      say "Nacos on port $port not ready after ${TIMEOUT}s; last lines of its log:"
      tail -40 "$(node_home "$port")/logs/start.out" >&2 || true
      stop_node "$port"
      return 1
    fi
    sleep 0.5
  done
  if ! check_classes "$port"; then
    stop_node "$port"
    return 1
  fi
  say "Nacos ready on http://127.0.0.1:$port/nacos after $((SECONDS - start))s"
  if ! wait_login "$port"; then
    stop_node "$port"
    return 1
  fi
  if ! prime_config "$port"; then
    stop_node "$port"
    return 1
  fi
}

# A freshly created embedded Derby fails the first two config writes that arrive together, often:
# one answers 500 "A lock could not be obtained within the time requested" on INSERT INTO
# his_config_info (4 of 10 fresh servers given two publishes at once; 0 of 8 after one publish
# had gone first). Tests publish from several apps and files at once, so a server with a new
# database gets one config written and deleted before it counts as ready.
prime_config() {
  local port=$1 home v base token="" api body
  home=$(node_home "$port")
  [ -f "$home/fresh-db" ] || return 0
  v=$(node_version "$port")
  base="http://127.0.0.1:$port/nacos"
  if [ "$(cat "$home/auth" 2>/dev/null)" = true ]; then
    token=$(curl -s -m 5 -X POST --data-urlencode username=nacos --data-urlencode "password=$ADMIN_PASSWORD" "http://127.0.0.1:$port$(login_path "$v")" | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || { say "Nacos on port $port: no token to prime its database with"; return 1; }
  fi
  # 3.x: the admin API (its v1 API may be off); 2.x: the v1 API.
  local -a form=(--data-urlencode dataId=fastify-nacos.prime --data-urlencode content=prime)
  [ -z "$token" ] || form+=(--data-urlencode "accessToken=$token")
  if is3 "$v"; then api="$base/v3/admin/cs/config"; form+=(--data-urlencode groupName=DEFAULT_GROUP)
  else api="$base/v1/cs/configs"; form+=(--data-urlencode group=DEFAULT_GROUP); fi
  body=$(curl -s -m 10 -X POST "${form[@]}" "$api" || true)
  case $body in true | *'"data":true'*) ;; *) say "Nacos on port $port: priming its database failed: $body"; return 1 ;; esac
  body=$(curl -s -m 10 -G -X DELETE "${form[@]}" "$api" || true)
  case $body in true | *'"data":true'*) ;; *) say "Nacos on port $port: removing the priming config failed: $body"; return 1 ;; esac
  rm -f "$home/fresh-db"
  say "primed the new database on port $port (one config written and deleted)"
}

stop_node() {
  local port=$1 pid i classes_ok=0
  if ! pid=$(running_pid "$port"); then
    say "no Nacos of ours runs on port $port"
    return 0
  fi
  check_classes "$port" || classes_ok=1
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  local killed=0
  if kill -0 "$pid" 2>/dev/null; then
    killed=1
    say "pid $pid ignored SIGTERM for 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$(pid_file "$port")"
  # A server that exited on SIGTERM wrote its class-data archive whole: it becomes the version's
  # (renamed in place, so a parallel start maps either the old one or this one).
  local home
  home=$(node_home "$port")
  if [ -s "$home/classes.jsa.new" ] && [ "$killed" = 0 ]; then
    mv -f "$home/classes.jsa.new" "$(cds_archive "$(lib_dir "$(node_version "$port")")")"
  fi
  rm -f "$home/classes.jsa.new"
  # Proven stopped: the process is gone and nothing answers on its ports any more.
  nacos_ports_free "$port" || say "warning: port $port or its gRPC ports still answer after pid $pid exited"
  say "stopped Nacos on port $port (pid $pid)"
  return $classes_ok
}

cmd_start() {
  local auth=false arg
  for arg in "$@"; do
    case $arg in --auth) auth=true ;; --fresh) FRESH=true ;; *) die "start: unknown option $arg" ;; esac
  done
  start_node "$PORT" "$auth" ""
  wait_ready "$PORT" && return 0
  # On a busy machine the embedded Derby can boot slower than the connection timeout the server
  # gives it (`Login timeout exceeded`, then the server exits): that is load, not a broken server.
  grep -q 'Login timeout exceeded' "$(node_home "$PORT")/logs/start.out" 2>/dev/null || return 1
  running_pid "$PORT" >/dev/null && return 1
  say "Derby did not boot in time on port $PORT (the machine is busy); starting once more"
  start_node "$PORT" "$auth" ""
  wait_ready "$PORT"
}

cluster_ports() { echo "$PORT $((PORT + 10)) $((PORT + 20))"; }

# How many members the node on $1 reports UP (0 when it does not answer).
members_up() {
  curl -s -m 2 "http://127.0.0.1:$1/nacos/v1/core/cluster/nodes" 2>/dev/null | grep -o '"state":"UP"' | wc -l || true
}

# A node exited during start-up: say which, with its log, and stop the others.
cluster_fail() {
  local port=$1 why=$2 p
  say "cluster node $port $why; last lines of its log:"
  tail -40 "$(node_home "$port")/logs/start.out" >&2 || true
  for p in $(cluster_ports); do stop_node "$p"; done
  exit 1
}

# A node that gave up waiting for the others is started again, twice at most per cluster start:
# on a busy 2-core machine three JVMs boot slowly, and a node that comes up long before the
# others can time out waiting for the config Raft group to elect a leader ("The Raft Group
# [nacos_config] did not find the Leader node") or for Derby ("Login timeout exceeded"). That is
# load, not a broken server; any other exit fails the start.
restart_slow_node() {
  local port=$1 members=$2 log var
  log="$(node_home "$port")/logs/start.out"
  var="RESTARTS_$port"
  [ "${!var:-0}" -lt 2 ] || return 1
  grep -qE 'did not find the Leader node|Login timeout exceeded' "$log" 2>/dev/null || return 1
  say "cluster node $port gave up waiting during start-up ($(grep -oE 'did not find the Leader node|Login timeout exceeded' "$log" | head -1)); starting it again"
  printf -v "$var" '%s' $((${!var:-0} + 1))
  start_node "$port" false "$members"
}

cmd_cluster_start() {
  local members="" p n start=$SECONDS timeout=${NACOS_START_TIMEOUT:-180} pending
  for p in $(cluster_ports); do members="$members 127.0.0.1:$p"; done
  for p in $(cluster_ports); do start_node "$p" false "${members# }"; done
  # Ready means: every node answers readiness (its Raft group has a leader, Distro has loaded)
  # and every node sees all three members UP. Bounded by one deadline for the whole cluster.
  while :; do
    pending=""
    for p in $(cluster_ports); do
      if ! running_pid "$p" >/dev/null; then
        restart_slow_node "$p" "${members# }" || cluster_fail "$p" "exited during start-up"
        pending="$pending $p(restarted)"
        continue
      fi
      n=$(members_up "$p")
      if ! ready "$p" || [ "$n" -lt 3 ]; then pending="$pending $p(${n}UP)"; fi
    done
    [ -z "$pending" ] && break
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      cluster_fail "${pending%%(*}" "not ready after ${timeout}s (waiting on:$pending)"
    fi
    sleep 1
  done
  say "Nacos cluster ready after $((SECONDS - start))s: ${members# }"
}

cmd_cluster_stop() {
  local p
  for p in $(cluster_ports); do stop_node "$p"; done
}

cmd_cluster_status() {
  local p pid rss
  for p in $(cluster_ports); do
    if pid=$(running_pid "$p"); then
      rss=$(awk '/VmRSS/ { printf "%d MiB", $2 / 1024 }' "/proc/$pid/status")
      echo "127.0.0.1:$p pid $pid rss $rss ready=$(ready "$p" && echo yes || echo no) members-up=$(members_up "$p")"
    else
      echo "127.0.0.1:$p stopped"
    fi
  done
}

cmd_status() {
  local pid
  if pid=$(running_pid "$PORT"); then
    if ready "$PORT"; then
      echo "running: pid $pid, http://127.0.0.1:$PORT/nacos, version $(node_version "$PORT"), auth=$(cat "$(node_home "$PORT")/auth")$([ -f "$(node_home "$PORT")/v1-api" ] && echo ", v1 API $(cat "$(node_home "$PORT")/v1-api")")"
    else
      echo "starting: pid $pid on port $PORT"
    fi
  elif ready "$PORT"; then
    echo "a Nacos not started by this script answers on port $PORT"
  else
    echo "stopped (port $PORT)"
    return 3
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_install; cmd_start "$@" ;;
  stop) stop_node "$PORT" ;;
  status) cmd_status ;;
  check) check_classes "$PORT" && say "no class-loading errors in the logs of the Nacos on port $PORT" ;;
  cluster-start) cmd_install; cmd_cluster_start ;;
  cluster-stop) cmd_cluster_stop ;;
  cluster-status) cmd_cluster_status ;;
  *) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
