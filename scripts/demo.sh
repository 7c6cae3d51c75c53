#!/usr/bin/env bash
# scripts/demo.sh — the main job on an embedded default, run by `make demo`.
# Shows the command list and the effective configuration parsed from the
# upstream sample config (found in ../shared, as CI has it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
bin=$BUILD/mdns-doctor
shared=${MDNS_SHARED:-$(cd .. && pwd)/shared}
echo "== mdns-doctor help"
"$bin" help
cfg=$shared/interop/upstream-configs/client_config.toml.simple
if [ -f "$cfg" ] && "$bin" help config >/dev/null 2>&1; then
	echo
	echo "== mdns-doctor config show --config $cfg"
	"$bin" config show --config "$cfg" \
	    --resolvers "$shared/interop/upstream-configs/client_resolvers.simple"
fi
