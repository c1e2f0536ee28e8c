#!/bin/sh
# All three scenarios, each in a fresh loopback-only network namespace (WebRTC
# traffic cannot leave the machine; see packages/agent/test/netns/netns.ts for
# why the namespace also holds a veth pair whose both ends stay inside).
# Usage: bench/scenario-cost/run.sh [shell|chromium]   (root; build first)
set -e
cd "$(dirname "$0")/../.."
KIND="${1:-shell}"
SETUP='ip link set lo up && ip link add up0 type veth peer name up1 && ip addr add 198.18.0.1/24 dev up0 && ip link set up0 up && ip link set up1 up && ip route add default dev up0'
for spec in chat-load:4 cobrowse:4 video-call:2; do
  unshare -n -- sh -c "$SETUP && exec node bench/scenario-cost/run.mjs ${spec%%:*} ${spec##*:} $KIND"
done
