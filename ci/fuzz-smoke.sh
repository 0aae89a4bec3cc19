#!/bin/sh
# Short libFuzzer run of each harness, starting from its seed corpus in
# fuzz/corpus/NAME (copied, so the run never writes into the tree): every
# seed runs first, then new inputs until the time is up.
#   FUZZ_SECONDS  seconds per harness (default 12: 22 harnesses in about 4.5
#                 minutes, docs/fuzzing.md)
set -u
secs=${FUZZ_SECONDS:-12}
passed=0
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	work=$(mktemp -d)
	[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
	if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 \
		-artifact_prefix="$work/" "$work" >"$work.log" 2>&1; then
		echo "fuzz $name: ok ($(grep -c . "$work.log") log lines)"
		passed=$((passed + 1))
	else
		echo "fuzz $name: FAILED"
		tail -n 40 "$work.log"
		failed=$((failed + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo "fuzz: $passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ]
