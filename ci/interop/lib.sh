# The interop runner's machinery (sourced by ci/interop.sh, after
# tests/net/lib.sh): two namespaces joined by two veth pairs, one run per case and direction with captures,
# key logs, qlogs and logs under $out/CASE/DIRECTION, the checks, and the
# matrix. Our side is mpq-client / mpq-server; the peer's is an adapter
# (ci/interop/peers/NAME.sh).

port=4433
net=93
backup_span=300:1300 # --backup-path: backup from 300 ms to 1300 ms after the handshake
client_ip2=10.$net.2.1
server_ip=10.$net.1.2
server_ip2=10.$net.2.2

# Two links, c1-s1 (10.93.1.0/24) and c2-s2 (10.93.2.0/24), between the
# namespaces of tests/net/lib.sh (two_namespaces), without UDP segmentation
# offload so that captures hold one QUIC packet per frame.
topology() {
	make_veth_pairs c s "$net" 2 || return 1
	for i in 1 2; do
		in_c ethtool -K "c$i" tx-udp-segmentation off >/dev/null 2>&1
		in_s ethtool -K "s$i" tx-udp-segmentation off >/dev/null 2>&1
	done
	client_ifindex2=$(in_c cat /sys/class/net/c2/ifindex)
}

# www: the files every case fetches (random bytes), with their sha256.
make_www() {
	mkdir -p "$www"
	make_file 1k 1000
	make_file 1m 1000000
	make_file 5m 5000000
	make_file 20m 20000000
	make_file 60m 60000000
	for i in $(seq 1 3); do
		make_file "f$i" 10000000
	done
	for i in $(seq 1 40); do
		make_file "s$i" $((1000 + i * 97))
	done
}

# shape_links CASE: cases that act on a path at a time (taken down after
# 5 MB, backup from 300 to 1300 ms, abandoned) get the server's two links at
# 100 Mbit/s each, so the 60 MB transfer lasts over 2 s on any machine; an idle
# one moved it in under 0.5 s, before the action. Other cases run unshaped.
shape_links() {
	for i in 1 2; do
		case $1 in
		path-down | abandon* | backup*)
			in_s tc qdisc replace dev "s$i" root tbf rate 100mbit burst 256k latency 100ms
			;;
		*) in_s tc qdisc del dev "s$i" root 2>/dev/null ;;
		esac
	done
}

make_file() {
	[ -f "$www/$1" ] && [ "$(stat -c %s "$www/$1")" = "$2" ] ||
		head -c "$2" /dev/urandom >"$www/$1"
}

sha_of() { sha256sum <"$1" | cut -d' ' -f1; }

tx_bytes() { in_s cat "/sys/class/net/$1/statistics/tx_bytes"; }

# start_server CMD: in the server's namespace, in $run; $server_pid.
start_server() {
	ip netns exec "$sns" sh -c "cd '$run' && exec $1" >"$run/server.log" 2>&1 &
	server_pid=$!
	pids="$pids $server_pid"
}

stop_pid() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	pids=$(echo "$pids" | sed "s/ $1\b//")
}

# Both links, seen from the server's namespace. A 64 MiB buffer: with the
# default 2 MiB, dumpcap dropped packets in bursts at these rates, and after a
# gap of over 128 packets tshark cannot expand 1-byte packet numbers, so it
# failed to decrypt until the sender used longer ones (seen on 30 MB over
# loopback: 6 runs of 8 with 47 to 5551 packets undecrypted; none with -B 64).
start_capture() {
	capture_pid=""
	command -v dumpcap >/dev/null || return 0
	ip netns exec "$sns" dumpcap -B 64 -i s1 -i s2 -w "$run/capture.pcapng" \
		>"$run/dumpcap.log" 2>&1 &
	capture_pid=$!
	pids="$pids $capture_pid"
	for _ in $(seq 50); do
		[ -s "$run/capture.pcapng" ] && return 0
		sleep 0.1
	done
}

wait_udp_port() {
	for _ in $(seq 50); do
		in_s ss -uln 2>/dev/null | grep -q ":$port " && return 0
		sleep 0.1
	done
	return 1
}

# The commands of our side.
mpq_server_cmd() {
	why=""
	cmd="$BIN/mpq-server --io udp --addr $server_ip,$server_ip2 --port $port --www $www"
	cmd="$cmd --qlog-dir $run/qlog --keylog $run/keys.log -v"
	for f; do
		case $f in
		retry) cmd="$cmd --retry" ;;
		keyupdate-server) cmd="$cmd --key-update 16" ;;
		abandon-server) cmd="$cmd --abandon-path 300" ;;
		backup-server) cmd="$cmd --backup-path $backup_span" ;;
		path-ids) cmd="$cmd --max-paths 1 --abandon-path 300" ;;
		esac
	done
}

