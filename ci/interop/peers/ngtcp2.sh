# Interop adapter for ngtcp2's example client and server with GnuTLS
# (gtlsclient, gtlsserver: Debian's ngtcp2-client and ngtcp2-server), which
# speak HTTP/3 only: every case runs over h3 (peer_alpn). See picoquic.sh for
# what an adapter defines. Single-path: the multipath cases are unsupported.
peer_name=ngtcp2
peer_alpn=h3

# GnuTLS priority string: TLS 1.3 with ChaCha20-Poly1305 alone.
ngtcp2_chacha20=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305

peer_find() {
	PEER_BIN=$(command -v gtlsclient)
	PEER_SERVER_BIN=$(command -v gtlsserver || echo /usr/sbin/gtlsserver)
	[ -n "$PEER_BIN" ] && [ -x "$PEER_SERVER_BIN" ] && return 0
	why="no gtlsclient / gtlsserver (Debian ngtcp2-client, ngtcp2-server: make deps)"
	return 1
}

peer_version() {
	v=$(dpkg-query -W -f='${Version}' ngtcp2-client 2>/dev/null)
	[ -n "$v" ] && echo "ngtcp2 $v (gtlsclient/gtlsserver)"
}

# Why ngtcp2's examples cannot do feature $1 (empty: they can).
ngtcp2_cannot() {
	case $1 in
	multipath | fmp | path-delay | path-down | abandon* | backup* | path-ids)
		echo "ngtcp2 does not speak the multipath draft"
		;;
	keyupdate-server) echo "gtlsserver has no option to start a key update" ;;
	v2) echo "ngtcp2 0.12 knows QUIC v2 only as a draft version (v2draft)" ;;
	esac
}

peer_server() {
	why=""
	cmd="$PEER_SERVER_BIN -q -d $www --qlog-dir $run/qlog"
	for f; do
		why=${why:-$(ngtcp2_cannot "$f")}
		case $f in
		retry) cmd="$cmd -V" ;;
		chacha20) cmd="$cmd --ciphers=$ngtcp2_chacha20" ;;
		esac
	done
	cmd="$cmd $server_ip $port $key $cert"
}

peer_client() {
	why=""
	cmd="$PEER_BIN -q --exit-on-all-streams-close --download=$run/out --qlog-dir=$run/qlog"
	for f; do
		why=${why:-$(ngtcp2_cannot "$f")}
		case $f in
		chacha20) cmd="$cmd --ciphers=$ngtcp2_chacha20" ;;
		keyupdate) cmd="$cmd --key-update=100ms" ;;
		# A new local port, validated by the client. Not --nat-rebinding:
		# with it gtlsclient 0.12 ignores what reaches its old socket and
		# sends nothing from the new one unless something of its own is
		# in flight, so no server learns the new port (gtlsserver stalls
		# the same way, 5 of 5); when it does send from there, mpq-server
		# validates the port and the download completes byte-exact.
		migrate) cmd="$cmd --change-local-addr=10ms" ;;
		esac
	done
	cmd="$cmd $server_ip $port"
	for p in $paths; do
		cmd="$cmd https://$server_ip:$port/$p"
	done
}

# gtlsclient -q prints nothing on success; its exit status says it.
peer_client_ok() {
	return 0
}
