#!/usr/bin/env bash
# gen.sh — make benign long-lived captures with real applications in
# network namespaces of our own (issue 16's benign side).
#
#   sudo scripts/benign-ns/gen.sh [-d SECONDS] [-o ONLY,ONLY…] OUTDIR
#
# Two namespaces, a client and a server, joined by one link per session
# (10.232.0.0/24, a /30 each; the probe tests use 10.231.0.0/24) through
# a third "wire" namespace where delaywire (./delaywire) delays frames,
# each link with its own delay and jitter so no single RTT marks these
# captures. Real servers from Debian packages run in the server
# namespace, real clients in the client one; tcpdump captures each
# session on its client-side veth (full snaplen) into OUTDIR/NAME.pcap.
# Every session runs at the same time (they are mostly idle), for
# -d SECONDS (default 420). Every flow is benign by construction;
# OUTDIR/manifest.tsv gets one line per capture made.
#
# Needs root and: iproute2, ethtool, tcpdump, openssl, mosquitto (+ -clients),
# redis-server (+ redis-tools), postgresql, openssh-server/-client,
# dovecot-imapd, nginx, python3-websockets, shadowsocks-libev, openvpn
# and Go (builds ./poll). A session whose program is missing is skipped
# with a message; the others still run.
set -euo pipefail

DUR=420
ONLY=""
while getopts "d:o:h" opt; do
  case $opt in
    d) DUR=$OPTARG ;;
    o) ONLY=$OPTARG ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { sed -n '2,22p' "$0"; exit 2; }
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
# finish. Periods are deliberately not round and are jittered.

mqtt_up() { # one mosquitto for both MQTT sessions: 1883 plain, 8883 TLS
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

s_mqtt_plain() {
  local n=ns-mqtt-plain-1883-ka37
  have mosquitto && have mosquitto_sub || { log "skip $n: mosquitto not installed"; return; }
  link 12 2; mqtt_up; waitport "$SNS" 127.0.0.1 1883; capture $n
  # A sensor hub's subscriber: keep-alive 37 s, readings published on the
  # server side (localhost, not captured) every 23 ± 9 s.
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep 23 9
      ins mosquitto_pub -h 127.0.0.1 -p 1883 -q 1 -t sensors/hall/temp \
        -m "{\"t\":$((RANDOM % 300)),\"h\":$((RANDOM % 100)),\"id\":\"hall-$((RANDOM % 9))\"}" || true
    done ) &
  inc timeout -s INT "$DUR" mosquitto_sub -h "$SIP" -p 1883 -k 37 -q 1 -i hub-$TAG -t 'sensors/#' >/dev/null || true
  finish $n plaintext "MQTT 3.1.1 subscriber (mosquitto_sub, keep-alive 37 s, QoS 1) receiving a JSON reading every 23±9 s; RTT ~24 ms"
}

s_mqtt_tls() {
  local n=ns-mqtt-tls12-8883-ka60
  have mosquitto && have mosquitto_sub || { log "skip $n: mosquitto not installed"; return; }
  link 41 6; mqtt_up; waitport "$SNS" 127.0.0.1 8883; capture $n
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep 11 4
      ins mosquitto_pub -h 127.0.0.1 -p 1883 -q 0 -t fleet/truck7/pos \
        -m "{\"lat\":52.$RANDOM,\"lon\":13.$RANDOM,\"v\":$((RANDOM % 90)),\"note\":\"$(head -c $((RANDOM % 300)) /dev/zero | tr '\0' x)\"}" || true
    done ) &
  inc timeout -s INT "$DUR" mosquitto_sub -h "$SIP" -p 8883 --cafile "$W/eccert.pem" --insecure --tls-version tlsv1.2 \
    -k 60 -q 0 -i fleet-$TAG -t 'fleet/#' >/dev/null || true
  finish $n tls "MQTT over TLS 1.2 (mosquitto_sub, keep-alive 60 s) receiving 50-400 B position updates every 11±4 s; RTT ~82 ms"
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