mpq_client_cmd() {
	why=""
	cmd="$BIN/mpq-client --io udp -k --no-progress --json -o $run/out/"
	cmd="$cmd --qlog-dir $run/qlog --keylog $run/keys.log"
	for f; do
		case $f in
		multipath | path-down | abandon-server | backup-server)
			cmd="$cmd -n c1,c2 -mip $server_ip2:$port"
			;;
		backup) cmd="$cmd -n c1,c2 -mip $server_ip2:$port --backup-path $backup_span" ;;
		path-ids) cmd="$cmd -n c1,c2 -mip $server_ip2:$port --replace-path 150" ;;
		path-delay) cmd="$cmd -n c1,c2 -mip $server_ip2:$port --path-delay 300" ;;
		abandon) cmd="$cmd -n c1,c2 -mip $server_ip2:$port --abandon-path 300" ;;
		fmp) cmd="$cmd -n c1 -fmp" ;;
		keyupdate) cmd="$cmd --key-update 16" ;;
		v2) cmd="$cmd --quic-version 2" ;;
		migrate) why="mpq-client has no option to migrate" ;;
		h3) cmd="$cmd --alpn h3" ;;
		esac
	done
	# A peer that speaks only HTTP/3 (the adapter's peer_alpn) gets it always.
	[ "${peer_alpn:-}" = h3 ] && case " $* " in *" h3 "*) ;; *) cmd="$cmd --alpn h3" ;; esac
	for p in $paths; do
		cmd="$cmd https://$server_ip:$port/$p"
	done
}

# run_client CMD: in the client's namespace, in $run, within 60 s; with the
# path-down feature, c2 goes down once 5 MB went out over s2.
run_client() {
	ip netns exec "$cns" sh -c "cd '$run' && exec timeout 60 $1" >"$run/client.log" \
		2>"$run/client.err" &
	client_pid=$!
	pids="$pids $client_pid"
	if [ -n "$down_at" ]; then
		down_note="not taken down: the transfer ended first"
		while kill -0 "$client_pid" 2>/dev/null; do
			if [ $(($(tx_bytes s2) - tx2)) -ge "$down_at" ]; then
				in_c ip link set c2 down
				down_note="c2 down after $(($(tx_bytes s2) - tx2)) bytes on s2"
				break
			fi
			sleep 0.02
		done
	fi
	wait "$client_pid"
	client_rc=$?
	pids=$(echo "$pids" | sed "s/ $client_pid\b//")
}

