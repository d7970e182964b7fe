#!/usr/bin/env bash
# gen.sh — make benign long-lived captures with real applications in
# network namespaces of our own (issue 16's benign side).
#
#   sudo scripts/benign-ns/gen.sh [-d SECONDS] [-o SESSION,…] OUTDIR
#
# -o makes only the sessions named (a session function such as
# websocket, or a capture name; the SESSIONS table at the end lists them).
#
# Two namespaces, a client and a server, joined by one link per session
# (10.232.0.0/24, a /30 each; the probe tests use 10.231.0.0/24) through
# a third "wire" namespace where delaywire (./delaywire) delays frames,
# each link with its own delay and jitter so no single RTT marks these
# captures. Real servers from Debian packages run in the server
# namespace, real clients in the client one; tcpdump captures each
# session on its client-side veth (full snaplen) into OUTDIR/NAME.pcap.
# Every session runs at the same time (they are mostly idle), for
# -d SECONDS (default 540; ~10 minutes in all). Every flow is benign by
# construction; OUTDIR/manifest.tsv gets one line per capture made.
# KEEP=1 keeps the work folder (configurations, server logs) for a look.
#
# Needs root and: iproute2, ethtool, tcpdump, openssl, mosquitto (+ -clients),
# redis-server (+ redis-tools), postgresql, openssh-server/-client,
# dovecot-imapd, nginx, python3-websockets, shadowsocks-libev, openvpn
# and Go (builds ./poll). A session whose program is missing is skipped
# with a message; the others still run.
set -euo pipefail

DUR=540
ONLY=""
while getopts "d:o:h" opt; do
  case $opt in
    d) DUR=$OPTARG ;;
    o) ONLY=$OPTARG ;;
    *) sed -n '2,28p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { sed -n '2,28p' "$0"; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "gen.sh: needs root (network namespaces, tcpdump)" >&2; exit 1; }
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3 # Debian's, where python3-websockets lives

TAG=$$
CNS=mwb-cli-$TAG
SNS=mwb-srv-$TAG
WNS=mwb-wire-$TAG
W=$(mktemp -d /tmp/benign-ns.XXXXXX)
chmod 755 "$W"
log() { echo "gen.sh: $*" >&2; }

cleanup() {
  set +e
  # Our session subshells (and their publisher loops), then every
  # process still in our namespaces: they are all ours, and daemons that
  # fork away from their starter (postgres, dovecot, sshd) are found
  # only that way.
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  for ns in "$CNS" "$SNS" "$WNS"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  [ -n "${KEEP:-}" ] && log "kept $W" || rm -rf "$W"
}
trap cleanup EXIT

inc() { ip netns exec "$CNS" "$@"; }
ins() { ip netns exec "$SNS" "$@"; }
inw() { ip netns exec "$WNS" "$@"; }
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }

