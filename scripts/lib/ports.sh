# Sourced by the scripts that start Nacos servers of their own (test-compat.sh, test-nacos3.sh,
# test-faults.sh):
# ports are checked free at run time, never assumed.

# port_free P: nothing accepts a TCP connection on 127.0.0.1:P now.
port_free() { ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# nacos_ports_free P [OFFSET...]: P and its gRPC ports (P+1000, P+1001) are free, and P+OFFSET for
# each extra offset (a cluster node also needs P-1000, its Raft port).
nacos_ports_free() {
  local p=$1 o
  shift
  for o in 0 1000 1001 "$@"; do port_free $((p + o)) || return 1; done
}

# free_port: an HTTP port for a private Nacos with its gRPC (+1000, +1001) and Raft (-1000) ports
# free, drawn from 21000-27000 (below the ephemeral range, and +1001 below the fault suite's 28848).
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((21000 + RANDOM % 6000))
    if nacos_ports_free "$p" -1000; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# stop_leftovers MARKER: a test file cut by its timeout cannot stop the private servers it started;
# after a run, stop every server of the cache (NACOS_CACHE_DIR, default $ROOT/.nacos) whose pid file
# is newer than MARKER, a file made before the run.
stop_leftovers() {
  local pf p
  for pf in "${NACOS_CACHE_DIR:-$ROOT/.nacos}"/node-*/nacos.pid; do
    [ -f "$pf" ] && [ "$pf" -nt "$1" ] || continue
    p=${pf%/nacos.pid}
    NACOS_PORT=${p##*/node-} bash scripts/nacos.sh stop || true
  done
}
