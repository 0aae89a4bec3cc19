#!/bin/sh
# Runs every tests/net/test-*.sh and adds up their closing "N passed, N failed"
# lines. A script that exits 77 was skipped; its last line says why (no root, a
# missing tool) and is listed at the end. Prints
# "net: N passed, N failed, N skipped" and fails when anything failed.
set -u
passed=0
failed=0
skipped=0
skips=""
for t in tests/net/test-*.sh; do
	echo "== $t"
	out=$(sh "$t" 2>&1)
	rc=$?
	echo "$out"
	if [ "$rc" = 77 ]; then
		skipped=$((skipped + 1))
		why=$(echo "$out" | grep . | tail -n 1 | sed 's/^ *skip\(ped\)\{0,1\}: *//')
		skips="$skips
  $t: ${why:-(no reason printed)}"
		continue
	fi
	line=$(echo "$out" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "!! $t exited $rc without a summary"
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$rc" != 0 ] && [ "$f" = 0 ] && failed=$((failed + 1))
done
if [ -n "$skips" ]; then
	echo "net: skipped here:$skips"
fi
echo "net: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
