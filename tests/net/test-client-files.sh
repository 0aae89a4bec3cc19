#!/bin/sh
# mpq-client never loses a file (issue 10): a URL that fails, a connection
# that is interrupted, or a refused -o leaves every existing file, symbolic
# link, FIFO and device node as it was and no temporary behind; a body that
# arrives whole replaces the file (through a symbolic link: its target); each
# failure says on stderr what became of the file. Loopback, no privileges
# (the device node only as root). Prints "N passed, N failed" last.
#   tests/net/test-client-files.sh [BINDIR]      (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
CLIENT=$BIN/mpq-client
loopback_scratch

mkdir "$tmp/www" "$tmp/out"
echo hello >"$tmp/www/small.txt"
loopback_server "$tmp" -www "$tmp/www"
if [ -z "$port" ]; then
	not_ok "server starts" "$(cat "$tmp/server.out" "$tmp/server.err")"
	finish
fi
url=https://127.0.0.1:$port
cd "$tmp/out" || exit 1

# fetch NAME WANT_STATUS PATTERN ARG...: runs the client with ARG..., wants
# WANT_STATUS and a line on stderr matching PATTERN (besides the -k warning);
# stderr is left in $tmp/err.
fetch() {
	name=$1 want=$2 pattern=$3
	shift 3
	timeout 20 "$CLIENT" -k --no-progress "$@" 2>"$tmp/all" >"$tmp/stdout"
	rc=$?
	grep -v "WARNING: --insecure" "$tmp/all" >"$tmp/err"
	if [ "$rc" = "$want" ] && { [ -z "$pattern" ] || grep -q -- "$pattern" "$tmp/err"; }; then
		return 0
	fi
	not_ok "$name" "exit $rc (want $want), stderr (want a line matching '$pattern'):" \
		"$(head -c 600 "$tmp/err")"
	return 1
}

# no_temporaries NAME: nothing but the listed files in $tmp/out.
no_temporaries() {
	left=$(ls -A "$tmp/out" | grep '\.mpq-')
	[ -z "$left" ] || { not_ok "$1: no temporary left" "$left"; return 1; }
}

# ---- a refused URL leaves the file of its name as it was ----
echo DATA >no-such
if fetch "404 keeps ./no-such" 1 "not found.*no-such left as it was" "$url/no-such" &&
	[ "$(cat no-such)" = DATA ] && no_temporaries "404"; then
	ok "404: an existing file of the URL's name is left as it was, and said so"
elif [ "$(cat no-such 2>/dev/null)" != DATA ]; then
	not_ok "404: ./no-such kept" "it is now: '$(cat no-such 2>&1)'"
fi
rm -f no-such
if fetch "404 without a file" 1 "not found.*nothing saved as no-such" "$url/no-such" &&
	[ ! -e no-such ]; then
	ok "404 with no file there: none created, and said so"
fi

# ---- -o through a symbolic link ----
echo DATA >target
ln -s target link
if fetch "-o link, 404" 1 "left as it was" -o link "$url/no-such" &&
	[ -L link ] && [ "$(cat target)" = DATA ]; then
	ok "-o LINK with a 404: the link and its target are left as they were"
else
	not_ok "-o LINK with a 404" "target: '$(cat target 2>&1)'" "$(ls -l link 2>&1)"
fi
if fetch "-o link, 200" 0 "" -o link "$url/small.txt" && [ -L link ] &&
	[ "$(cat target)" = hello ] && no_temporaries "-o link"; then
	ok "-o LINK with a body: the target is replaced, the link stays"
else
	not_ok "-o LINK with a body" "target: '$(cat target 2>&1)'" "$(ls -l link 2>&1)"
fi

# ---- a whole body replaces an existing file, keeping its permissions ----
echo OLD >small.txt
chmod 600 small.txt
if fetch "replace" 0 "" "$url/small.txt" && [ "$(cat small.txt)" = hello ] &&
	[ "$(stat -c %a small.txt)" = 600 ] && no_temporaries "replace"; then
	ok "a whole body replaces the file of its name (mode 600 kept)"
else
	not_ok "a whole body replaces the file" "'$(cat small.txt)' mode $(stat -c %a small.txt)"
fi

# ---- non-regular outputs are written straight and never removed ----
mkfifo fifo
cat fifo >"$tmp/fifo.got" &
reader=$!
if fetch "-o FIFO" 0 "" -o fifo "$url/small.txt" && wait "$reader" && [ -p fifo ] &&
	[ "$(cat "$tmp/fifo.got")" = hello ]; then
	ok "-o FIFO: the body goes through the FIFO, which stays"
else
	not_ok "-o FIFO" "got '$(cat "$tmp/fifo.got")'" "$(ls -l fifo 2>&1)"
fi
cat fifo >/dev/null &
reader=$!
if fetch "-o FIFO, 404" 1 "not found.*nothing written to fifo" -o fifo "$url/no-such" &&
	[ -p fifo ]; then
	ok "-o FIFO with a 404: the FIFO stays"
else
	not_ok "-o FIFO with a 404" "$(ls -l fifo 2>&1)"
fi
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
if [ "$(id -u)" = 0 ] && mknod null c 1 3; then
	if fetch "-o device, 404" 1 "not found" -o null "$url/no-such" && [ -c null ]; then
		ok "-o DEVICE (a copy of /dev/null) with a 404: the node stays"
	else
		not_ok "-o DEVICE with a 404" "$(ls -l null 2>&1)"
	fi
	rm -f null
fi
if fetch "-o /dev/full" 1 "cannot write it: No space left on device" -o /dev/full \
	"$url/small.txt" && [ -c /dev/full ]; then
	ok "-o /dev/full: the write error is reported, the device stays"
fi
rm -f fifo

# ---- -o NAME with several URLs: refused, nothing made ----
if fetch "-o NAME, two URLs" 2 "names an existing directory" -o newdir "$url/small.txt" \
	"$url/5" && [ ! -e newdir ]; then
	ok "-o NAME with several URLs and no such directory: refused, nothing created"
fi
if fetch "-o DIR/, two URLs" 0 "" -o newdir/ "$url/small.txt" "$url/5" &&
	[ "$(cat newdir/small.txt)" = hello ] && [ "$(stat -c %s newdir/5)" = 5 ]; then
	ok "-o DIR/ with several URLs: the directory is made"
fi

# ---- Ctrl-C in the middle of a body: the old file stays, no temporary ----
echo DATA >big
timeout 60 "$CLIENT" -k --no-progress -o big "$url/4000000000" 2>"$tmp/err" &
client=$!
for _ in $(seq 100); do
	[ -n "$(ls -A "$tmp/out" | grep '^\.big\.mpq-')" ] && break
	sleep 0.05
done
sleep 0.3
kill -INT "$client"
wait "$client"
rc=$?
if [ "$rc" = 1 ] && [ "$(cat big)" = DATA ] && no_temporaries "Ctrl-C" &&
	grep -q "interrupted" "$tmp/err" && grep -q "partial body removed, big left as it was" \
	"$tmp/err"; then
	ok "SIGINT mid-body: the old file is left as it was, the temporary removed, both said"
else
	not_ok "SIGINT mid-body" "exit $rc, big: '$(head -c 20 big)'" "$(cat "$tmp/err")"
fi

finish
