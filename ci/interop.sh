#!/bin/sh
# Interop matrix: each case in both directions (mpq-client against the
# peer's server, the peer's client against mpq-server) over two veth links
# between two network namespaces, as root. Bodies are checked byte for byte
# (sha256); multipath cases check that both links carried data (the server's
# interface counters), Retry / v2 / ChaCha20 / key update cases that the
# capture shows them (tshark with the run's key log), and single-path cases
# that tshark decrypts every packet. A case one side cannot do is
# "unsupported", with the reason. Everything of each run (logs, qlogs, key
# logs, the capture of a failed run) is kept in build/interop/CASE/DIRECTION;
# a run whose capture dropped packets and did not decrypt runs once more (the
# first kept in DIRECTION-dropped);
# the matrix is printed and written to build/interop/matrix.md.
#   ci/interop.sh [BINDIR]     (default build/bin)
#   PEER=NAME          the adapter ci/interop/peers/NAME.sh (default picoquic;
#                      another's runs and matrix go to build/interop-NAME)
#   INTEROP_CASES=...  only these cases (names as in the matrix)
#   KEEP_CAPTURES=1    keep the captures of passed runs too
#   INTEROP_DOC=FILE   also put the matrix into FILE, between its lines
#                      "<!-- matrix: ... -->" and "<!-- end of matrix -->"
#                      (make interop-doc: docs/interop.md); every case must run
# Closes with "interop: N passed, N failed, N skipped" (unsupported and
# skipped runs count as skipped); skips (one line) without the peer or root.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
. tests/net/lib.sh
PEER=${PEER:-picoquic}
out=$root/build/interop
[ "$PEER" = picoquic ] || out=$out-$PEER
www=$out/www
. ci/interop/lib.sh
if [ ! -f "ci/interop/peers/$PEER.sh" ]; then
	echo "interop: no adapter ci/interop/peers/$PEER.sh"
	echo "interop: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
. "ci/interop/peers/$PEER.sh"

if [ -n "${INTEROP_DOC:-}" ]; then
	if [ -n "${INTEROP_CASES:-}" ]; then
		echo "interop: INTEROP_DOC wants the whole matrix: unset INTEROP_CASES"
		echo "interop: 0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	if ! grep -q '^<!-- matrix: ' "$INTEROP_DOC" || ! grep -q '^<!-- end of matrix -->' "$INTEROP_DOC"; then
		echo "interop: $INTEROP_DOC has no <!-- matrix: ... --> and <!-- end of matrix --> lines"
		echo "interop: 0 passed, 1 failed, 0 skipped"
		exit 1
	fi
fi

skip() {
	echo "interop: skipped: $1"
	echo "interop: 0 passed, 0 failed, 1 skipped"
	exit 0
}
peer_find || skip "$why"
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
for tool in ip openssl tshark dumpcap; do
	command -v "$tool" >/dev/null || skip "needs $tool (make deps)"
done
[ -x "$BIN/mpq-server" ] && [ -x "$BIN/mpq-client" ] || skip "no mpq tools in $BIN (make tools)"

# name|features|paths|decrypt: the case list (paths: files of www).
cases='handshake||1k|decrypt
transfer||f1 f2 f3|decrypt
multiplexing||'"$(seq -s' ' -f 's%g' 1 40)"'|decrypt
retry|retry|1k|
chacha20|chacha20|1m|decrypt
keyupdate|keyupdate|5m|decrypt
keyupdate-server|keyupdate-server|5m|decrypt
v2|v2|1m|decrypt
migration|migrate|5m|decrypt
multipath|multipath|20m|
path-delay|path-delay|60m|
fmp|fmp|20m|
path-down|path-down|60m|
abandon|abandon|60m|
abandon-server|abandon-server|60m|
backup|backup|60m|
backup-server|backup-server|60m|
path-ids|path-ids|60m|
h3|h3|1m 5m s1 s2|decrypt'

two_namespaces i
mkdir -p "$out"
rm -f "$out/results"
topology >"$out/setup.log" 2>&1 || {
	echo "FAIL two namespaces with two veth pairs: $(cat "$out/setup.log")"
	echo "interop: 0 passed, 1 failed, 0 skipped"
	exit 1
}
make_www
cert=$out/cert.pem
key=$out/key.pem
[ -s "$cert" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$key" -out "$cert" -days 30 -subj /CN=localhost >/dev/null 2>&1

case_names=""
echo "$cases" | while IFS='|' read -r name feats paths decrypt; do
	[ -z "${INTEROP_CASES:-}" ] || case " $INTEROP_CASES " in *" $name "*) ;; *) continue ;; esac
	for dir in mpq-client peer-client; do
		run_case "$name" "$dir" "$feats" "$paths" "$decrypt"
	done
done
case_names=$(cut -f1 "$out/results" | uniq | tr '\n' ' ')
passed=$(awk -F'\t' '$3 == "ok"' "$out/results" | wc -l)
failed=$(awk -F'\t' '$3 == "failed"' "$out/results" | wc -l)
skipped=$(awk -F'\t' '$3 != "ok" && $3 != "failed"' "$out/results" | wc -l)
version=$(peer_version "$out"/*/peer-client/client.log)
{
	echo "Interop matrix, $(date -u '+%Y-%m-%d %H:%M UTC'): mpq $("$BIN/mpq-client" --version |
		head -n 1) against ${version:-$peer_name} (ci/interop.sh, PEER=$PEER)."
	echo
	matrix
} >"$out/matrix.md"
echo
cat "$out/matrix.md"
echo
if [ -n "${INTEROP_DOC:-}" ]; then
	# The lines between the markers become the matrix; the rest stays.
	awk -v m="$out/matrix.md" '
		/^<!-- end of matrix -->/ { skip = 0 }
		!skip { print }
		/^<!-- matrix: / { print ""; while ((getline l < m) > 0) print l; print ""; skip = 1 }
	' "$INTEROP_DOC" >"$out/doc.tmp" && cat "$out/doc.tmp" >"$INTEROP_DOC" && rm -f "$out/doc.tmp"
	echo "interop: matrix written into $INTEROP_DOC"
fi
echo "interop: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
