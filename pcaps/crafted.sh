#!/bin/sh
# crafted.sh - writes the committed crafted captures in pcaps/crafted/ (`make pcaps`).
#
#   sh pcaps/crafted.sh CRAFT [PCAPDIR [OUTDIR]]
#
# One line per file below: its name, the craft transformation, the recording
# it is made from. Next to each capture goes craft's manifest (NAME.tsv): per
# connection, the anomalies injected and the handshake messages left intact,
# i.e. what tlswhy must report. Every file is made twice and compared byte for
# byte: craft takes its timestamps from the recording and its randomness from
# a fixed seed, so a difference is a bug. tests/metamorphic.py checks that
# the committed files equal a fresh run (re-run this after pcaps/record.sh).
set -eu
craft=$1
src=${2:-pcaps}
out=${3:-pcaps/crafted}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while read -r name t from; do
	case "$name" in '' | '#'*) continue ;; esac
	ext=pcap
	case "$t" in *pcapng*) ext=pcapng ;; esac
	"$craft" -t "$t" -m "$out/$name.tsv" -o "$out/$name.$ext" "$src/$from"
	"$craft" -t "$t" -m "$tmp/m.tsv" -o "$tmp/o" "$src/$from"
	if ! cmp -s "$tmp/o" "$out/$name.$ext" || ! cmp -s "$tmp/m.tsv" "$out/$name.tsv"; then
		echo "crafted.sh: $name: two runs of craft differ" >&2
		exit 1
	fi
done <<'LIST'
# name                           transformation          recording
vxlan-mirror-demo-alb-502        vxlan                   demo-alb-502.pcap
vxlan-mirror-truncated           vxlan-trunc             client-rejects-expired.pcap
geneve-gwlb-no-shared-cipher     geneve                  alb-no-shared-cipher.pcap
qinq-alb-tls12-ok                qinq                    alb-tls12-ok.pcap
sll2-client-rejects-expired      sll2                    client-rejects-expired.pcap
sll-pcapng-tls13-ok              sll+pcapng              tls13-ok.pcap
fragments-nginx-reject-no-sni    frag                    nginx-reject-no-sni.pcap
wrap-alb-tls12-ok                wrap                    alb-tls12-ok.pcap
gap-in-alert-alb-vs-tls13-only   gap-alert               alb-vs-tls13-only.pcap
gap-in-chain-client-rejects-self-signed gap-cert         client-rejects-self-signed.pcap
midstream-hdrsplit-reversed      nosyn+hdrsplit+reverse  tls12-client-cert-required.pcap
overlap-conflict-alb-no-sni      overlap-diff+ipv6+vlan  nginx-reject-no-sni.pcap
vxlan-mirror-out-of-step-client-cert flightfirst+vxlan   tls13-client-cert-required.pcap
LIST