# check_run FEATURES...: what the run must show, besides each body
# byte-exact; sets $why to what is wrong.
check_run() {
	why=""
	total=0
	for p in $paths; do
		got="$run/out/$p"
		if [ ! -f "$got" ]; then
			why="${why}no /$p; "
		elif [ "$(sha_of "$got")" != "$(sha_of "$www/$p")" ]; then
			why="${why}/$p: sha256 differs ($(stat -c %s "$got") bytes); "
		fi
		total=$((total + $(stat -c %s "$www/$p")))
	done
	d1=$(($(tx_bytes s1) - tx1))
	d2=$(($(tx_bytes s2) - tx2))
	links="s1 $d1 B, s2 $d2 B out of the server"
	for f; do
		case $f in
		multipath | path-delay)
			# Both carry data (how much is the peer's scheduler's choice:
			# picoquic's gave the second link 5 % under heavy CPU load).
			[ "$d1" -ge $((total / 50)) ] && [ "$d2" -ge $((total / 50)) ] ||
				why="${why}a link carried under 2% of $total bytes ($links); "
			# mpq-client's own count: two paths, each received data.
			if [ "$dir" = mpq-client ]; then
				per_path=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(" ".join("%s:%d" % (p["iface"], p["bytes_received"]) for p in j["paths"]))' \
					"$run/client.log" 2>/dev/null)
				links="$links; mpq-client paths $per_path"
				[ "$(echo "$per_path" | tr ' ' '\n' | grep -c ':[1-9]')" -ge 2 ] ||
					why="${why}mpq-client's --json: not two paths with data ($per_path); "
			fi
			;;
		fmp)
			# Two client ports on link 1, each receiving 2 % or more.
			shares=$(port_shares)
			[ "$(echo "$shares" | awk -v t=$((total / 50)) '$2 >= t' | wc -l)" -ge 2 ] ||
				why="${why}not two paths on c1 with 2 % each (port bytes: $(echo $shares)); "
			links="$links; c1 ports: $(echo $shares)"
			;;
		abandon)
			# Our client abandoned path 1; the peer carried on without it.
			grep -q '"path_abandon"' "$run"/qlog/* 2>/dev/null ||
				why="${why}no PATH_ABANDON in the qlogs; "
			python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
assert [p["state"] for p in j["paths"]] == ["active", "abandoned"]' "$run/client.log" \
				2>/dev/null || why="${why}mpq-client's --json: path 1 not abandoned; "
			;;
		abandon-server)
			# Our server sent the first PATH_ABANDON (the peer answered).
			qlog_says first-abandon "$run"/qlog/*_server.sqlog
			;;
		backup | backup-server)
			# Our side marked path 1 backup, then available: no STREAM
			# frame on it in between (ours sent, or the peer's received
			# from 100 ms after), some before and after (our qlog).
			side=client way=received
			[ "$f" = backup ] || side=server way=sent
			qlog_says backup "$run"/qlog/*_$side.sqlog $way
			;;
		path-ids)
			# A path ID past the server's initial_max_path_id carried
			# packets, after the server's MAX_PATH_ID (our qlog).
			side=client
			[ "$dir" = mpq-client ] || side=server
			qlog_says path-ids "$run"/qlog/*_$side.sqlog
			;;
		path-down)
			case $down_note in
			c2*) ;;
			*) why="$why$down_note; " ;;
			esac
			# The dead path is abandoned before the end: PATH_ABANDON in
			# either side's qlog.
			if grep -q '"path_abandon"' "$run"/qlog/* 2>/dev/null; then
				down_note="$down_note, PATH_ABANDON sent"
			else
				why="${why}c2 not abandoned before the end (no PATH_ABANDON in the qlogs); "
			fi
			;;
		retry) has_packets "quic.long.packet_type == 3" || why="${why}no Retry in the capture; " ;;
		v2) has_packets "quic.version == 0x6b3343cf" || why="${why}no QUIC v2 packet; " ;;
		chacha20)
			has_packets "tls.handshake.ciphersuite == 0x1303" ||
				why="${why}TLS_CHACHA20_POLY1305_SHA256 not negotiated (capture); "
			;;
		keyupdate | keyupdate-server)
			# The first packet in key phase 1 comes from the side that starts.
			first=$(tshark_run -Y "quic.key_phase == 1" -T fields -e ip.src | head -n 1)
			want=10.$net.1.1
			[ "$f" = keyupdate ] || want=$server_ip
			[ "$first" = "$want" ] ||
				why="${why}first packet in key phase 1 from '${first:-none}', want $want; "
			;;
		migrate) [ "$(client_ports 1)" -ge 2 ] || why="${why}the client's port never changed; " ;;
		esac
	done
	[ -z "$why" ]
}

# qlog_says ARGS...: ci/interop/qlog_check.py ARGS; its line goes into the
# note, or into $why when the qlog does not show it.
qlog_says() {
	if qnote=$(python3 ci/interop/qlog_check.py "$@" 2>&1); then
		links="$links; $qnote"
	else
		why="$why$qnote; "
	fi
}

# tshark over the run's capture with its key log (ours or the peer's).
tshark_run() {
	keys=$run/keys.log
	[ -s "$keys" ] || keys=$run/peer-keys.log
	tshark -r "$run/capture.pcapng" -o "tls.keylog_file:$keys" "$@" 2>/dev/null
}

has_packets() {
	[ -n "$(tshark_run -Y "$1" -T fields -e frame.number | head -n 1)" ]
}

# Client UDP ports seen on link I (NAT rebinding shows two).
client_ports() {
	tshark_run -Y "ip.src == 10.$net.$1.1 && udp" -T fields -e udp.srcport | sort -u | wc -l
}

# "PORT BYTES" per client port on link 1, of what the server sent there
# (headers not decrypted: fast).
port_shares() {
	tshark -r "$run/capture.pcapng" -Y "ip.src == $server_ip && udp" -T fields \
		-e udp.dstport -e udp.length 2>/dev/null |
		awk '{ b[$1] += $2 } END { for (p in b) print p, b[p] }' | sort -k2 -nr
}

# Single-path runs: tshark decrypts every QUIC packet of the capture (the
# multipath frames are beyond tshark 4.0). Sets $decrypt_note.
check_decrypt() {
	decrypt_note=""
	command -v tshark >/dev/null && [ -s "$run/capture.pcapng" ] || return 0
	n=$(tshark_run -Y quic -T fields -e frame.number | wc -l)
	bad=$(tshark_run -Y "_ws.expert.message contains \"ecrypt\"" -T fields -e frame.number | wc -l)
	decrypt_note="tshark decrypted $((n - bad)) of $n"
	# "Packets received/dropped on interface 's1': 1234/0 (...)", per link.
	drops=$(sed -n "s|.*received/dropped on interface.*: [0-9]*/\([0-9]*\) .*|\1|p" \
		"$run/dumpcap.log" | awk '{ d += $1 } END { print d + 0 }')
	[ "$drops" = 0 ] || decrypt_note="$decrypt_note; the capture dropped $drops packets"
	[ "$bad" = 0 ]
}