s_redis_plain() {
  local n=ns-redis-pubsub-plain-6379
  have redis-server && have redis-cli || { log "skip $n: redis not installed"; return; }
  link 3 1; redis_up; waitport "$SNS" 127.0.0.1 6379; capture $n
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep 17 7
      ins redis-cli -p 6379 PUBLISH cache-invalidate "{\"key\":\"user:$RANDOM\",\"op\":\"del\"}" >/dev/null || true
    done ) &
  inc timeout -s INT "$DUR" redis-cli -h "$SIP" -p 6379 SUBSCRIBE cache-invalidate >/dev/null || true
  finish $n plaintext "Redis 7 pub/sub subscriber (redis-cli SUBSCRIBE) idling, a cache-invalidation JSON every 17±7 s; RTT ~6 ms (a LAN)"
}

s_redis_tls() {
  local n=ns-redis-pubsub-tls13-6380
  have redis-server && have redis-cli || { log "skip $n: redis not installed"; return; }
  link 27 4; redis_up; waitport "$SNS" 127.0.0.1 6380 || { log "skip $n: redis-server has no TLS"; return; }
  capture $n
  ( end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do
      jsleep 7 3
      ins redis-cli -p 6379 PUBLISH prices "{\"sym\":\"X$((RANDOM % 50))\",\"px\":$RANDOM.$((RANDOM % 100)),\"q\":$((RANDOM % 1000))}" >/dev/null || true
    done ) &
  inc timeout -s INT "$DUR" redis-cli --tls --insecure -h "$SIP" -p 6380 SUBSCRIBE prices >/dev/null || true
  finish $n tls "Redis 7 pub/sub over TLS 1.3: subscriber receiving a small price tick every 7±3 s; RTT ~54 ms"
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

s_pg_listen_tls() {
  local n=ns-postgres-tls-listen-notify
  have psql && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { log "skip $n: postgresql not installed"; return; }
  link 19 3; pg_up; waitport "$SNS" 127.0.0.1 5432; capture $n
  # A worker that LISTENs for jobs and checks a queue every 9 ± 3 s over
  # TLS; the server NOTIFYs now and then (localhost, not captured).
  ( end=$((SECONDS + DUR)); sleep 3; while [ $SECONDS -lt $end ]; do
      jsleep 40 15
      ins psql -q -h "$W/pgsock" -U postgres -c "NOTIFY jobs, '{\"job\":$RANDOM}'" >/dev/null 2>&1 || true
    done ) &
  ( echo "LISTEN jobs;"
    end=$((SECONDS + DUR - 2)); while [ $SECONDS -lt $end ]; do
      jsleep 9 3
      echo "SELECT now(), count(*) FROM pg_stat_activity WHERE state = 'active';"
    done ) | inc psql "host=$SIP user=postgres dbname=postgres sslmode=require" -q >/dev/null 2>&1 || true
  finish $n tls "PostgreSQL 15 over TLS 1.3: psql LISTEN jobs, a small status query every 9±3 s, a NOTIFY every 40±15 s; RTT ~38 ms"
}

s_pg_pool_plain() {
  local n=ns-postgres-plain-pooled-poll
  have psql && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { log "skip $n: postgresql not installed"; return; }
  link 2 1; pg_up; waitport "$SNS" 127.0.0.1 5432; capture $n
  # A pooled application connection: one session, a small parameterised
  # lookup every 5 ± 2 s (the pool keeps the connection open).
  ( end=$((SECONDS + DUR - 2)); while [ $SECONDS -lt $end ]; do
      jsleep 5 2
      echo "SELECT $RANDOM AS id, md5(random()::text) AS token, now();"
    done ) | inc psql "host=$SIP user=postgres dbname=postgres sslmode=disable" -q >/dev/null 2>&1 || true
  finish $n plaintext "PostgreSQL 15 plaintext, one pooled connection running a small SELECT every 5±2 s; RTT ~4 ms (a LAN)"
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

s_ssh_interactive() {
  local n=ns-ssh-interactive-date
  [ -x /usr/sbin/sshd ] && have ssh || { log "skip $n: openssh not installed"; return; }
  link 33 5; sshd_up; waitport "$SNS" 127.0.0.1 22; capture $n
  # An operator's shell (pty): a command typed every 13 ± 6 s, keep-alive
  # probes from the client every 31 s.
  ( end=$((SECONDS + DUR - 2)); while [ $SECONDS -lt $end ]; do
      jsleep 13 6
      case $((RANDOM % 3)) in 0) echo "date" ;; 1) echo "uptime" ;; 2) echo "df -h / | tail -1" ;; esac
    done; echo exit ) | sshc -tt -o ServerAliveInterval=31 "root@$SIP" >/dev/null 2>&1 || true
  finish $n proxy "OpenSSH 9.2 interactive session (pty): date/uptime/df typed every 13±6 s, ServerAliveInterval 31 s; RTT ~66 ms"
}

