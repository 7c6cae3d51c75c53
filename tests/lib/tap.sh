# SPDX-License-Identifier: MIT
# tests/lib/tap.sh — TAP helpers for shell tests. Source it, call ok/is/
# like, then done_testing at the end.
_tap_n=0
_tap_failed=0
ok() { # ok COND-EXIT-STATUS DESCRIPTION  (use: ok $? "desc" or cmd && ok 0 ..)
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}
is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"; echo "#   got '$1'"; echo "#   want '$2'"; fi
}
like() { # like GOT REGEX DESCRIPTION
	if printf '%s' "$1" | grep -qE -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"; echo "#   '$1'" | head -20; echo "#   does not match /$2/"; fi
}
diag() { echo "# $*"; }
done_testing() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }
