#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/layering.sh — the include-graph rule (docs/architecture.md):
#
#   cli -> {probe, engine, tui, store, reports} -> proto -> common
#
# A file may include headers of its own module and of the modules below
# it, never beside or above it: probe does not use engine (both use
# proto), tui reaches the engine only through the control-socket client
# (common/ctlc.h), common uses nothing above itself. Also refused outside
# tests/: a private header (NAME-int.h) of another module, a .c file, a
# path with "..", and a bare "name.h" that is not in the file's own
# directory (cli/ may include the generated cmd-list.h and version.h).
# tests/ may include anything.
#
# Usage: scripts/layering.sh [ROOT]   (default: the checkout this script
# is in). Prints one line per violation, FILE:LINE: ..., and exits 1 when
# there is one; 0 and a summary line otherwise.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2

# module: the modules it may include (itself first). The one place the
# rule is written down; docs/architecture.md shows the same map.
rules='common: common
proto: proto common
engine: engine proto common
probe: probe proto common
tui: tui proto common
store: store proto common
reports: reports proto common
cli: cli probe engine tui store reports proto common'
modules=$(printf '%s\n' "$rules" | cut -d: -f1)

files=$(for m in $modules; do
	[ -d "$m" ] && find "$m" -name '*.[ch]' -type f
done | sort)
[ -n "$files" ] || { echo "layering: no sources under $root" >&2; exit 2; }

# shellcheck disable=SC2086 # file names have no blanks (checked by make)
awk -v rules="$rules" '
BEGIN {
	n = split(rules, line, "\n")
	for (i = 1; i <= n; i++) {
		split(line[i], kv, ": ")
		allowed[kv[1]] = " " kv[2] " "
		is_module[kv[1]] = 1
		list[kv[1]] = kv[2]
		gsub(/ /, ", ", list[kv[1]])
	}
	generated["cmd-list.h"] = "cli"
	generated["version.h"] = "cli"
	bad = 0
	includes = 0
}
FNR == 1 {
	nfiles++
	mod = FILENAME
	sub(/\/.*/, "", mod)
	dir = FILENAME
	sub(/\/[^\/]*$/, "", dir)
}
/^[ \t]*#[ \t]*include[ \t]*["<]/ {
	s = $0
	sub(/^[ \t]*#[ \t]*include[ \t]*/, "", s)
	q = substr(s, 1, 1)
	s = substr(s, 2)
	if (q == "\"")
		sub(/".*/, "", s)
	else
		sub(/>.*/, "", s)
	top = s
	sub(/\/.*/, "", top)
	if (q == "<" && (index(s, "/") == 0 || !(top in is_module)))
		next # a system header
	includes++
	where = FILENAME ":" FNR ": includes \"" s "\""
	if (s ~ /(^|\/)\.\.(\/|$)/) {
		print where ": a path with .. (name the module: \"dir/file.h\")"
		bad++
		next
	}
	if (s ~ /\.c$/) {
		print where ": a .c file (link it; give it a header)"
		bad++
		next
	}
	if (index(s, "/") == 0) {
		if (generated[s] == mod)
			next
		if ((getline junk < (dir "/" s)) >= 0) {
			close(dir "/" s)
			next
		}
		print where ": not in " dir "/ (name the module: \"dir/" s "\")"
		bad++
		next
	}
	if (!(top in is_module)) {
		print where ": " top "/ is not a module of the library"
		bad++
		next
	}
	if (index(allowed[mod], " " top " ") == 0) {
		hint = ""
		if (mod == "tui" && top == "engine")
			hint = "; the engine only through common/ctlc.h"
		print where ": " mod "/ may include only " list[mod] hint
		bad++
		next
	}
	if (top != mod && s ~ /-int\.h$/) {
		print where ": private to " top "/ (use its public header)"
		bad++
	}
}
END {
	if (bad > 0) {
		printf "layering: %d violation%s of cli -> {probe, engine, tui, store, reports} -> proto -> common\n", bad, bad == 1 ? "" : "s"
		exit 1
	}
	printf "layering: clean (%d includes in %d files)\n", includes, nfiles
}
' $files
