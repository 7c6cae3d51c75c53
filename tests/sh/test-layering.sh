#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-layering.sh — the include-graph rule (scripts/layering.sh, also run
# by make lint): the tree obeys cli -> {probe, engine, tui, store, reports}
# -> proto -> common; in a copy of the tree, planted violations of each
# kind are caught, one line each naming file and line, while allowed
# includes (own module, lower modules, system headers, a header next to
# the file, cli's generated headers) pass.
. "$(dirname "$0")/../lib/tap.sh"
top=${MDNS_TOP:?}
check=$top/scripts/layering.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-layering.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

out=$("$check" "$top" 2>&1); rc=$?
is "$rc" 0 "the tree obeys the layering rule"
like "$out" "^layering: clean \([0-9]+ includes in [0-9]+ files\)$" \
    "one summary line: $out"
grep -q 'layering.sh' "$top/scripts/lint.sh"
ok $? "make lint runs the check"

# A copy of the modules to plant violations in.
for m in common proto engine probe tui store reports cli; do
	cp -r "$top/$m" "$tmp/"
done
out=$("$check" "$tmp" 2>&1); rc=$?
is "$rc" 0 "the copy is clean before planting"

# plant FILE LINE...: append include lines to FILE (a new file if absent).
plant() { f=$1; shift; printf '%s\n' "$@" >>"$tmp/$f"; }
n_tui=$(($(wc -l <"$tmp/tui/tui.c") + 1))
plant tui/tui.c '#include "engine/pool.h"'
out=$("$check" "$tmp" 2>&1); rc=$?
is "$rc" 1 "tui including an engine header: the check fails"
is "$out" "tui/tui.c:$n_tui: includes \"engine/pool.h\": tui/ may include only tui, proto, common; the engine only through common/ctlc.h
layering: 1 violation of cli -> {probe, engine, tui, store, reports} -> proto -> common" \
    "names file, line, header and the rule"

# Every kind at once; allowed includes planted next to them stay silent.
plant common/planted.c '#include "common/util.h"' '#include "proto/dns.h"' \
    '#include <stdio.h>' '#include "engine/ctl.h"'
plant proto/planted.c '#include "probe/scan.h"' '#include "common/net.h"'
plant probe/planted.c '#include "engine/client.h"' '#include "proto/wire.h"'
plant store/planted.c '#include "reports/sink.h"'
plant cli/planted.c '#include "engine/client-int.h"' \
    '#include "engine/client.h"' '#include "cmd-list.h"' \
    '#include "tests/tap.h"'
plant engine/local.h '/* a header next to its file */'
plant engine/planted.c '#include "local.h"' '#include "util.h"' \
    '#include "../common/util.h"' '#include "engine/arq.c"' \
    '#include <common/log.h>' '# include "tui/tui.h"'
plant tui/planted.c '#include "version.h"' '#include "common/ctlc.h"'
mkdir -p "$tmp/tests/unit"
plant tests/unit/planted.c '#include "engine/client-int.h"' \
    '#include "probe/scan.c"'
out=$("$check" "$tmp" 2>&1); rc=$?
is "$rc" 1 "planted violations: the check fails"
want='common/planted.c:2: includes "proto/dns.h": common/ may include only common
common/planted.c:4: includes "engine/ctl.h": common/ may include only common
proto/planted.c:1: includes "probe/scan.h": proto/ may include only proto, common
probe/planted.c:1: includes "engine/client.h": probe/ may include only probe, proto, common
store/planted.c:1: includes "reports/sink.h": store/ may include only store, proto, common
cli/planted.c:1: includes "engine/client-int.h": private to engine/ (use its public header)
cli/planted.c:4: includes "tests/tap.h": tests/ is not a module of the library
engine/planted.c:2: includes "util.h": not in engine/ (name the module: "dir/util.h")
engine/planted.c:3: includes "../common/util.h": a path with .. (name the module: "dir/file.h")
engine/planted.c:4: includes "engine/arq.c": a .c file (link it; give it a header)
engine/planted.c:6: includes "tui/tui.h": engine/ may include only engine, proto, common
tui/planted.c:1: includes "version.h": not in tui/ (name the module: "dir/version.h")'
got=$(printf '%s\n' "$out" | grep planted | sort)
is "$got" "$(printf '%s\n' "$want" | sort)" \
    "each planted violation is named, no allowed include is"
like "$out" "layering: 13 violations" "the count includes the tui one"
done_testing
