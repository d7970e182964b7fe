#!/bin/sh
# Regenerates tshark-clienthello.tsv: every TLS ClientHello that tshark
# (Wireshark 4.0.17) finds in ../shared/datasets captures, with its SNI,
# ALPN and JA3. Run ONCE from the repository root when the datasets change;
# the tests read the .tsv and do not need tshark (CI may lack it).
#   sh detect/tlshello/testdata/gen-tshark.sh > detect/tlshello/testdata/tshark-clienthello.tsv
set -e
D=${MINERWATCH_SHARED:-../shared}/datasets
echo "# capture	frame	src	sport	dst	dport	proto	sni	alpn	ja3_full	ja3 — from: tshark -Y tls.handshake.type==1 (QUIC rows: proto=udp)"
cd "$D"
find lab public -name '*.pcap' -o -name '*.pcapng' | sort | while read f; do
  tshark -r "$f" -Y 'tls.handshake.type==1' -T fields -E separator=/t -E occurrence=a -E aggregator=, \
    -e frame.number -e ip.src -e ipv6.src -e tcp.srcport -e udp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport -e udp.dstport \
    -e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str -e tls.handshake.ja3_full -e tls.handshake.ja3 2>/dev/null |
  awk -F'\t' -v f="$f" 'BEGIN{OFS="\t"} {src=$2$3; dst=$6$7; sp=$4; dp=$8; p="tcp"; if ($5!="") {sp=$5; dp=$9; p="udp"}
      print f, $1, src, sp, dst, dp, p, $10, $11, $12, $13}'
done