s_ssh_d_poll() {
  local n=ns-ssh-D-https-poll
  [ -x /usr/sbin/sshd ] && have ssh || { log "skip $n: openssh not installed"; return; }
  have nginx || { log "skip $n: nginx not installed"; return; }
  link 58 8; sshd_up; nginx_up; waitport "$SNS" 127.0.0.1 22; waitport "$SNS" 127.0.0.1 443; capture $n
  ip netns exec "$CNS" ssh -i "$W/ssh_user" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -N -D 127.0.0.1:1080 -o ServerAliveInterval=47 "root@$SIP" 2>/dev/null &
  local sp=$!
  waitport "$CNS" 127.0.0.1 1080
  # A dashboard behind a SOCKS tunnel: one kept-alive HTTPS connection
  # (TLS 1.3, HTTP/1.1) inside the SSH connection, a GET every 19 ± 6 s.
  inc timeout -s INT $((DUR - 3)) "$W/poll" -url "https://$SIP/api/item%d.json" -period 19s -jitter 6s \
    -duration $((DUR - 3))s -proxy socks5://127.0.0.1:1080 >/dev/null 2>&1 || true
  kill "$sp" 2>/dev/null || true
  finish $n proxy "ssh -D tunnel (OpenSSH 9.2, ServerAliveInterval 47 s) carrying one kept-alive HTTPS JSON poll every 19±6 s; RTT ~116 ms"
}

s_ss_poll() {
  local n=ns-shadowsocks-aes256gcm-json-poll
  have ss-server && have ss-local || { log "skip $n: shadowsocks-libev not installed"; return; }
  have nginx || { log "skip $n: nginx not installed"; return; }
  link 71 9; nginx_up
  ins ss-server -s 0.0.0.0 -p 8388 -k benign-ns-pass -m aes-256-gcm -t 3600 >"$W/ss-server.log" 2>&1 &
  waitport "$SNS" 127.0.0.1 8388; waitport "$SNS" 127.0.0.1 80; capture $n
  ip netns exec "$CNS" ss-local -s "$SIP" -p 8388 -l 1081 -b 127.0.0.1 -k benign-ns-pass -m aes-256-gcm -t 3600 >"$W/ss-local.log" 2>&1 &
  local sp=$!
  waitport "$CNS" 127.0.0.1 1081
  # An agent reporting through a shadowsocks proxy: one kept-alive
  # plain-HTTP connection inside, a JSON POST (60-900 B) every 27 ± 9 s.
  inc timeout -s INT $((DUR - 3)) "$W/poll" -url "http://$SIP/ingest" -post 400 -period 27s -jitter 9s \
    -duration $((DUR - 3))s -proxy socks5://127.0.0.1:1081 >/dev/null 2>&1 || true
  kill "$sp" 2>/dev/null || true
  finish $n proxy "shadowsocks-libev (aes-256-gcm) carrying one kept-alive HTTP connection: a JSON POST of 60-900 B every 27±9 s; RTT ~142 ms"
}

