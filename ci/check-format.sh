#!/bin/sh
# Our C sources are as clang-format (.clang-format, clang-format 14) writes
# them: `make format` fixes what this reports.
#   check-format.sh FILE...
# Each file counts as one test, failed when clang-format would change a line
# of it (the first few places are shown). Closing line
# "format: N passed, N failed, 0 skipped"; exit status non-zero on a failure.
set -u
passed=0
failed=0
if ! command -v clang-format >/dev/null; then
	echo "format: clang-format is missing (make deps installs it)"
	echo "format: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for f in "$@"; do
	if clang-format --dry-run -Werror "$f" >"$out" 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL $f: not as clang-format writes it (make format)"
		grep -m 3 "error:" "$out" | sed 's/^/     /'
	fi
done
echo "format: $passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ]
