#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/lint.sh — format check (clang-format, KNF per .clang-format),
# banned-function grep, the include-graph rule (scripts/layering.sh),
# cppcheck. Exit non-zero on any finding.
set -u
cd "$(dirname "$0")/.."
rc=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find common engine probe tui store reports cli tests -name '*.[ch]')
echo "lint: clang-format"
# One clang-format for every file (a process per file took half of lint).
if ! clang-format --dry-run -Werror $files >/dev/null 2>&1; then
	clang-format --dry-run $files 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: .*/\1/p' |
	    sort -u | sed 's/.*/  not formatted: & (clang-format -i &)/'
	rc=1
fi
echo "lint: banned functions"
# Comment lines are skipped ("... session gets (0..255)" is prose).
if grep -nE '\<(gets|sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|system|tmpnam)[[:space:]]*\(' $files |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)'; then
	rc=1
fi
echo "lint: SPDX lines"
# Every source carries its licence (LICENSE, MIT) in its first lines.
for f in $(git ls-files '*.c' '*.h' '*.sh' '*.py' Makefile 2>/dev/null); do
	if ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
		echo "  no SPDX-License-Identifier line: $f"
		rc=1
	fi
done
echo "lint: layering"
if ! ./scripts/layering.sh .; then
	rc=1
fi
echo "lint: cppcheck"
if ! cppcheck --quiet -j "$(nproc)" --error-exitcode=1 --std=c11 --inline-suppr \
    --enable=warning,portability --suppress=missingIncludeSystem \
    -I . $files; then
	rc=1
fi
[ $rc -eq 0 ] && echo "lint: clean"
exit $rc
