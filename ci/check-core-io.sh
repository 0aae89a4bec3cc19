#!/bin/sh
# The core (lib/quic, lib/app) is sans-I/O (DESIGN.md "Two layers"): its
# objects may not call the system for files, sockets, the clock or randomness.
# That is left to lib/io, tools/common and the caller's callbacks.
#   check-core-io.sh OBJ...
# Each object counts as one test: failed when `nm -u` shows it references one
# of the symbols below, or when the header list the compiler wrote beside it
# (OBJ.d) names a header of the I/O layer (lib/io/, mpq/io/); the line says
# which. Closing line
# "core-io: N passed, N failed, 0 skipped"; exit status non-zero on a failure.
set -u
# Plain names and the fortified or 64-bit forms glibc may bind them to:
# sockets, the clock, randomness, opening and using files, printing (lib never
# prints), the environment and raw system calls.
forbidden="socket socketpair bind connect accept accept4 listen
sendmsg sendmmsg sendto send recvmsg recvmmsg recvfrom recv
clock_gettime __clock_gettime gettimeofday time clock nanosleep usleep sleep
getrandom getentropy rand random srand srandom
fopen fopen64 freopen fdopen open open64 openat openat64 openat2
__open_2 __open64_2 __openat_2 __openat64_2 creat creat64
read pread pread64 __read_chk __pread_chk __pread64_chk readv
write pwrite pwrite64 writev close fstat fstat64 stat stat64 lstat fcntl ioctl
realpath __realpath_chk mkdir unlink rename access
fread fwrite fclose fflush fputs fputc puts putchar perror
printf fprintf vprintf vfprintf dprintf
__printf_chk __fprintf_chk __vprintf_chk __vfprintf_chk __dprintf_chk
getenv secure_getenv
syscall"
passed=0
failed=0

if [ $# = 0 ]; then
	echo "core-io: no objects given"
	echo "core-io: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
for obj in "$@"; do
	if ! undef=$(nm -u "$obj" 2>&1); then
		echo "core-io: $obj: nm failed: $undef"
		failed=$((failed + 1))
		continue
	fi
	# nm -u prints "U name" (or "U name@VERSION" in shared objects).
	hits=$(echo "$undef" | awk -v list="$forbidden" '
		BEGIN { n = split(list, w); for (i = 1; i <= n; i++) bad[w[i]] = 1 }
		{ s = $NF; sub(/@.*/, "", s); if (s in bad) printf "%s ", s }')
	# Dependencies point down: the compiler's list of headers (OBJ.d, from
	# -MMD) names none of the I/O layer's.
	io_hdrs=""
	if [ -f "${obj%.o}.d" ]; then
		io_hdrs=$(tr ' \\' '\n\n' <"${obj%.o}.d" | grep -E '(^|/)(lib/io/|mpq/io/)[^/]*\.h$' |
			sort -u | tr '\n' ' ')
	fi
	if [ -n "$hits" ] || [ -n "$io_hdrs" ]; then
		[ -n "$hits" ] && echo "core-io: $obj calls ${hits% }"
		[ -n "$io_hdrs" ] && echo "core-io: $obj includes ${io_hdrs% }"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
echo "core-io: $passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ]