# jsleep MEAN SPREAD: sleep MEAN ± SPREAD seconds (uniform, ms steps).
jsleep() {
  local mean_ms=$(( $1 * 1000 )) spread_ms=$(( $2 * 1000 ))
  local ms=$(( mean_ms - spread_ms + (RANDOM * 32768 + RANDOM) % (2 * spread_ms + 1) ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# --- namespaces and links -------------------------------------------------
ip netns add "$CNS"
ip netns add "$SNS"
ip netns add "$WNS"
for ns in "$CNS" "$SNS" "$WNS"; do
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

NLINK=0 # set per session before it starts (sessions run in subshells)
# link DELAY_MS JITTER_MS: session $NLINK's link; sets CIP, SIP and CIF
# (the client-side interface that tcpdump reads). The client's veth and
# the server's veth end in a third namespace where delaywire forwards
# frames between them after DELAY ± JITTER ms each way (this kernel has
# no netem), so the RTT is about 2×DELAY. Offloads are off on both ends:
# delaywire copies frames verbatim, so checksums must be complete and
# segments no larger than the MTU.
link() {
  local i=$NLINK
  CIP=10.232.0.$((4 * i + 1)) SIP=10.232.0.$((4 * i + 2)) CIF=c$i
  ip link add "c$i" netns "$CNS" type veth peer name "wc$i" netns "$WNS"
  ip link add "s$i" netns "$SNS" type veth peer name "ws$i" netns "$WNS"
  inc ip addr add "$CIP/30" dev "c$i"
  ins ip addr add "$SIP/30" dev "s$i"
  inc ethtool -K "c$i" tx off tso off gso off gro off >/dev/null 2>&1
  ins ethtool -K "s$i" tx off tso off gso off gro off >/dev/null 2>&1
  inw ethtool -K "wc$i" tx off tso off gso off gro off rx off >/dev/null 2>&1
  inw ethtool -K "ws$i" tx off tso off gso off gro off rx off >/dev/null 2>&1
  inc ip link set "c$i" up
  ins ip link set "s$i" up
  inw ip link set "wc$i" promisc on up
  inw ip link set "ws$i" promisc on up
  inw "$W/delaywire" -a "wc$i" -b "ws$i" -delay "${1}ms" -jitter "${2}ms" 2>"$W/delaywire$i.log" &
}

# capture NAME: tcpdump on $CIF (full snaplen, IPv4 only: no ARP/IPv6
# noise); the manifest line is written when the session ends.
capture() {
  # ip netns exec execs tcpdump in place, so $! is tcpdump's pid.
  ip netns exec "$CNS" tcpdump -i "$CIF" -s 0 -U -w "$OUT/$1.pcap" ip 2>"$W/$1.tcpdump.log" &
  echo $! >"$W/$1.tcpdump.pid"
  # The client starts right after: wait until tcpdump listens, or on a
  # short link the handshake is over before the capture begins.
  for _ in $(seq 100); do grep -q "listening on" "$W/$1.tcpdump.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.2
}
# finish NAME SCENARIO NOTE: stop NAME's tcpdump and record the capture.
finish() {
  sleep 2 # let the last FIN/ACK land
  local pid; pid=$(cat "$W/$1.tcpdump.pid")
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  printf '%s.pcap\tbenign\t-\t%s\t-\t%s\n' "$1" "$2" "$3" >>"$W/manifest.lines"
  log "done: $1"
}
waitport() { # waitport NS HOST PORT [TRIES]
  for _ in $(seq "${4:-100}"); do
    ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
    sleep 0.1
  done
  log "port $2:$3 never opened"; return 1
}

# --- shared material: a lab CA-less self-signed certificate, the poller --
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=api.benign.test" \
  -addext "subjectAltName=DNS:api.benign.test,IP:10.232.0.2" \
  -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=mq.benign.test" \
  -keyout "$W/eckey.pem" -out "$W/eccert.pem" 2>/dev/null
chmod 644 "$W"/*.pem
# OPENSSL_CONF for clients that cannot cap the TLS version themselves
# (mosquitto_sub's --tls-version is a minimum; redis-cli has no such
# flag): OpenSSL reads it at start-up, so they offer TLS 1.2 at most.
cat >"$W/tls12.cnf" <<EOF
openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MaxProtocol = TLSv1.2
EOF
# tlsenv VERSION: the environment that caps a client at VERSION (1.2|1.3).
tlsenv() { if [ "$1" = 1.2 ]; then echo "OPENSSL_CONF=$W/tls12.cnf"; else echo "OPENSSL_CONF=/etc/ssl/openssl.cnf"; fi; }
(cd "$REPO" && go build -o "$W/poll" ./scripts/benign-ns/poll && go build -o "$W/delaywire" ./scripts/benign-ns/delaywire)

# nginx: JSON API on 80 (plain) and 443 (TLS 1.2/1.3, HTTP/2), responses
# of eight sizes (/api/item0..7.json), POST /ingest answered 204; idle
# keep-alive connections are kept for the whole session.
nginx_up() {
  [ -f "$W/nginx.conf" ] && return 0
  mkdir -p "$W/www/api"
  for i in 0 1 2 3 4 5 6 7; do
    $PY -c "import json,random; print(json.dumps({'id':$i,'status':'ok','values':[random.random() for _ in range(random.randint(1,60))]}))" >"$W/www/api/item$i.json"
  done
  cat >"$W/nginx.conf" <<EOF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx.err;
events { worker_connections 256; }
http {
  access_log off;
  keepalive_timeout 3600s;
  keepalive_requests 100000;
  client_body_temp_path $W/nginx-body;
  types { application/json json; }
  server {
    listen 80;
    listen 443 ssl http2;
    ssl_certificate $W/cert.pem;
    ssl_certificate_key $W/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $W/www;
    location /ingest { return 204; }
  }
}
EOF
  ins nginx -c "$W/nginx.conf" -g 'daemon off;' &
}

# --- sessions ---------------------------------------------------------------
# Each runs in the background: link, server, capture, client for $DUR s,
# finish. Periods are deliberately not round and are jittered. Every
# session function takes its capture name, the link's one-way delay and
# jitter (ms), then its own settings; the SESSIONS table at the end lists
# the sessions made, with their settings.

mqtt_up() { # one mosquitto for every MQTT session: 1883 plain, 8883 TLS
  [ -f "$W/mosquitto.conf" ] && return 0
  cat >"$W/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence false
log_dest stderr
listener 1883
listener 8883
cafile $W/eccert.pem
certfile $W/eccert.pem
keyfile $W/eckey.pem
EOF
  ins mosquitto -c "$W/mosquitto.conf" 2>"$W/mosquitto.log" &
}

# mqtt_plain NAME DELAY JIT KEEPALIVE PERIOD PJIT: a sensor hub's
# subscriber; readings are published on the server side (localhost, not
# captured).
s_mqtt_plain() {
  local n=$1 ka=$4 per=$5 pj=$6
  have mosquitto && have mosquitto_sub || { log "skip $n: mosquitto not installed"; return; }
  link "$2" "$3"; mqtt_up; waitport "$SNS" 127.0.0.1 1883; capture "$n"
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep "$per" "$pj"
      ins mosquitto_pub -h 127.0.0.1 -p 1883 -q 1 -t "sensors/$n/temp" \
        -m "{\"t\":$((RANDOM % 300)),\"h\":$((RANDOM % 100)),\"id\":\"hall-$((RANDOM % 9))\"}" || true
    done ) &
  inc timeout -s INT "$DUR" mosquitto_sub -h "$SIP" -p 1883 -k "$ka" -q 1 -i "hub-$n" -t "sensors/$n/#" >/dev/null || true
  finish "$n" plaintext "MQTT 3.1.1 subscriber (mosquitto_sub, keep-alive $ka s, QoS 1) receiving a JSON reading every $per±$pj s; RTT ~$((2 * $2)) ms"
}

# mqtt_tls NAME DELAY JIT KEEPALIVE PERIOD PJIT TLSMAX(1.2|1.3)
s_mqtt_tls() {
  local n=$1 ka=$4 per=$5 pj=$6 tv=$7
  have mosquitto && have mosquitto_sub || { log "skip $n: mosquitto not installed"; return; }
  link "$2" "$3"; mqtt_up; waitport "$SNS" 127.0.0.1 8883; capture "$n"
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep "$per" "$pj"
      ins mosquitto_pub -h 127.0.0.1 -p 1883 -q 0 -t "fleet/$n/pos" \
        -m "{\"lat\":52.$RANDOM,\"lon\":13.$RANDOM,\"v\":$((RANDOM % 90)),\"note\":\"$(head -c $((RANDOM % 300)) /dev/zero | tr '\0' x)\"}" || true
    done ) &
  inc env "$(tlsenv "$tv")" timeout -s INT "$DUR" mosquitto_sub -h "$SIP" -p 8883 --cafile "$W/eccert.pem" --insecure \
    -k "$ka" -q 0 -i "fleet-$n" -t "fleet/$n/#" >/dev/null || true
  finish "$n" tls "MQTT over TLS $tv (mosquitto_sub, keep-alive $ka s) receiving 50-400 B position updates every $per±$pj s; RTT ~$((2 * $2)) ms"
}

# mqtt_reconnect NAME DELAY JIT KEEPALIVE LIFE LJIT PERIOD PJIT TLSMAX: an
# MQTT-over-TLS subscriber that reconnects every LIFE ± LJIT s (a phone
# app in and out of the background, a NAT that forgets): many session
# starts — TLS handshake, CONNECT, SUBSCRIBE, the first message — which
# is what the early checkpoints see of mining too.
s_mqtt_reconnect() {
  local n=$1 ka=$4 life=$5 lj=$6 per=$7 pj=$8 tv=$9
  have mosquitto && have mosquitto_sub || { log "skip $n: mosquitto not installed"; return; }
  link "$2" "$3"; mqtt_up; waitport "$SNS" 127.0.0.1 8883; capture "$n"
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep "$per" "$pj"
      ins mosquitto_pub -h 127.0.0.1 -p 1883 -q 1 -r -t "push/$n/inbox" \
        -m "{\"n\":$RANDOM,\"title\":\"$(head -c $((10 + RANDOM % 120)) /dev/zero | tr '\0' m)\"}" || true
    done ) &
  local end=$((SECONDS + DUR - 2)) left w
  while [ $SECONDS -lt $end ]; do
    w=$(( life - lj + RANDOM % (2 * lj + 1) )); left=$(( end - SECONDS )); [ $w -gt $left ] && w=$left
    [ $w -ge 1 ] || break
    inc env "$(tlsenv "$tv")" timeout -s INT "$w" mosquitto_sub -h "$SIP" -p 8883 --cafile "$W/eccert.pem" --insecure \
      -k "$ka" -q 1 -c -i "push-$n" -t "push/$n/#" >/dev/null || true
    jsleep 2 1
  done
  finish "$n" tls "MQTT over TLS $tv push client reconnecting every $life±$lj s (keep-alive $ka s, persistent session, QoS 1), a push every $per±$pj s; RTT ~$((2 * $2)) ms"
}

redis_up() {
  [ -f "$W/redis.conf" ] && return 0
  local tls=""
  # Debian builds redis with TLS (it links libssl); other builds may not.
  if [[ $(ldd "$(command -v redis-server)") == *libssl* ]]; then
    tls="tls-port 6380
tls-cert-file $W/cert.pem
tls-key-file $W/key.pem
tls-auth-clients no"
  fi
  cat >"$W/redis.conf" <<EOF
port 6379
bind 0.0.0.0
protected-mode no
save ""
appendonly no
dir $W
tcp-keepalive 0
$tls
EOF
  ins redis-server "$W/redis.conf" >"$W/redis.log" 2>&1 &
}

# redis_plain NAME DELAY JIT PERIOD PJIT: a subscriber idling; messages
# are published on the server side (localhost, not captured).
s_redis_plain() {
  local n=$1 per=$4 pj=$5
  have redis-server && have redis-cli || { log "skip $n: redis not installed"; return; }
  link "$2" "$3"; redis_up; waitport "$SNS" 127.0.0.1 6379; capture "$n"
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep "$per" "$pj"
      ins redis-cli -p 6379 PUBLISH "inv-$n" "{\"key\":\"user:$RANDOM\",\"op\":\"del\"}" >/dev/null || true
    done ) &
  inc timeout -s INT "$DUR" redis-cli -h "$SIP" -p 6379 SUBSCRIBE "inv-$n" >/dev/null || true
  finish "$n" plaintext "Redis 7 pub/sub subscriber (redis-cli SUBSCRIBE) idling, a cache-invalidation JSON every $per±$pj s; RTT ~$((2 * $2)) ms"
}

# redis_tls NAME DELAY JIT PERIOD PJIT TLSMAX(1.2|1.3)
s_redis_tls() {
  local n=$1 per=$4 pj=$5 tv=$6
  have redis-server && have redis-cli || { log "skip $n: redis not installed"; return; }
  link "$2" "$3"; redis_up; waitport "$SNS" 127.0.0.1 6380 || { log "skip $n: redis-server has no TLS"; return; }
  capture "$n"
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep "$per" "$pj"
      ins redis-cli -p 6379 PUBLISH "px-$n" "{\"sym\":\"X$((RANDOM % 50))\",\"px\":$RANDOM.$((RANDOM % 100)),\"q\":$((RANDOM % 1000))}" >/dev/null || true
    done ) &
  inc env "$(tlsenv "$tv")" timeout -s INT "$DUR" redis-cli --tls --insecure -h "$SIP" -p 6380 SUBSCRIBE "px-$n" >/dev/null || true
  finish "$n" tls "Redis 7 pub/sub over TLS $tv: subscriber receiving a small price tick every $per±$pj s; RTT ~$((2 * $2)) ms"
}

pg_up() {
  [ -d "$W/pg" ] && return 0
  local bin=/usr/lib/postgresql/15/bin
  [ -x $bin/postgres ] || bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/postgres | tail -1)")
  mkdir -p "$W/pg" "$W/pgsock"
  chown postgres "$W/pg" "$W/pgsock"
  cp "$W/cert.pem" "$W/pgcert.pem"; cp "$W/key.pem" "$W/pgkey.pem"
  chown postgres "$W/pgcert.pem" "$W/pgkey.pem"; chmod 600 "$W/pgkey.pem"
  runuser -u postgres -- "$bin/initdb" -D "$W/pg" -A trust >/dev/null
  cat >>"$W/pg/pg_hba.conf" <<EOF
host all all 10.232.0.0/24 trust
EOF
  ins runuser -u postgres -- "$bin/postgres" -D "$W/pg" -k "$W/pgsock" -c listen_addresses='*' \
    -c ssl=on -c ssl_cert_file="$W/pgcert.pem" -c ssl_key_file="$W/pgkey.pem" >"$W/pg.log" 2>&1 &
}

# pg_listen_tls NAME DELAY JIT QPERIOD QJIT NPERIOD NJIT TLSMAX(TLSv1.2|TLSv1.3):
# a worker that LISTENs for jobs and checks a queue every QPERIOD s over
# TLS; the server NOTIFYs every NPERIOD s (localhost, not captured).
s_pg_listen_tls() {
  local n=$1 qp=$4 qj=$5 np=$6 nj=$7 tv=$8
  have psql && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { log "skip $n: postgresql not installed"; return; }
  link "$2" "$3"; pg_up; waitport "$SNS" 127.0.0.1 5432; capture "$n"
  local ch="jobs_$NLINK"
  ( end=$((SECONDS + DUR)); sleep 3; while [ $SECONDS -lt $end ]; do
      jsleep "$np" "$nj"
      ins psql -q -h "$W/pgsock" -U postgres -c "NOTIFY $ch, '{\"job\":$RANDOM}'" >/dev/null 2>&1 || true
    done ) &
  ( echo "LISTEN $ch;"
    end=$((SECONDS + DUR - 2)); while [ $SECONDS -lt $end ]; do
      jsleep "$qp" "$qj"
      echo "SELECT now(), count(*) FROM pg_stat_activity WHERE state = 'active';"
    done ) | inc psql "host=$SIP user=postgres dbname=postgres sslmode=require ssl_max_protocol_version=$tv" -q >/dev/null 2>&1 || true
  finish "$n" tls "PostgreSQL 15 over TLS ${tv#TLSv}: psql LISTEN, a small status query every $qp±$qj s, a NOTIFY every $np±$nj s; RTT ~$((2 * $2)) ms"
}

# pg_pool_plain NAME DELAY JIT PERIOD PJIT: a pooled application
# connection, one session, a small lookup every PERIOD s.
s_pg_pool_plain() {
  local n=$1 per=$4 pj=$5
  have psql && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { log "skip $n: postgresql not installed"; return; }
  link "$2" "$3"; pg_up; waitport "$SNS" 127.0.0.1 5432; capture "$n"
  ( end=$((SECONDS + DUR - 2)); while [ $SECONDS -lt $end ]; do
      jsleep "$per" "$pj"
      echo "SELECT $RANDOM AS id, md5(random()::text) AS token, now();"
    done ) | inc psql "host=$SIP user=postgres dbname=postgres sslmode=disable" -q >/dev/null 2>&1 || true
  finish "$n" plaintext "PostgreSQL 15 plaintext, one pooled connection running a small SELECT every $per±$pj s; RTT ~$((2 * $2)) ms"
}

sshd_up() {
  [ -f "$W/ssh_host" ] && return 0
  ssh-keygen -q -t ed25519 -N "" -f "$W/ssh_host"
  ssh-keygen -q -t ed25519 -N "" -f "$W/ssh_user"
  cp "$W/ssh_user.pub" "$W/authorized_keys"; chmod 600 "$W/authorized_keys"
  mkdir -p /run/sshd
  ins /usr/sbin/sshd -D -e -f /dev/null -h "$W/ssh_host" -p 22 -o PidFile=none -o UsePAM=no \
    -o AuthorizedKeysFile="$W/authorized_keys" -o StrictModes=no -o PermitRootLogin=yes \
    -o AllowTcpForwarding=yes -o ClientAliveInterval=0 2>"$W/sshd.log" &
}
sshc() { inc ssh -i "$W/ssh_user" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$@"; }

# ssh_interactive NAME DELAY JIT PERIOD PJIT ALIVE: an operator's shell
# (pty), a command typed every PERIOD s, client keep-alive every ALIVE s.
s_ssh_interactive() {
  local n=$1 per=$4 pj=$5 alive=$6
  [ -x /usr/sbin/sshd ] && have ssh || { log "skip $n: openssh not installed"; return; }
  link "$2" "$3"; sshd_up; waitport "$SNS" 127.0.0.1 22; capture "$n"
  ( end=$((SECONDS + DUR - 2)); while [ $SECONDS -lt $end ]; do
      jsleep "$per" "$pj"
      case $((RANDOM % 4)) in 0) echo "date" ;; 1) echo "uptime" ;; 2) echo "df -h / | tail -1" ;; 3) echo "ls /etc | head -$((RANDOM % 20))" ;; esac
    done; echo exit ) | sshc -tt -o ServerAliveInterval="$alive" "root@$SIP" >/dev/null 2>&1 || true
  finish "$n" proxy "OpenSSH 9.2 interactive session (pty): date/uptime/df/ls typed every $per±$pj s, ServerAliveInterval $alive s; RTT ~$((2 * $2)) ms"
}

# ssh_d_poll NAME DELAY JIT PERIOD PJIT ALIVE HTTP(h1|h2): a dashboard
# behind a SOCKS tunnel: one kept-alive HTTPS connection (TLS 1.3) inside
# the SSH connection.
s_ssh_d_poll() {
  local n=$1 per=$4 pj=$5 alive=$6 h=$7 sp port=$((1080 + NLINK)) h2=""
  [ -x /usr/sbin/sshd ] && have ssh || { log "skip $n: openssh not installed"; return; }
  have nginx || { log "skip $n: nginx not installed"; return; }
  [ "$h" = h2 ] && h2=-h2
  link "$2" "$3"; sshd_up; nginx_up; waitport "$SNS" 127.0.0.1 22; waitport "$SNS" 127.0.0.1 443; capture "$n"
  ip netns exec "$CNS" ssh -i "$W/ssh_user" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -N -D "127.0.0.1:$port" -o ServerAliveInterval="$alive" "root@$SIP" 2>/dev/null &
  sp=$!
  waitport "$CNS" 127.0.0.1 "$port"
  inc timeout -s INT $((DUR - 3)) "$W/poll" -url "https://$SIP/api/item%d.json" $h2 -period "${per}s" -jitter "${pj}s" \
    -duration $((DUR - 3))s -proxy "socks5://127.0.0.1:$port" >/dev/null 2>&1 || true
  kill "$sp" 2>/dev/null || true
  finish "$n" proxy "ssh -D tunnel (OpenSSH 9.2, ServerAliveInterval $alive s) carrying one kept-alive HTTPS ($h) JSON poll every $per±$pj s; RTT ~$((2 * $2)) ms"
}

# ss_poll NAME DELAY JIT METHOD SCHEME(http|https) PERIOD PJIT POST: an
# agent reporting through a shadowsocks proxy, one kept-alive connection
# inside: a JSON POST of about POST bytes (http) or a GET (https, TLS 1.2).
s_ss_poll() {
  local n=$1 method=$4 scheme=$5 per=$6 pj=$7 post=$8 sp port=$((8380 + NLINK)) lport=$((1100 + NLINK)) what
  have ss-server && have ss-local || { log "skip $n: shadowsocks-libev not installed"; return; }
  have nginx || { log "skip $n: nginx not installed"; return; }
  link "$2" "$3"; nginx_up
  ins ss-server -s 0.0.0.0 -p "$port" -k "benign-ns-$n" -m "$method" -t 3600 >"$W/ss-server-$n.log" 2>&1 &
  waitport "$SNS" 127.0.0.1 "$port"; waitport "$SNS" 127.0.0.1 80; capture "$n"
  ip netns exec "$CNS" ss-local -s "$SIP" -p "$port" -l "$lport" -b 127.0.0.1 -k "benign-ns-$n" -m "$method" -t 3600 >"$W/ss-local-$n.log" 2>&1 &
  sp=$!
  waitport "$CNS" 127.0.0.1 "$lport"
  if [ "$scheme" = http ]; then
    inc timeout -s INT $((DUR - 3)) "$W/poll" -url "http://$SIP/ingest" -post "$post" -period "${per}s" -jitter "${pj}s" \
      -duration $((DUR - 3))s -proxy "socks5://127.0.0.1:$lport" >/dev/null 2>&1 || true
    what="one kept-alive HTTP connection: a JSON POST of $((post / 2 - 20))-$((post * 3 / 2 + 20)) B"
  else
    inc timeout -s INT $((DUR - 3)) "$W/poll" -url "https://$SIP/api/item%d.json" -tls-max 1.2 -period "${per}s" -jitter "${pj}s" \
      -duration $((DUR - 3))s -proxy "socks5://127.0.0.1:$lport" >/dev/null 2>&1 || true
    what="one kept-alive HTTPS (TLS 1.2) connection: a JSON GET"
  fi
  kill "$sp" 2>/dev/null || true
  finish "$n" proxy "shadowsocks-libev ($method, port $port) carrying $what every $per±$pj s; RTT ~$((2 * $2)) ms"
}

# h2_poll NAME DELAY JIT PERIOD PJIT PING TLSMAX [LIFETIME]: a single
# HTTP/2 connection, PING frames after PING s of silence (x/net/http2
# ReadIdleTimeout), as gRPC-style clients do; with LIFETIME, a new
# connection whenever the last is LIFETIME s (±40%) old.
s_h2_poll() {
  local n=$1 per=$4 pj=$5 ping=$6 tv=$7 life=${8:-0} conn="one connection"
  have nginx || { log "skip $n: nginx not installed"; return; }
  [ "$life" -gt 0 ] && conn="a new connection every ${life}±40% s"
  link "$2" "$3"; nginx_up; waitport "$SNS" 127.0.0.1 443; capture "$n"
  inc timeout -s INT "$DUR" "$W/poll" -url "https://$SIP/api/item%d.json" -h2 -ping "${ping}s" -tls-max "$tv" \
    -lifetime "${life}s" -period "${per}s" -jitter "${pj}s" -duration "${DUR}s" >/dev/null 2>&1 || true
  finish "$n" tls "HTTP/2 over TLS $tv (nginx; Go client): $conn, a JSON GET every $per±$pj s, a PING after $ping s idle; RTT ~$((2 * $2)) ms"
}

# https11 NAME DELAY JIT PERIOD PJIT TLSMAX POST(0 = GET) [LIFETIME]:
# HTTP/1.1 keep-alive, telemetry POSTs (204 answers) or JSON GETs; with
# LIFETIME, a new connection whenever the last is LIFETIME s (±40%) old.
s_https11() {
  local n=$1 per=$4 pj=$5 tv=$6 post=$7 life=${8:-0} what conn=keep-alive
  [ "$life" -gt 0 ] && conn="a new connection every ${life}±40% s"
  have nginx || { log "skip $n: nginx not installed"; return; }
  link "$2" "$3"; nginx_up; waitport "$SNS" 127.0.0.1 443; capture "$n"
  if [ "$post" -gt 0 ]; then
    inc timeout -s INT "$DUR" "$W/poll" -url "https://$SIP/ingest" -tls-max "$tv" -post "$post" -period "${per}s" -jitter "${pj}s" \
      -lifetime "${life}s" -duration "${DUR}s" >/dev/null 2>&1 || true
    what="a telemetry JSON POST of $((post / 2 - 20))-$((post * 3 / 2 + 20)) B every $per±$pj s, 204 answers"
  else
    inc timeout -s INT "$DUR" "$W/poll" -url "https://$SIP/api/item%d.json" -tls-max "$tv" -period "${per}s" -jitter "${pj}s" \
      -lifetime "${life}s" -duration "${DUR}s" >/dev/null 2>&1 || true
    what="a JSON GET (0.1-1.3 kB answers) every $per±$pj s"
  fi
  finish "$n" tls "HTTPS/1.1 over TLS $tv, $conn: $what; RTT ~$((2 * $2)) ms"
}

# websocket NAME DELAY JIT PING FEED FJIT TLS(12|13): client pings every
# PING s, the server pushes a JSON event every FEED s, acks now and then.
s_websocket() {
  local n=$1 ping=$4 feed=$5 fj=$6 tv=$7 port=$((9400 + NLINK)) t12=""
  $PY -c 'import websockets' 2>/dev/null || { log "skip $n: python3-websockets not installed"; return; }
  [ "$tv" = 12 ] && t12=--tls12
  link "$2" "$3"
  ins $PY "$HERE/ws.py" server --port "$port" --cert "$W/cert.pem" --key "$W/key.pem" --period "$feed" --jitter "$fj" >"$W/ws-$n.log" 2>&1 &
  waitport "$SNS" 127.0.0.1 "$port"; capture "$n"
  inc timeout -s INT $((DUR + 5)) $PY "$HERE/ws.py" client --url "wss://$SIP:$port/feed" --ping "$ping" $t12 --duration "$DUR" >/dev/null 2>&1 || true
  finish "$n" tls "WebSocket over TLS 1.${tv#1} (python websockets 10.4): client ping every $ping s, a JSON event pushed every $feed±$fj s, acks now and then; RTT ~$((2 * $2)) ms"
}

dovecot_up() {
  [ -f "$W/dovecot.conf" ] && return 0
  mkdir -p "$W/dovecot-run"
  touch "$W/dovecot.passwd" # its users are added by each IMAP session
  cat >"$W/dovecot.conf" <<EOF
protocols = imap
listen = *
base_dir = $W/dovecot-run
state_dir = $W/dovecot-run
log_path = $W/dovecot.log
ssl = required
ssl_cert = <$W/cert.pem
ssl_key = <$W/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = $W/dovecot.passwd
}
userdb {
  driver = passwd-file
  args = $W/dovecot.passwd
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
imap_idle_notify_interval = 2 mins
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 993
  }
}
EOF
  ins dovecot -F -c "$W/dovecot.conf" >"$W/dovecot.out" 2>&1 &
}

# imap_idle NAME DELAY JIT MAIL MJIT RENEW TLS(12|13): new mail lands
# every MAIL s (written straight into the Maildir, as a local delivery
# agent does); the client leaves IDLE, fetches headers, IDLEs again, and
# renews IDLE every RENEW s; Dovecot says "* OK Still here" every 2 min.
s_imap_idle() {
  local n=$1 mail=$4 mj=$5 renew=$6 tv=$7 user="u$NLINK" t12=""
  have dovecot || { log "skip $n: dovecot-imapd not installed"; return; }
  [ "$tv" = 12 ] && t12=--tls12
  link "$2" "$3"
  mkdir -p "$W/mail/$user/Maildir"/{cur,new,tmp}
  chown -R nobody "$W/mail/$user"
  echo "$user:{PLAIN}benign-ns:65534:65534::$W/mail/$user" >>"$W/dovecot.passwd" # passwd-file is re-read when it changes
  dovecot_up
  waitport "$SNS" 127.0.0.1 993 || { log "skip $n: dovecot did not start (see its log)"; cat "$W/dovecot.log" "$W/dovecot.out" >&2 || true; return; }
  capture "$n"
  ( end=$((SECONDS + DUR)); i=0; while [ $SECONDS -lt $end ]; do
      jsleep "$mail" "$mj"; i=$((i + 1))
      f="$W/mail/$user/Maildir/new/$(date +%s).$i.$TAG.benign"
      printf 'From: build@ci.benign.test\r\nTo: %s@benign.test\r\nSubject: build %d passed\r\nDate: %s\r\n\r\n%s\r\n' \
        "$user" "$i" "$(date -R)" "$(head -c $((200 + RANDOM % 2000)) /dev/zero | tr '\0' .)" >"$f.tmp" 2>/dev/null && mv "$f.tmp" "$f" || true
      chown nobody "$f" 2>/dev/null || true
    done ) &
  inc timeout -s INT $((DUR + 5)) $PY "$HERE/imapidle.py" --host "$SIP" --user "$user" --password benign-ns --renew "$renew" $t12 \
    --duration "$DUR" >/dev/null 2>"$W/imapidle-$n.err" || cat "$W/imapidle-$n.err" >&2
  finish "$n" tls "IMAP IDLE over TLS 1.${tv#1} on 993 (Dovecot 2.3): mail every $mail±$mj s, the client fetches headers and re-IDLEs, renews IDLE every $renew s; RTT ~$((2 * $2)) ms"
}

ovpn_up() {
  [ -f "$W/ovpn-ca.pem" ] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=benign-ns VPN CA" \
    -keyout "$W/ovpn-ca.key" -out "$W/ovpn-ca.pem" 2>/dev/null
  for who in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$who" \
      -keyout "$W/ovpn-$who.key" -out "$W/ovpn-$who.csr" 2>/dev/null
    openssl x509 -req -in "$W/ovpn-$who.csr" -CA "$W/ovpn-ca.pem" -CAkey "$W/ovpn-ca.key" -CAcreateserial \
      -days 30 -out "$W/ovpn-$who.pem" 2>/dev/null
  done
}

# openvpn NAME DELAY JIT PING PERIOD PJIT: a VPN client (OpenVPN over
# TCP, keep-alive ping every PING s) whose only traffic is one kept-alive
# HTTPS poll every PERIOD s.
s_openvpn() {
  local n=$1 ping=$4 per=$5 pj=$6 cp i=$NLINK
  local sin=192.168.$((200 + i)).1 cin=192.168.$((200 + i)).2
  have openvpn || { log "skip $n: openvpn not installed"; return; }
  have nginx || { log "skip $n: nginx not installed"; return; }
  [ -c /dev/net/tun ] || { log "skip $n: no /dev/net/tun"; return; }
  link "$2" "$3"; ovpn_up; nginx_up
  local common=(--dev-type tun --topology p2p --dh none --data-ciphers AES-256-GCM --ping "$ping" --ping-restart 120 --disable-dco --verb 1)
  ins openvpn --dev "tunS$i" "${common[@]}" --proto tcp-server --lport 1194 --local "$SIP" --ifconfig "$sin" "$cin" \
    --tls-server --ca "$W/ovpn-ca.pem" --cert "$W/ovpn-server.pem" --key "$W/ovpn-server.key" >"$W/ovpn-s-$n.log" 2>&1 &
  waitport "$SNS" "$SIP" 1194; capture "$n"
  ip netns exec "$CNS" openvpn --dev "tunC$i" "${common[@]}" --proto tcp-client --remote "$SIP" 1194 --ifconfig "$cin" "$sin" \
    --tls-client --ca "$W/ovpn-ca.pem" --cert "$W/ovpn-client.pem" --key "$W/ovpn-client.key" >"$W/ovpn-c-$n.log" 2>&1 &
  cp=$!
  waitport "$CNS" "$sin" 443 300 || { log "skip $n: tunnel did not come up"; cat "$W/ovpn-c-$n.log" >&2; kill $cp; return; }
  inc timeout -s INT $((DUR - 5)) "$W/poll" -url "https://$sin/api/item%d.json" -period "${per}s" -jitter "${pj}s" \
    -duration $((DUR - 5))s >/dev/null 2>&1 || true
  kill -TERM "$cp" 2>/dev/null || true
  sleep 1
  finish "$n" proxy "OpenVPN 2.6 over TCP (TLS, AES-256-GCM, ping $ping s) carrying one kept-alive HTTPS JSON GET every $per±$pj s; RTT ~$((2 * $2)) ms"
}

# The sessions: function, capture name, one-way delay and jitter (ms),
# then the function's settings. Batch 1 (the first 15) is what
# datasets/benign-ns held first; batch 2 varies every class's periods,
# keep-alives, RTTs and TLS versions, so no single setting marks a class.
SESSIONS=(
  "mqtt_plain ns-mqtt-plain-1883-ka37 12 2 37 23 9"
  "mqtt_tls ns-mqtt-tls12-8883-ka60 41 6 60 11 4 1.2"
  "redis_plain ns-redis-pubsub-plain-6379 3 1 17 7"
  "redis_tls ns-redis-pubsub-tls13-6380 27 4 7 3 1.3"
  "pg_listen_tls ns-postgres-tls-listen-notify 19 3 9 3 40 15 TLSv1.3"
  "pg_pool_plain ns-postgres-plain-pooled-poll 2 1 5 2"
  "ssh_interactive ns-ssh-interactive-date 33 5 13 6 31"
  "ssh_d_poll ns-ssh-D-https-poll 58 8 19 6 47 h1"
  "ss_poll ns-shadowsocks-aes256gcm-json-poll 71 9 aes-256-gcm http 27 9 400"
  "ss_poll ns-shadowsocks-chacha20-https-poll 9 2 chacha20-ietf-poly1305 https 14 5 0"
  "h2_poll ns-http2-tls13-keepalive-ping 24 4 33 11 15 1.3"
  "https11 ns-https11-tls12-json-post 87 12 8 3 1.2 250"
  "websocket ns-websocket-wss-ping23 16 3 23 41 12 13"
  "imap_idle ns-imap-idle-tls993 29 5 70 30 170 13"
  "openvpn ns-openvpn-tcp-https-poll 36 6 10 21 7"
  "mqtt_plain ns-mqtt-plain-1883-ka120 7 1 120 53 20"
  "mqtt_tls ns-mqtt-tls13-8883-ka45 95 10 45 19 8 1.3"
  "redis_tls ns-redis-pubsub-tls13-6380-slow 64 7 29 11 1.3"
  "pg_listen_tls ns-postgres-tls12-listen-notify 52 6 23 8 15 5 TLSv1.2"
  "ssh_interactive ns-ssh-interactive-fast 90 9 7 4 15"
  "ssh_d_poll ns-ssh-D-http2-poll 30 4 37 12 60 h2"
  "ss_poll ns-shadowsocks-aes128gcm-json-poll 25 4 aes-128-gcm http 11 4 120"
  "h2_poll ns-http2-tls12-poll-ping25 83 9 12 4 25 1.2"
  "https11 ns-https11-tls13-get-poll61 20 3 61 15 1.3 0"
  "websocket ns-websocket-wss-tls12-ping30 44 6 30 17 6 12"
  "websocket ns-websocket-wss-ping19-chat 11 2 19 9 3 13"
  "imap_idle ns-imap-idle-tls12-renew110 14 2 45 20 110 12"
  "openvpn ns-openvpn-tcp-poll-fast 5 1 15 9 3"
  "redis_tls ns-redis-pubsub-tls12-6380 48 5 13 5 1.2"
  "mqtt_reconnect ns-mqtt-tls13-push-reconnect 34 5 30 55 35 23 10 1.3"
  "https11 ns-https11-tls12-poll-reconnect 61 8 9 3 1.2 0 50"
  "h2_poll ns-http2-tls13-poll-reconnect 18 3 7 2 20 1.3 45"
  "websocket ns-push-wss-heartbeat110 38 5 110 170 60 13"
  "mqtt_tls ns-push-mqtt-tls12-ka240 22 3 240 150 60 1.2"
)
: >"$W/manifest.lines"
JOBS=()
for spec in "${SESSIONS[@]}"; do
  read -r fn name args <<<"$spec"
  NLINK=$((NLINK + 1)) # link 0 stays unused: 10.232.0.1-2 are left to humans
  want "$fn" || want "$name" || continue
  [ $NLINK -le 62 ] || { log "skip $name: no /30 left in 10.232.0.0/24"; continue; }
  # Links and daemons are set up one session at a time (shared daemons
  # start once); the clients then run side by side.
  # shellcheck disable=SC2086 # args are words on purpose
  "s_$fn" "$name" $args &
  JOBS+=($!)
  sleep 3
done
log "${#JOBS[@]} sessions running for ${DUR}s"
for j in "${JOBS[@]}"; do wait "$j" || true; done

{
  echo "# path	label	mining	scenario	ignore	note"
  echo "# Made by scripts/benign-ns/gen.sh -d $DUR ($(date -u +%Y-%m-%d)). Benign by construction; scenario says which mining scenario each is a hard negative for."
  sort "$W/manifest.lines"
} >"$OUT/manifest.tsv"
log "wrote $(grep -vc '^#' "$OUT/manifest.tsv") captures and $OUT/manifest.tsv"