# run_case NAME DIRECTION "FEATURES" "PATHS" [decrypt]: one run; records
# ok / failed / unsupported in the matrix.
run_case() {
	name=$1 dir=$2 feats=$3 paths=$4 decrypt=${5:-}
	run=$out/$name/$dir
	rm -rf "$run" "$run-dropped"
	retried=""
	run_once
}

run_once() {
	mkdir -p "$run/out" "$run/qlog"
	down_at=""
	case " $feats " in *" path-down "*) down_at=5000000 ;; esac
	# shellcheck disable=SC2086
	if [ "$dir" = mpq-client ]; then
		peer_server $feats
		server=$cmd sw=$why
		mpq_client_cmd $feats
		client=$cmd cw=$why
	else
		mpq_server_cmd $feats
		server=$cmd sw=$why
		peer_client $feats
		client=$cmd cw=$why
	fi
	if [ -n "$sw$cw" ]; then
		record "$name" "$dir" unsupported "$sw${sw:+${cw:+; }}$cw"
		return
	fi
	echo "$server" >"$run/server.cmd"
	echo "$client" >"$run/client.cmd"
	in_c ip link set c2 up
	shape_links "$name"
	start_capture
	start_server "$server"
	if ! wait_udp_port; then
		stop_pid "$server_pid"
		record "$name" "$dir" failed "server did not start: $(tail -n 3 "$run/server.log")"
		return
	fi
	tx1=$(tx_bytes s1)
	tx2=$(tx_bytes s2)
	run_client "$client"
	sleep 0.2
	stop_pid "$server_pid"
	if [ -n "$capture_pid" ]; then
		kill -INT "$capture_pid" 2>/dev/null # its statistics, drops included
		stop_pid "$capture_pid"
	fi
	ok=yes
	if [ "$dir" = peer-client ] && ! peer_client_ok; then
		ok=no
	fi
	# shellcheck disable=SC2086
	if [ "$client_rc" != 0 ] || [ "$ok" = no ] || ! check_run $feats; then
		record "$name" "$dir" failed "client exit $client_rc; $why$(last_words)"
		return
	fi
	note=$links
	if [ -n "$decrypt" ]; then
		if ! check_decrypt; then
			# A capture that dropped packets says nothing of our stack
			# (see "What the matrix found"): once more, the first kept.
			if [ "$drops" != 0 ] && [ -z "$retried" ]; then
				mv "$run" "$run-dropped"
				retried="; run twice: the first capture dropped $drops packets ($dir-dropped)"
				run_once
				return
			fi
			record "$name" "$dir" failed "$decrypt_note (capture kept)$retried"
			return
		fi
		note="$note; $decrypt_note$retried"
	fi
	[ -n "$down_at" ] && note="$note; $down_note"
	record "$name" "$dir" ok "$note"
	# Keep what explains failures; a passed run's capture is large.
	[ "${KEEP_CAPTURES:-0}" = 1 ] || rm -f "$run/capture.pcapng"
}

# The client's last error lines, and the server's: ngtcp2 names its errors
# ERR_IDLE_CLOSE, ERR_FINAL_SIZE..., and gtlsclient exits 0 whatever ended
# its loop, so how each side saw the end is what tells a failure's cause.
last_words() {
	grep -hv "WARNING: --insecure" "$run/client.err" "$run/client.log" 2>/dev/null |
		grep -i "error\|fail\|exit\|closed\|ERR_" | tail -n 2 | tr '\n' ' '
	printf 'server: '
	grep -i "error\|fail\|closed\|ERR_" "$run/server.log" 2>/dev/null | tail -n 2 | tr '\n' ' '
}

# record CASE DIRECTION RESULT NOTE: a line of the matrix ($out/results).
record() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$out/results"
	case $3 in
	ok) passed=$((passed + 1)) ;;
	failed) failed=$((failed + 1)) ;;
	*) skipped=$((skipped + 1)) ;;
	esac
	printf '%-16s %-11s %-11s %s\n' "$1" "$2" "$3" "$4"
}

# The matrix, case x direction, as markdown on stdout.
matrix() {
	echo "| case | mpq-client → $peer_name server | $peer_name client → mpq-server |"
	echo "|---|---|---|"
	for c in $case_names; do
		printf '| %s |' "$c"
		for d in mpq-client peer-client; do
			line=$(awk -F'\t' -v c="$c" -v d="$d" '$1 == c && $2 == d' "$out/results")
			res=$(echo "$line" | cut -f3)
			why=$(echo "$line" | cut -f4)
			case $res in
			ok) printf ' ok |' ;;
			failed) printf ' **failed**: %s |' "$why" ;;
			unsupported) printf ' unsupported: %s |' "$why" ;;
			*) printf ' not run |' ;;
			esac
		done
		echo
	done
}