s_ss_tls_poll() {
  local n=ns-shadowsocks-chacha20-https-poll
  have ss-server && have ss-local || { log "skip $n: shadowsocks-libev not installed"; return; }
  have nginx || { log "skip $n: nginx not installed"; return; }
  link 9 2; nginx_up
  ins ss-server -s 0.0.0.0 -p 8389 -k benign-ns-pass2 -m chacha20-ietf-poly1305 -t 3600 >"$W/ss-server2.log" 2>&1 &
  waitport "$SNS" 127.0.0.1 8389; waitport "$SNS" 127.0.0.1 443; capture $n
  ip netns exec "$CNS" ss-local -s "$SIP" -p 8389 -l 1082 -b 127.0.0.1 -k benign-ns-pass2 -m chacha20-ietf-poly1305 -t 3600 >"$W/ss-local2.log" 2>&1 &
  local sp=$!
  waitport "$CNS" 127.0.0.1 1082
  inc timeout -s INT $((DUR - 3)) "$W/poll" -url "https://$SIP/api/item%d.json" -tls-max 1.2 -period 14s -jitter 5s \
    -duration $((DUR - 3))s -proxy socks5://127.0.0.1:1082 >/dev/null 2>&1 || true
  kill "$sp" 2>/dev/null || true
  finish $n proxy "shadowsocks-libev (chacha20-ietf-poly1305) carrying one kept-alive HTTPS (TLS 1.2) JSON GET every 14±5 s; RTT ~18 ms"
}

s_h2_poll() {
  local n=ns-http2-tls13-keepalive-ping
  have nginx || { log "skip $n: nginx not installed"; return; }
  link 24 4; nginx_up; waitport "$SNS" 127.0.0.1 443; capture $n
  # A single HTTP/2 connection polled every 33 ± 11 s, PING frames after
  # 15 s of silence (x/net/http2 ReadIdleTimeout), as gRPC-style clients do.
  inc timeout -s INT "$DUR" "$W/poll" -url "https://$SIP/api/item%d.json" -h2 -ping 15s -period 33s -jitter 11s \
    -duration "${DUR}s" >/dev/null 2>&1 || true
  finish $n tls "HTTP/2 over TLS 1.3 (nginx; Go client): one connection, a JSON GET every 33±11 s, a PING after 15 s idle; RTT ~48 ms"
}

s_https11_post() {
  local n=ns-https11-tls12-json-post
  have nginx || { log "skip $n: nginx not installed"; return; }
  link 87 12; nginx_up; waitport "$SNS" 127.0.0.1 443; capture $n
  inc timeout -s INT "$DUR" "$W/poll" -url "https://$SIP/ingest" -tls-max 1.2 -post 250 -period 8s -jitter 3s \
    -duration "${DUR}s" >/dev/null 2>&1 || true
  finish $n tls "HTTPS/1.1 over TLS 1.2 keep-alive: a telemetry JSON POST of 60-500 B every 8±3 s, 204 answers; RTT ~174 ms"
}

s_websocket() {
  local n=ns-websocket-wss-ping23
  $PY -c 'import websockets' 2>/dev/null || { log "skip $n: python3-websockets not installed"; return; }
  link 16 3
  ins $PY "$HERE/ws.py" server --port 9443 --cert "$W/cert.pem" --key "$W/key.pem" --period 41 --jitter 12 >"$W/ws.log" 2>&1 &
  waitport "$SNS" 127.0.0.1 9443; capture $n
  inc timeout -s INT $((DUR + 5)) $PY "$HERE/ws.py" client --url "wss://$SIP:9443/feed" --ping 23 --duration "$DUR" >/dev/null 2>&1 || true
  finish $n tls "WebSocket over TLS 1.3 (python websockets 10.4): client ping every 23 s, a JSON event pushed every 41±12 s, acks now and then; RTT ~32 ms"
}

