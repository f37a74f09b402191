#!/usr/bin/env bash
# Scans the gateway's HTTPS listener with an independent TLS scanner
# (Debian's testssl.sh): a portico server on 127.0.0.1 ports with an
# ECDSA P-256 certificate for scan.test added through the admin API. It
# prints what the scanner says of the protocols, the cipher suites and
# every finding of severity LOW or above, and fails when a protocol below
# TLS 1.2 is offered or a finding is MEDIUM or above — those about the
# script's own self-signed test certificate (cert_*) shown apart. Bounded:
# 10 minutes.
#
#   bash bench/tlsscan/run.sh            # from the repository root
set -euo pipefail
command -v testssl >/dev/null || { echo "bench-tls skipped: testssl is not installed (apt-get install testssl.sh)"; exit 0; }
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/portico" ./cmd/portico
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=scan.test \
  -addext subjectAltName=DNS:scan.test -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
PORTICO_ADMIN_PASSWORD=tls-scan-password-1 "$work/portico" server --data-dir "$work/data" \
  --admin-addr 127.0.0.1:0 --gateway-addr 127.0.0.1:0 --gateway-tls-addr 127.0.0.1:0 --status-addr 127.0.0.1:0 \
  --ready-file "$work/ready.json" --log-level warn >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
[ -s "$work/ready.json" ] || { echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
admin=$(jq -r .admin "$work/ready.json"); tlsaddr=$(jq -r .gateway_tls "$work/ready.json")
token=$(curl -sf "http://$admin/api/v1/auth/login" -d '{"username":"admin","password":"tls-scan-password-1"}' | jq -r .token)
jq -n --rawfile c "$work/cert.pem" --rawfile k "$work/key.pem" '{name:"scan", certificate:$c, private_key:$k, default:true}' |
  curl -sf -H "Authorization: Bearer $token" "http://$admin/api/v1/gateway-groups/default/certificates" --data-binary @- >/dev/null
echo "testssl $(testssl --version 2>/dev/null | grep -m1 -o 'testssl.sh *[0-9.]*' || true) against the gateway's HTTPS listener ($tlsaddr, ECDSA P-256)"
timeout 600 testssl --quiet --color 0 --warnings off --sneaky --ip one --jsonfile "$work/scan.json" "$tlsaddr" >"$work/scan.txt" 2>&1 || true
[ -s "$work/scan.json" ] || { echo "the scanner wrote no results:" >&2; tail -20 "$work/scan.txt" >&2; exit 1; }
echo
echo "Protocols:"
jq -r '.[] | select(.id | test("^(SSLv2|SSLv3|TLS1|TLS1_1|TLS1_2|TLS1_3)$")) | "  \(.id): \(.finding)"' "$work/scan.json"
echo "Cipher suites:"
jq -r '.[] | select(.id | test("^(cipherlist_|cipherorder_|cipher_order)")) | "  \(.id): \(.finding)"' "$work/scan.json" | sed 's/  */ /g'
# The certificate is this script's own, self-signed for a name the scan
# does not ask for and valid two days: what the scanner says of it
# (cert_*) is shown but is not the gateway's configuration.
echo "Findings of severity LOW or above (the certificate's apart):"
jq -r '.[] | select((.severity == "LOW" or .severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL") and (.id | test("^cert_") | not)) | "  \(.severity) \(.id): \(.finding)"' "$work/scan.json"
echo "About the test certificate:"
jq -r '.[] | select((.id | test("^cert_")) and (.severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL")) | "  \(.severity) \(.id): \(.finding)"' "$work/scan.json"
old=$(jq '[.[] | select((.id | test("^(SSLv2|SSLv3|TLS1|TLS1_1)$")) and (.finding | test("not offered") | not))] | length' "$work/scan.json")
bad=$(jq '[.[] | select((.severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL") and (.id | test("^cert_") | not))] | length' "$work/scan.json")
echo
echo "protocols below TLS 1.2 offered: $old; findings MEDIUM or above (the certificate's apart): $bad"
[ "$old" = 0 ] && [ "$bad" = 0 ]
