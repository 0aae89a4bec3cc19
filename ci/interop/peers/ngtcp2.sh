# Interop adapter for ngtcp2's example client and server with GnuTLS
# (gtlsclient, gtlsserver: Debian's ngtcp2-client and ngtcp2-server), which
# speak HTTP/3 only: every case runs over h3 (peer_alpn). See picoquic.sh for
# what an adapter defines. Single-path: the multipath cases are unsupported.
peer_name=ngtcp2
peer_alpn=h3

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
	esac
}

peer_server() {
	why=""
	cmd="$PEER_SERVER_BIN -q -d $www --qlog-dir $run/qlog"
	for f; do
		why=${why:-$(ngtcp2_cannot "$f")}
		case $f in
		retry) cmd="$cmd -V" ;;
		chacha20) cmd="$cmd --ciphers=TLS_CHACHA20_POLY1305_SHA256" ;;
		v2) cmd="$cmd --preferred-versions=6b3343cf" ;;
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
		chacha20) cmd="$cmd --ciphers=TLS_CHACHA20_POLY1305_SHA256" ;;
		keyupdate) cmd="$cmd --key-update=100ms" ;;
		v2) cmd="$cmd --other-versions=6b3343cf,00000001 --preferred-versions=6b3343cf" ;;
		migrate) cmd="$cmd --change-local-addr=500ms --nat-rebinding" ;;
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
