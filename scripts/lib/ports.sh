# Sourced by the scripts that start Nacos servers of their own (test-compat.sh, test-faults.sh):
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