dovecot_up() {
  [ -f "$W/dovecot.conf" ] && return 0
  mkdir -p "$W/mail/alice/Maildir"/{cur,new,tmp} "$W/dovecot-run"
  chown -R nobody "$W/mail"
  echo "alice:{PLAIN}benign-ns:65534:65534::$W/mail/alice" >"$W/dovecot.passwd"
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

s_imap_idle() {
  local n=ns-imap-idle-tls993
  have dovecot || { log "skip $n: dovecot-imapd not installed"; return; }
  link 29 5; dovecot_up; waitport "$SNS" 127.0.0.1 993 || { log "skip $n: dovecot did not start (see its log)"; cat "$W/dovecot.log" "$W/dovecot.out" >&2 || true; return; }
  capture $n
  # New mail lands every 70 ± 30 s (written straight into the Maildir, as
  # a local delivery agent does); the client leaves IDLE, fetches headers,
  # and IDLEs again; Dovecot sends "* OK Still here" every 2 min.
  ( end=$((SECONDS + DUR)); i=0; while [ $SECONDS -lt $end ]; do
      jsleep 70 30; i=$((i + 1))
      f="$W/mail/alice/Maildir/new/$(date +%s).$i.$TAG.benign"
      printf 'From: build@ci.benign.test\r\nTo: alice@benign.test\r\nSubject: build %d passed\r\nDate: %s\r\n\r\n%s\r\n' \
        "$i" "$(date -R)" "$(head -c $((200 + RANDOM % 2000)) /dev/zero | tr '\0' .)" >"$f.tmp" 2>/dev/null && mv "$f.tmp" "$f" || true
      chown nobody "$f" 2>/dev/null || true
    done ) &
  inc timeout -s INT $((DUR + 5)) $PY "$HERE/imapidle.py" --host "$SIP" --user alice --password benign-ns --renew 170 \
    --duration "$DUR" >/dev/null 2>"$W/imapidle.err" || cat "$W/imapidle.err" >&2
  finish $n tls "IMAP IDLE over TLS 1.3 on 993 (Dovecot 2.3): mail every 70±30 s, the client fetches headers and re-IDLEs, renews IDLE every 170 s; RTT ~58 ms"
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

s_openvpn() {
  local n=ns-openvpn-tcp-https-poll
  have openvpn || { log "skip $n: openvpn not installed"; return; }
  have nginx || { log "skip $n: nginx not installed"; return; }
  [ -c /dev/net/tun ] || { log "skip $n: no /dev/net/tun"; return; }
  link 36 6; ovpn_up; nginx_up
  local common=(--dev-type tun --topology p2p --dh none --data-ciphers AES-256-GCM --ping 10 --ping-restart 120 --disable-dco --verb 1)
  ins openvpn --dev tunS "${common[@]}" --proto tcp-server --lport 1194 --local "$SIP" --ifconfig 192.168.232.1 192.168.232.2 \
    --tls-server --ca "$W/ovpn-ca.pem" --cert "$W/ovpn-server.pem" --key "$W/ovpn-server.key" >"$W/ovpn-s.log" 2>&1 &
  waitport "$SNS" "$SIP" 1194; capture $n
  ip netns exec "$CNS" openvpn --dev tunC "${common[@]}" --proto tcp-client --remote "$SIP" 1194 --ifconfig 192.168.232.2 192.168.232.1 \
    --tls-client --ca "$W/ovpn-ca.pem" --cert "$W/ovpn-client.pem" --key "$W/ovpn-client.key" >"$W/ovpn-c.log" 2>&1 &
  local cp=$!
  waitport "$CNS" 192.168.232.1 443 300 || { log "skip $n: tunnel did not come up"; cat "$W/ovpn-c.log" >&2; kill $cp; return; }
  # A VPN client (OpenVPN over TCP, keep-alive ping every 10 s) whose only
  # traffic is one kept-alive HTTPS poll every 21 ± 7 s.
  inc timeout -s INT $((DUR - 5)) "$W/poll" -url "https://192.168.232.1/api/item%d.json" -period 21s -jitter 7s \
    -duration $((DUR - 5))s >/dev/null 2>&1 || true
  kill -TERM "$cp" 2>/dev/null || true
  sleep 1
  finish $n proxy "OpenVPN 2.6 over TCP (TLS, AES-256-GCM, ping 10 s) carrying one kept-alive HTTPS JSON GET every 21±7 s; RTT ~72 ms"
}

SESSIONS=(mqtt_plain mqtt_tls redis_plain redis_tls pg_listen_tls pg_pool_plain ssh_interactive ssh_d_poll
  ss_poll ss_tls_poll h2_poll https11_post websocket imap_idle openvpn)
: >"$W/manifest.lines"
JOBS=()
for s in "${SESSIONS[@]}"; do
  NLINK=$((NLINK + 1)) # link 0 stays unused: 10.232.0.1-2 are left to humans
  want "$s" || continue
  # Links and daemons are set up one session at a time (shared daemons
  # start once); the clients then run side by side.
  "s_$s" &
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
