#!/bin/sh
# SPDX-License-Identifier: MIT
# Install every build and test dependency of mdns-doctor on Debian 12.
# Idempotent and quick when everything is already there: apt-get runs only
# when a package is missing. chromium, groff, man-db and systemd are for
# the report's browser test and the packaging test (docs/report.md).
set -eu
PKGS="build-essential pkg-config clang libclang-rt-14-dev clang-format cppcheck
 libldns-dev libcurl4-openssl-dev libncurses-dev libsqlite3-dev libssl-dev
 libzstd-dev liblz4-dev zlib1g-dev libjansson-dev liblwip-dev
 unbound dnsmasq-base tmux sqlite3 jq perl python3 valgrind iproute2 curl
 util-linux procps bc iputils-ping
 prometheus
 chromium groff man-db systemd"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# unbound's package starts a system service on install; policy-rc.d keeps it
# from grabbing port 53 on CI machines.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
