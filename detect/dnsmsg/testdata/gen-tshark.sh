#!/bin/sh
# Regenerates tshark-dns.tsv: every DNS message tshark (Wireshark 4.0.17)
# decodes in ../shared/datasets captures — query names and A/AAAA/CNAME
# answers. Run ONCE from the repository root when the datasets change; the
# tests read the .tsv and do not need tshark (CI may lack it).
#   sh detect/dnsmsg/testdata/gen-tshark.sh > detect/dnsmsg/testdata/tshark-dns.tsv
set -e
D=${MINERWATCH_SHARED:-../shared}/datasets
echo "# capture	frame	src	sport	dst	dport	response	qnames	a	aaaa	cname — from: tshark -Y dns"
cd "$D"
find lab public -name '*.pcap' -o -name '*.pcapng' | sort | while read f; do
  tshark -r "$f" -Y 'dns' -T fields -E separator=/t -E occurrence=a -E aggregator=, \
    -e frame.number -e ip.src -e ipv6.src -e udp.srcport -e tcp.srcport -e ip.dst -e ipv6.dst -e udp.dstport -e tcp.dstport \
    -e dns.flags.response -e dns.qry.name -e dns.a -e dns.aaaa -e dns.cname 2>/dev/null |
  awk -F'\t' -v f="$f" 'BEGIN{OFS="\t"} {print f, $1, $2$3, $4$5, $6$7, $8$9, $10, $11, $12, $13, $14}'
done
