# Sourced by scripts/test.sh and scripts/bench.sh: the Nacos on NACOS_SERVER_ADDR (default
# 127.0.0.1:8848) is used if it answers; otherwise one is installed and started on its port and
# stopped when the calling script exits. Messages go to stderr so a script's stdout stays its own.
export NACOS_SERVER_ADDR=${NACOS_SERVER_ADDR:-127.0.0.1:8848}
first=${NACOS_SERVER_ADDR%%,*}
export NACOS_PORT=${first##*:}

ensure_nacos() {
  started=0
  trap 'if [ "$started" = 1 ]; then bash scripts/nacos.sh stop || true; fi' EXIT
  # 3.x answers readiness on its admin API (its v1 console path answers 410), 2.x on the v1 path.
  if curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$first/nacos/v3/admin/core/state/readiness" | grep -q 200 \
      || curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$first/nacos/v1/console/health/readiness" | grep -q 200; then
    echo "== using the Nacos server that answers on $first" >&2
  else
    echo "== no Nacos on $first: installing and starting one" >&2
    bash scripts/nacos.sh start
    started=1
  fi
}
