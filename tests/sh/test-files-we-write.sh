#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-files-we-write.sh — issue 19 item 7 and docs/security.md "Files we
# write", with a real `scan` run as root and traps laid by uid 65534 in a
# sticky world-writable directory (like /tmp):
#   * scan --no-store keeps its scratch database in a 0700 directory of its
#     own: nothing of it sits in the shared directory itself (before, the
#     file was made, unlinked and reopened there by name, with its -wal and
#     -shm beside it), and an attacker planting symlinks for every name it
#     sees there gets no file created through them; all of it is gone after;
#   * --write-resolvers and --stats do not follow a symlink (or reuse a
#     file) another user planted there, and leave the target alone;
#   * --db in such a directory is refused (SQLite opens -wal/-shm by name);
#   * files we create are 0600.
# Needs root and setpriv (another uid); skipped otherwise.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/topo.sh"
BIN=${MDNS_BIN:?}
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "1..0 # SKIP needs root and setpriv"
	exit 0
fi
topo_init || exit 1
D=$TOPO_DIR
chmod 711 "$D"
S=$D/shared
mkdir -m 1777 "$S"
mkdir -m 700 "$D/victim"
A=(setpriv --reuid=65534 --regid=65534 --clear-groups)
printf '5f3c8e1a9b2d47e6c0f18a3b5d7e9c21' >"$D/key"
echo "127.0.0.1:9" >"$D/list.txt" # nothing answers: the scan ends at liveness
scan() {
	"$BIN" scan --domain t.example --method 1 --key-file "$D/key" \
	    --tries 1 --intercept-probe none "$@" "$D/list.txt"
}

# --- the scratch database of scan --no-store ---------------------------
# The attacker: every new name in the shared dir gets -wal, -shm and
# -journal symlinks planted next to it, pointing into the victim dir.
cat >"$D/plant.py" <<'PY'
import os, sys, time
shared, victim, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
seen, end = set(), time.time() + secs
print("ready", flush=True)
while time.time() < end:
    for n in os.listdir(shared):
        if (n in seen or not n.startswith("mdns-scan.") or
                n.endswith(("-wal", "-shm", "-journal"))):
            continue
        seen.add(n)
        for suf in ("-wal", "-shm", "-journal"):
            try:
                os.symlink(os.path.join(victim, n + suf),
                           os.path.join(shared, n + suf))
            except OSError:
                pass
PY
"${A[@]}" /usr/bin/python3 "$D/plant.py" "$S" "$D/victim" 4 \
    >"$D/plant.out" 2>&1 &
PLANT=$!
topo_track $PLANT
for _ in $(seq 100); do grep -q ready "$D/plant.out" && break; sleep 0.05; done
TMPDIR=$S scan --no-store --timeout-ms 1500 >/dev/null 2>"$D/scan.err" &
SCAN=$!
topo_track $SCAN
seen=""
for _ in $(seq 150); do
	seen=$(find "$S" -mindepth 1 -maxdepth 1 -name 'mdns-scan.*' \
	    ! -name '*-wal' ! -name '*-shm' ! -name '*-journal' \
	    -printf '%y %m %u\n' | sort -u)
	[ -n "$seen" ] && break
	sleep 0.02
done
is "$seen" "d 700 root" \
    "scratch database: a 0700 directory of ours, not a file in the shared dir"
inside=$(find "$S" -mindepth 2 -name 'scan.db' -printf '%f\n')
is "$inside" "scan.db" "  the database is inside it"
wait $SCAN
rc=$?
is "$rc" 2 "the scan reached its verdict (nobody passed), links or not"
diag "scan --no-store: $(tail -1 "$D/scan.err")"
wait $PLANT
is "$(find "$D/victim" -mindepth 1 | wc -l)" 0 \
    "planted -wal/-shm links led nowhere (nothing created in the victim dir)"
is "$(find "$S" -mindepth 1 -user root | wc -l)" 0 \
    "after the scan nothing of ours is left in the shared dir"
find "$S" -mindepth 1 -delete

# --- files written by name ---------------------------------------------
echo keep >"$D/victim/target"
"${A[@]}" ln -s "$D/victim/target" "$S/resolvers.txt"
"${A[@]}" ln -s "$D/victim/target" "$S/stats.json"
"${A[@]}" touch "$S/theirs.txt"
chmod 666 "$S/theirs.txt" 2>/dev/null || true
"${A[@]}" chmod 666 "$S/theirs.txt"
scan --no-store --timeout-ms 200 --write-resolvers "$S/resolvers.txt" \
    >/dev/null 2>"$D/w.err"
rc=$?
is "$rc" 3 "--write-resolvers to a planted symlink: exit 3"
like "$(cat "$D/w.err")" "resolvers.txt: a symlink in a directory other users can write: not followed" \
    "  says why"
scan --no-store --timeout-ms 200 --stats "$S/stats.json" >/dev/null \
    2>"$D/s.err"
like "$(cat "$D/s.err")" "stats.json: a symlink .*not followed" \
    "--stats to a planted symlink refused"
is "$(cat "$D/victim/target")" keep "the target of both links is untouched"
scan --no-store --timeout-ms 200 --write-resolvers "$S/theirs.txt" \
    >/dev/null 2>"$D/t.err"
like "$(cat "$D/t.err")" "theirs.txt: owned by uid 65534" \
    "a file another user made first is not written into"

scan --no-store --timeout-ms 200 --write-resolvers "$D/victim/mine.txt" \
    --stats "$D/victim/mine.json" >/dev/null 2>&1
is "$(stat -c %a "$D/victim/mine.txt" "$D/victim/mine.json" | sort -u)" 600 \
    "resolver list and stats are created 0600"
scan --no-store --timeout-ms 200 --write-resolvers "$S/ours.txt" \
    >/dev/null 2>&1
is "$(stat -c '%a %U' "$S/ours.txt")" "600 root" \
    "a new file in the shared dir is ours and 0600"

# --- databases -----------------------------------------------------------
scan --db "$S/h.db" --timeout-ms 200 >/dev/null 2>"$D/db.err"
is "$?" 3 "--db in the shared dir: exit 3"
like "$(cat "$D/db.err")" "other users can write.*-wal and -shm" "  says why"
ok $([ ! -e "$S/h.db" ]; echo $?) "  and creates nothing there"
scan --db "$D/victim/h.db" --timeout-ms 200 >/dev/null 2>&1
is "$(stat -c %a "$D/victim/h.db")" 600 "a history database is created 0600"
done_testing
