# Interop adapter for picoquic's picoquicdemo (sourced by ci/interop/lib.sh).
# An adapter defines, for one implementation:
#   peer_find                 sets PEER_BIN; fails (with $why) when absent
#   peer_server FEATURE...    sets $cmd, the server's command line (run in the
#                             server's namespace, in $run), or $why when it
#                             cannot do a feature
#   peer_client FEATURE...    the same for the client, fetching $paths (URL
#                             paths) from $server_ip:$port into $run/out
#   peer_client_ok            whether the client's log ($run/client.log) says
#                             it succeeded (its exit status is checked too)
#   peer_version              prints the version (after a client run)
# Features: multipath (a second path over the second link), fmp (a second
# path over the first link), path-delay, path-down, abandon (the client
# abandons its second path mid-transfer), abandon-server (the server does),
# backup (the client marks its second path backup, then available again),
# backup-server (the server does), path-ids (more path IDs than
# initial_max_path_id allows), retry, chacha20,
# keyupdate (the client starts one), keyupdate-server (the server does), v2,
# migrate (NAT rebinding), h3 (HTTP/3 instead of hq-interop).
# An adapter whose peer speaks only HTTP/3 sets peer_alpn=h3: our client then
# asks for h3 in every case.
# Variables the runner sets: $run (the run's directory), $www, $cert, $key,
# $port, $server_ip, $server_ip2, $client_ip2, $client_ifindex2, $paths.
peer_name=picoquic

peer_find() {
	PEER_BIN=${PICOQUICDEMO:-$root/../shared/peers/picoquicdemo}
	[ -x "$PEER_BIN" ] && return 0
	why="no picoquicdemo at ${PICOQUICDEMO:-../shared/peers/picoquicdemo} (set PICOQUICDEMO)"
	return 1
}

peer_version() {
	sed -n 's/.*Starting Picoquic (\(v[0-9.]*\)).*/picoquicdemo \1/p' "$@" 2>/dev/null | head -n 1
}

# -0: no UDP GSO, so that the capture holds one QUIC packet per frame.
peer_server() {
	why=""
	cmd="$PEER_BIN -0 -c $cert -k $key -p $port -w $www -q $run/qlog"
	for f; do
		case $f in
		multipath | fmp | path-delay | path-down | abandon | backup | path-ids) cmd="$cmd -M" ;;
		abandon-server) why="picoquicdemo has no option to abandon a path" ;;
		backup-server) why="picoquicdemo has no option to set a path's status" ;;
		retry) cmd="$cmd -r" ;;
		chacha20) cmd="$cmd -C 20" ;;
		keyupdate-server) why="picoquicdemo starts key updates only as a client (-u)" ;;
		keyupdate | v2 | migrate) ;;
		esac
	done
	cmd="env SSLKEYLOGFILE=$run/peer-keys.log $cmd -8"
}

peer_client() {
	why=""
	# Stream 0 first, then every other request at once (N:0: the GET goes
	# when stream 0 is done; by default each waits for the one before).
	scenario=""
	sid=0
	for p in $paths; do
		if [ "$sid" = 0 ]; then
			scenario="0:/$p"
		else
			scenario="$scenario;$sid:0:/$p"
		fi
		sid=$((sid + 4))
	done
	alpn=hq-interop
	case " $* " in *" h3 "*) alpn=h3 ;; esac
	cmd="$PEER_BIN -0 -a $alpn -n localhost -o $run/out -q $run/qlog"
	for f; do
		case $f in
		path-ids) why="picoquicdemo opens its -A paths once, none after a PATH_ABANDON or our MAX_PATH_ID (tried: mpq-server --max-paths 1 --abandon-path 300 against -A with two paths: path ID 1 only)" ;;
		multipath | path-down | abandon-server | backup-server)
			cmd="$cmd -M -A $client_ip2/$client_ifindex2/$server_ip2"
			;;
		fmp) cmd="$cmd -M -A 0.0.0.0/0" ;;
		path-delay) why="picoquicdemo opens its -A path once the handshake is confirmed (no delay option)" ;;
		abandon) why="picoquicdemo has no option to abandon a path" ;;
		backup) why="picoquicdemo has no option to set a path's status" ;;
		chacha20) cmd="$cmd -C 20" ;;
		keyupdate) cmd="$cmd -u 32" ;;
		v2) cmd="$cmd -v 6b3343cf" ;;
		migrate) cmd="$cmd -f 1" ;;
		retry | keyupdate-server) ;;
		esac
	done
	# A fresh directory: picoquicdemo keeps tickets and tokens in its own.
	cmd="env SSLKEYLOGFILE=$run/peer-keys.log $cmd -8 $server_ip $port '$scenario'"
}

peer_client_ok() {
	grep -q "^Client exit with code = 0" "$run/client.log"
}
