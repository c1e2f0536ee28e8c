#!/usr/bin/env bash
# A private CA and a server certificate for the controller's hub, in one command.
#
#   deploy/tls/make-ca.sh [-o DIR] [-d DAYS] HOST_OR_IP [HOST_OR_IP ...]
#
# Writes, into DIR (default ./tls, created 0700):
#   ca.crt      the CA certificate: copy it to every agent and pin it (agent --ca /etc/userprobe/ca.crt)
#   ca.key      the CA's private key (0600): keep it off the controller if you can; it signs new server certificates
#   server.crt  the controller's certificate followed by ca.crt (controller --tls-cert)
#   server.key  its private key (0600) (controller --tls-key)
#
# The server certificate names every HOST_OR_IP given (what agents put in --controller) plus
# localhost and 127.0.0.1 (for the controller's own --local-agents). Run it again with the same
# DIR to issue a new server certificate (other names, or a renewal) from the same CA: agents
# keep their pinned ca.crt. Delete DIR to start over with a new CA (then give agents the new
# ca.crt). Keys are EC P-256; the server certificate is valid DAYS days (default 825), the CA
# ten years.
set -euo pipefail

usage() {
  echo "usage: $0 [-o DIR] [-d DAYS] HOST_OR_IP [HOST_OR_IP ...]" >&2
  echo "  e.g. $0 -o /etc/userprobe/tls ctl.example.com 203.0.113.7" >&2
  exit 2
}

dir=./tls
days=825
while getopts 'o:d:h' opt; do
  case "$opt" in
    o) dir=$OPTARG ;;
    d) days=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ "$#" -ge 1 ] || usage
[[ "$days" =~ ^[0-9]+$ ]] && [ "$days" -ge 1 ] || { echo "$0: -d: \"$days\" is not a number of days" >&2; exit 2; }
command -v openssl >/dev/null || { echo "$0: openssl is not installed (apt-get install -y openssl)" >&2; exit 2; }

# subjectAltName: IP:… for addresses (IPv4 or IPv6), DNS:… for names.
san="DNS:localhost,IP:127.0.0.1"
for h in "$@"; do
  if [[ "$h" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$h" == *:* ]]; then
    san="$san,IP:$h"
  elif [[ "$h" =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    san="$san,DNS:$h"
  else
    echo "$0: \"$h\" is neither a host name nor an IP address" >&2
    exit 2
  fi
done

umask 077
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"

if [ ! -s ca.key ] || [ ! -s ca.crt ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -subj "/CN=userprobe controller CA $(date -u +%Y%m%d%H%M%S)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca.key -out ca.crt 2>/dev/null
  echo "new CA: $dir/ca.crt (pin it on every agent with --ca)" >&2
else
  echo "reusing the CA in $dir (agents keep their pinned ca.crt)" >&2
fi

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=$1" \
  -keyout server.key -out server.csr 2>/dev/null
cat > server.ext <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EOF
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days "$days" \
  -extfile server.ext -out server.leaf.crt 2>/dev/null
cat server.leaf.crt ca.crt > server.crt
rm -f server.csr server.ext server.leaf.crt ca.srl
chmod 600 ca.key server.key
chmod 644 ca.crt server.crt
openssl verify -CAfile ca.crt server.crt >/dev/null
echo "server certificate: $dir/server.crt and $dir/server.key for $san (valid $days days)" >&2
