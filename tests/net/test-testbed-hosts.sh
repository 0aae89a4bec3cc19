#!/bin/sh
# mpq-testbed run beyond one machine (docs/testbed.md "Real hosts", "Several
# runners"), with OpenSSH servers in namespaces of this machine standing for
# the machines: a driver namespace reaches each "host" over a veth pair.
#   --hosts: a client host and a server host joined by two veth pairs (two
#     paths), sshd in each; a 2-run experiment with rates applied by tbf
#     (bin ... copy: the tools scp'd over): rows ok with 2000000 bytes, bytes
#     on both paths, both ends' qlogs and the client's capture (--capture)
#     fetched back; after the run no process of it on either host, no tbf,
#     no remote directory;
#   a bad hosts file line, an experiment with a delay (or a delay event)
#     under `links tc`, and one with rates under `io xdp`: refused in one
#     line;
#   a client host ssh cannot reach: a failed row with ssh's reason;
#   IPv6: ssh to the hosts' IPv6 addresses, the paths' server addresses
#     IPv6, `links tc real`: the delay ignored (said once), the rates
#     applied, `at 0.3s link 1 down` a pfifo of limit 0 on both ends of
#     path 1 that drops packets, `at 1.5s link 1 up` the tbf back, `at 0.3s
#     link 2 ab rate 5mbit` the client's tbf at 5 Mbit/s; the row ok, the
#     events' logs fetched back;
#   SIGKILL to the driver mid-transfer: the run goes on on the hosts; the
#     next batch sweeps it up first; SIGINT mid-transfer (events pending):
#     exit 130, nothing left on either host of either run;
#   --sshloginfile: two runner "machines" (sshd in two more namespaces, one
#     reached over IPv6) run a 4-point batch with GNU parallel, each with the
#     local backend: 4 ok rows in one results.csv in the batch's order, both
#     runners used; --resume
#     after a row is lost sends out that run only; SIGINT while both runners
#     run leaves no job and no testbed on either.
# No file of this machine's own ssh setup is touched: keys, host keys,
# known_hosts and sshd configs are in a scratch directory.
#   tests/net/test-testbed-hosts.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces and sshd"
need_tools ip python3 ssh scp ssh-keygen parallel rsync tc
if [ ! -x /usr/sbin/sshd ]; then
	echo "skipped: needs /usr/sbin/sshd (openssh-server; make deps)"
	exit 77
fi
tb=$(cd "$(dirname "$0")/../../testbed" && pwd)/mpq-testbed
tmp=$(mktemp -d)
chmod 755 "$tmp"
export BIN MPQ_TESTBED_RUN="$tmp/run"
ctl=thd$$ hc=thc$$ hs=ths$$ r1=thr$$a r2=thr$$b
cleanup() {
	for ns in $ctl $hc $hs $r1 $r2; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	# The runners' testbeds (their state is in $MPQ_TESTBED_RUN).
	for d in "$tmp"/run/*; do
		[ -d "$d" ] && "$tb" down --name "${d##*/}" >/dev/null 2>&1
	done
	for ns in $ctl $hc $hs $r1 $r2; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# sshd's privilege separation directory (compiled in). Left in place at
# exit, as the openssh-server package leaves it: a copy of this test removing
# it under another copy's sshd made that one's logins fail ('Connection reset').
mkdir -p -m 755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$tmp/id" && ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey" ||
	{ not_ok "ssh keys"; finish; }
cp "$tmp/id.pub" "$tmp/authorized_keys"
cat >"$tmp/sshd_config" <<X
HostKey $tmp/hostkey
AuthorizedKeysFile $tmp/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
MaxSessions 100
MaxStartups 100
Subsystem sftp internal-sftp
# bash reads ~/.bashrc for an sshd command unless nested (SHLVL); this
# machine's may be slow (seconds), a real host's should not be.
SetEnv SHLVL=1
X

# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2 [ADDR6_1 ADDR6_2] (/24 and /64 each)
veth() {
	ip link add name "$2" netns "$1" type veth peer name "$5" netns "$4" &&
		ip -n "$1" addr add "$3/24" dev "$2" && ip -n "$4" addr add "$6/24" dev "$5" &&
		if [ $# -gt 6 ]; then
			ip -n "$1" addr add "$7/64" dev "$2" nodad &&
				ip -n "$4" addr add "$8/64" dev "$5" nodad
		fi &&
		ip -n "$1" link set dev "$2" up && ip -n "$4" link set dev "$5" up
}
setup() {
	for ns in $ctl $hc $hs $r1 $r2; do
		ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
	done
	veth "$ctl" mc 10.77.1.1 "$hc" m 10.77.1.2 fd77:1::1 fd77:1::2 &&
		veth "$ctl" ms 10.77.2.1 "$hs" m 10.77.2.2 fd77:2::1 fd77:2::2 &&
		veth "$ctl" m1 10.77.3.1 "$r1" m 10.77.3.2 fd77:3::1 fd77:3::2 &&
		veth "$ctl" m2 10.77.4.1 "$r2" m 10.77.4.2 fd77:4::1 fd77:4::2 &&
		veth "$hc" c1 10.78.1.1 "$hs" s1 10.78.1.2 fd78:1::1 fd78:1::2 &&
		veth "$hc" c2 10.78.2.1 "$hs" s2 10.78.2.2 fd78:2::1 fd78:2::2 || return 1
	: >"$tmp/known_hosts"
	i=1
	for ns in $hc $hs $r1 $r2; do
		ip netns exec "$ns" /usr/sbin/sshd -D -f "$tmp/sshd_config" \
			-o "ListenAddress=10.77.$i.2" -o "ListenAddress=[fd77:$i::2]" \
			-E "$tmp/sshd-$ns.log" &
		echo "10.77.$i.2,fd77:$i::2 $(cat "$tmp/hostkey.pub")" >>"$tmp/known_hosts"
		i=$((i + 1))
	done
}
if ! setup >"$tmp/setup.err" 2>&1; then
	not_ok "namespaces, veth pairs and sshd" "$(cat "$tmp/setup.err")"
	finish
fi
sshopts="-i $tmp/id -o UserKnownHostsFile=$tmp/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes"
up=0
for _ in $(seq 50); do
	up=0
	for a in 10.77.1.2 10.77.2.2 10.77.3.2 10.77.4.2 fd77:1::2 fd77:2::2; do
		# shellcheck disable=SC2086
		ip netns exec "$ctl" ssh $sshopts "root@$a" true 2>/dev/null && up=$((up + 1))
	done
	[ "$up" = 6 ] && break
	sleep 0.1
done
if [ "$up" = 6 ]; then
	ok "four sshd in namespaces answer with key login (two also over IPv6)"
else
	not_ok "four sshd in namespaces answer" "$up of 6" "$(cat "$tmp"/sshd-*.log)"
	finish
fi
# sshd's own listener (an sshd whose parent is no sshd) is all a host may run
# outside a run; waits up to 3 s for the others to go ($extra: those left).
only_sshd() {
	for _ in $(seq 30); do
		extra=""
		for ns in "$@"; do
			for p in $(ip netns pids "$ns"); do
				pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
				[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sshd ] &&
					[ "$(cat "/proc/$pp/comm" 2>/dev/null)" != sshd ] ||
					extra="$extra $p($(cat "/proc/$p/comm" 2>/dev/null))"
			done
		done
		[ -z "$extra" ] && return 0
		sleep 0.1
	done
	return 1
}

# SIGINT to mpq-testbed run (python, in the driver namespace).
interrupt_driver() {
	for p in $(ip netns pids "$ctl"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in python3) kill -INT "$p" ;; esac
	done
}

# ---- --hosts ----
mkdir -p "$tmp/work"
cat >"$tmp/hosts" <<X
# the client and server hosts: sshd in two namespaces
client root@10.77.1.2 identity $tmp/id option UserKnownHostsFile=$tmp/known_hosts option StrictHostKeyChecking=yes
server 10.77.2.2 user root identity $tmp/id option UserKnownHostsFile=$tmp/known_hosts
bin $tmp/bin copy
workdir $tmp/work
path 1 client c1 server s1 10.78.1.2
path 2 client c2 server s2 10.78.2.2
links tc
X
cat >"$tmp/tiny" <<'X'
# tiny: two schedulers over two paths of 40 Mbit/s
paths 2
link 1 rate 40mbit queue 50ms
link 2 rate 40mbit queue 50ms
get 2MB
sweep sched minrtt rr
qlog yes
X
ip netns exec "$ctl" "$tb" run "$tmp/tiny" --hosts "$tmp/hosts" --out "$tmp/h" --capture \
	>"$tmp/h.out" 2>&1
rc=$?
hsum=$(python3 - "$tmp/h/results.csv" <<'X'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(len(rows), sum(r["ok"] == "1" and r["bytes"] == "2000000" and int(r["path1_bytes"]) > 0
                     and int(r["path2_bytes"]) > 0 for r in rows))
X
)
if [ "$rc" = 0 ] && [ "$hsum" = "2 2" ]; then
	ok "--hosts: 2 ok rows of 2000000 bytes, bytes on both paths ($(grep -m1 '^\[' "$tmp/h.out"))"
else
	not_ok "--hosts: 2 ok rows, both paths" "exit $rc, rows ok: $hsum" "$(cat "$tmp/h.out")" \
		"$(cat "$tmp/h/results.csv" 2>/dev/null)"
fi
nq=0
for d in "$tmp"/h/runs/*/; do
	ls "$d"qlog/*client*.sqlog >/dev/null 2>&1 && ls "$d"qlog/*server*.sqlog >/dev/null 2>&1 &&
		[ -s "$d/client.json" ] && [ -s "$d/server.log" ] && [ -s "$d/client.pcapng" ] &&
		nq=$((nq + 1))
done
if [ "$nq" = 2 ] && [ "$(ls "$tmp"/h/timeline-*.svg 2>/dev/null | wc -l)" = 2 ]; then
	ok "both ends' qlogs, client.json, client.pcapng and server.log fetched back; timelines drawn"
else
	not_ok "qlogs fetched back" "$nq of 2 runs" "$(ls -R "$tmp/h/runs")"
fi
qd=$(tc -n "$hc" qdisc show dev c1; tc -n "$hs" qdisc show dev s2)
if only_sshd "$hc" "$hs" && [ -z "$(ls "$tmp/work")" ] && ! echo "$qd" | grep -q tbf &&
	[ -z "$(ip netns pids "$ctl")" ]; then
	ok "after the run: only sshd on both hosts, no tbf, no remote directory, no ssh master"
else
	not_ok "after the run: nothing left" "processes:$extra" "work: $(ls "$tmp/work")" "$qd"
fi

# ---- a link that needs netem ----
printf 'paths 2\nlink 1 delay 10ms rate 40mbit\nget 1MB\n' >"$tmp/delay"
ip netns exec "$ctl" "$tb" run "$tmp/delay" --hosts "$tmp/hosts" --out "$tmp/d" >"$tmp/d.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/d.out")" = 1 ] && grep -q "'link 1 delay 10ms' needs netem" "$tmp/d.out"; then
	ok "a delay under links tc is refused: $(cat "$tmp/d.out")"
else
	not_ok "a delay under links tc is refused in one line" "exit $rc" "$(cat "$tmp/d.out")"
fi

sed 's/^links tc$/links netem/' "$tmp/hosts" >"$tmp/hosts-bad"
ip netns exec "$ctl" "$tb" run "$tmp/tiny" --hosts "$tmp/hosts-bad" --out "$tmp/b" >"$tmp/b.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/b.out")" = 1 ] &&
	grep -q "hosts-bad: line 8: links tc | links real | links tc real$" "$tmp/b.out"; then
	ok "a bad hosts file: $(cat "$tmp/b.out")"
else
	not_ok "a bad hosts file: one line naming file and line, exit 2" "exit $rc" "$(cat "$tmp/b.out")"
fi
# One line each: an event tc cannot apply (it names it), rates under io xdp.
printf 'paths 2\nlink 1 rate 40mbit\nat 1s link 1 delay 20ms\nget 1MB\n' >"$tmp/delayev"
ip netns exec "$ctl" "$tb" run "$tmp/delayev" --hosts "$tmp/hosts" --out "$tmp/e" >"$tmp/e.out" 2>&1
rc=$?
printf 'paths 2\nlink 1 rate 40mbit\nget 1MB\nio xdp\n' >"$tmp/xdp"
ip netns exec "$ctl" "$tb" run "$tmp/xdp" --hosts "$tmp/hosts" --out "$tmp/x" >"$tmp/x.out" 2>&1
rcx=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/e.out")" = 1 ] &&
	grep -q "'at 1s link 1 delay 20ms' needs netem or the emulator, .*(links tc applies rate, queue, down and up" "$tmp/e.out" &&
	[ "$rcx" = 2 ] && [ "$(wc -l <"$tmp/x.out")" = 1 ] &&
	grep -q "'io xdp' sends with AF_XDP, past the hosts' qdiscs, so tc cannot apply 'link 1 rate 40mbit'" "$tmp/x.out"; then
	ok "refused in one line: a delay event under links tc, rates under io xdp"
else
	not_ok "a delay event and io xdp refused in one line" "exit $rc, $rcx" "$(cat "$tmp/e.out" "$tmp/x.out")"
fi

# A host ssh cannot reach (nothing listens on port 1): the run's row fails
# with ssh's reason, in one line, and the batch goes on to its end.
sed 's/^client root@10.77.1.2 /&port 1 /' "$tmp/hosts" >"$tmp/hosts-off"
printf 'paths 1\nget 1MB\n' >"$tmp/one"
ip netns exec "$ctl" "$tb" run "$tmp/one" --hosts "$tmp/hosts-off" --out "$tmp/o" >"$tmp/o.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && ! grep -q Traceback "$tmp/o.out" &&
	grep -q "FAILED (mkdir on root@10.77.1.2: ssh root@10.77.1.2: .*port 1: Connection refused)$" "$tmp/o.out"; then
	ok "an unreachable host: $(grep -o 'FAILED.*' "$tmp/o.out")"
else
	not_ok "an unreachable host: a failed row with ssh's reason" "exit $rc" "$(cat "$tmp/o.out")"
fi

# ---- IPv6, links tc real, a path-down event ----
# (The tools are where the first run copied them: the "hosts" share this
# machine's files.)
cat >"$tmp/hosts6" <<X
client root@[fd77:1::2] identity $tmp/id option UserKnownHostsFile=$tmp/known_hosts option StrictHostKeyChecking=yes
server fd77:2::2 user root identity $tmp/id option UserKnownHostsFile=$tmp/known_hosts
bin $tmp/bin
workdir $tmp/work
path 1 client c1 server s1 fd78:1::2
path 2 client c2 server s2 [fd78:2::2]
links tc real
X
# 10 Mbit/s a link: whatever the machine, path 1 goes down and comes back
# while the 4 MB are under way.
printf '%s\n' 'paths 2' 'link 1 delay 10ms rate 10mbit' 'link 2 rate 10mbit' \
	'at 0.3s link 1 down' 'at 0.3s link 2 ab rate 5mbit' 'at 1.5s link 1 up' 'get 4MB' >"$tmp/v6"
ip netns exec "$ctl" "$tb" run "$tmp/v6" --hosts "$tmp/hosts6" --out "$tmp/r" >"$tmp/r.out" 2>&1 &
# While the run goes on: path 1's root qdisc on each end, its statistics
# while it is the pfifo of the down, and the tbf once back (up); the
# client's end of path 2 once its rate is 5 Mbit/s.
down_c="" down_s="" up_c="" up_s="" rate_c=""
while kill -0 $! 2>/dev/null; do
	q=$(tc -s -n "$hc" qdisc show dev c1 | tr '\n' ' ')
	case $q in
	*"qdisc pfifo "*"limit 0p"*) down_c=$q ;;
	*"qdisc tbf "*) [ -n "$down_c" ] && up_c=$q ;;
	esac
	q=$(tc -s -n "$hs" qdisc show dev s1 | tr '\n' ' ')
	case $q in
	*"qdisc pfifo "*"limit 0p"*) down_s=$q ;;
	*"qdisc tbf "*) [ -n "$down_s" ] && up_s=$q ;;
	esac
	q=$(tc -n "$hc" qdisc show dev c2)
	case $q in *"qdisc tbf "*" rate 5Mbit "*) rate_c=$q ;; esac
	sleep 0.05
done
wait $!
rc=$?
drops=$(echo "$down_c $down_s" | grep -o 'dropped [0-9]*' | awk '{n += $2} END {print n + 0}')
if [ "$rc" = 0 ] && grep -q "^links real: ignored: link 1 delay 10ms$" "$tmp/r.out" &&
	[ "$(python3 -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1])))
print(len(r), r[0]["bytes"], r[0]["ok"], int(r[0]["path2_bytes"]) > 0)' "$tmp/r/results.csv" 2>/dev/null)" = "1 4000000 1 True" ]; then
	ok "IPv6 hosts and paths, links tc real: the delay ignored (said once), the run ok"
else
	not_ok "IPv6 hosts and paths, links tc real: the run ok" "exit $rc" "$(cat "$tmp/r.out")" \
		"$(cat "$tmp/r/results.csv" 2>/dev/null)" "$(tail -n 3 "$tmp"/r/runs/*/client.log)"
fi
if [ -n "$down_c" ] && [ -n "$down_s" ] && [ "$drops" -gt 0 ] && [ -n "$up_c" ] && [ -n "$up_s" ] &&
	grep -q "^at 0.3s: tc qdisc replace dev c1 root pfifo limit 0$" "$tmp"/r/runs/*/tc-client.log &&
	grep -q "^at 0.3s: tc qdisc replace dev s1 root pfifo limit 0$" "$tmp"/r/runs/*/tc-server.log; then
	ok "at 0.3s link 1 down, at 1.5s up: a pfifo of limit 0 on c1 and s1 dropped $drops packets, then the tbf back; logs fetched"
else
	not_ok "at 0.3s link 1 down, at 1.5s up: pfifo limit 0 on both ends, dropping, then tbf" \
		"client: $down_c / $up_c" "server: $down_s / $up_s" "$(cat "$tmp"/r/runs/*/tc-*.log)"
fi
# ab only: the server's end of path 2 keeps its 10 Mbit/s.
if [ -n "$rate_c" ] && ! grep -q "dev s2" "$tmp"/r/runs/*/tc-server.log &&
	grep -q "^at 0.3s: tc qdisc replace dev c2 root tbf rate 5000000bit " "$tmp"/r/runs/*/tc-client.log; then
	ok "at 0.3s link 2 ab rate 5mbit: the client's tbf on c2 at 5 Mbit/s, the server's left"
else
	not_ok "at 0.3s link 2 ab rate 5mbit: c2's tbf at 5 Mbit/s" "c2: $rate_c" \
		"$(cat "$tmp"/r/runs/*/tc-*.log)"
fi
qd=$(tc -n "$hc" qdisc show dev c1; tc -n "$hs" qdisc show dev s1)
if only_sshd "$hc" "$hs" && [ -z "$(ls "$tmp/work")" ] && ! echo "$qd" | grep -Eq "tbf|pfifo"; then
	ok "after the IPv6 run: only sshd on both hosts, no tbf or pfifo, no directory"
else
	not_ok "after the IPv6 run: nothing left" "processes:$extra" "work: $(ls "$tmp/work")" "$qd"
fi

# ---- SIGKILL, then SIGINT, mid-transfer ----
# 40 MB at 10 Mbit/s, with an event still to come (its scripts asleep);
# the tools where the first run copied them.
sed 's/get 2MB/get 40MB/; s/40mbit/10mbit/g; $a at 60s link 2 rate 5mbit' "$tmp/tiny" >"$tmp/slow"
sed 's/^\(bin .*\) copy$/\1/' "$tmp/hosts" >"$tmp/hosts-kept"
# The mpq-client in the client host that is not $1, once there ($running).
client_up() {
	running=""
	for _ in $(seq 300); do
		for p in $(ip netns pids "$hc"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = mpq-client ] && [ "$p" != "$1" ] &&
				running=$p
		done
		[ -n "$running" ] && return 0
		sleep 0.1
	done
	return 1
}
# A driver killed by SIGKILL cleans nothing up: its run's processes, tbf and
# directory stay on the hosts until the next batch from this machine.
ip netns exec "$ctl" "$tb" run "$tmp/slow" --hosts "$tmp/hosts-kept" --out "$tmp/k" >/dev/null 2>&1 &
client_up ""
killed=$running
kill -9 $!
wait $! 2>/dev/null
# Its ssh processes here (the client's, the master) are this machine's.
for p in $(ip netns pids "$ctl"); do kill "$p"; done
sleep 0.5
left=$(for p in $(ip netns pids "$hc") $(ip netns pids "$hs"); do cat "/proc/$p/comm"; done |
	sort | uniq -c | tr -s ' \n' ' ')
case $left in
*" mpq-client "*" mpq-server "*" sleep "*)
	ok "SIGKILL mid-transfer: the run goes on on the hosts:$left" ;;
*) not_ok "SIGKILL mid-transfer: the run goes on on the hosts" "$left" ;;
esac
ip netns exec "$ctl" "$tb" run "$tmp/slow" --hosts "$tmp/hosts-kept" --out "$tmp/i" >"$tmp/i.out" 2>&1 &
client_up "$killed"
# The links' rates as tbf at each host's egress while the transfer runs.
tbf=$(tc -n "$hc" qdisc show dev c1; tc -n "$hs" qdisc show dev s2)
if [ "$(echo "$tbf" | grep -c "^qdisc tbf .* rate 10Mbit ")" = 2 ]; then
	ok "links tc: a tbf of 10 Mbit/s on the client's and the server's path interfaces"
else
	not_ok "links tc: tbf on both ends" "$tbf"
fi
sleep 0.5
interrupt_driver
wait $!
rc=$?
# Nothing of either run: the second swept up the first's leftovers first.
qd=$(tc -n "$hc" qdisc show dev c1; tc -n "$hs" qdisc show dev s2)
if [ -n "$running" ] && [ "$rc" = 130 ] && only_sshd "$hc" "$hs" && [ -z "$(ls "$tmp/work")" ] &&
	! echo "$qd" | grep -q tbf && [ -z "$(ip netns pids "$ctl")" ]; then
	ok "SIGINT mid-transfer: exit 130, only sshd left on both hosts (the killed run's too), no tbf, no directory"
else
	not_ok "SIGINT mid-transfer leaves nothing" "exit $rc, client pid ${running:-none}" \
		"processes:$extra" "work: $(ls "$tmp/work")" "$qd" "$(cat "$tmp/i.out")"
fi

# ---- --sshloginfile: two runners ----
cat >"$tmp/runners" <<X
# two runner machines (sshd in namespaces), the second over IPv6
ssh $sshopts root@10.77.3.2
ssh $sshopts root@fd77:4::2
X
cat >"$tmp/batch" <<'X'
# batch: four points over two emulated paths
paths 2
link 1 delay 5ms rate 50mbit queue 50ms
link 2 delay 10ms rate 50mbit queue 50ms
get 1MB
sweep sched minrtt rr ecf redundant
X
ip netns exec "$ctl" "$tb" run "$tmp/batch" --sshloginfile "$tmp/runners" --out "$tmp/p" \
	>"$tmp/p.out" 2>&1
rc=$?
psum=$(python3 - "$tmp/p/results.csv" <<'X'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(len(rows), sum(r["ok"] == "1" and r["bytes"] == "1000000" for r in rows),
      [r["param_sched"] for r in rows] == ["minrtt", "rr", "ecf", "redundant"])
X
)
hostsused=$(awk -F'\t' 'NR > 1 {print $2}' "$tmp/p/runners/joblog" 2>/dev/null | sort -u | wc -l)
if [ "$rc" = 0 ] && [ "$psum" = "4 4 True" ] && [ "$hostsused" = 2 ] &&
	[ "$(ls -d "$tmp"/p/runs/p00*/client.json | wc -l)" = 4 ]; then
	ok "--sshloginfile: 4 ok rows in one results.csv in order, over 2 runners"
else
	not_ok "--sshloginfile: 4 ok rows over 2 runners" "exit $rc, rows ok ordered: $psum," \
		"runners used: $hostsused" "$(cat "$tmp/p.out")" "$(cat "$tmp/p/runners/joblog")"
fi
lost=$(sed -n 3p "$tmp/p/results.csv" | cut -d, -f2)
sed -i 3d "$tmp/p/results.csv"
ip netns exec "$ctl" "$tb" run "$tmp/batch" --sshloginfile "$tmp/runners" --out "$tmp/p" \
	--resume >"$tmp/p2.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q "^runners: 1 runs" "$tmp/p2.out" &&
	[ "$(sed -n 3p "$tmp/p/results.csv" | cut -d, -f2)" = "$lost" ] &&
	[ "$(wc -l <"$tmp/p/results.csv")" = 5 ]; then
	ok "--resume over runners runs the lost run only, back in its place"
else
	not_ok "--resume over runners" "exit $rc" "$(cat "$tmp/p2.out")" "$(cat "$tmp/p/results.csv")"
fi
if only_sshd "$r1" "$r2" && [ -z "$(ls "$tmp/run")" ]; then
	ok "no runner process or testbed left"
else
	not_ok "no runner process or testbed left" "$extra" "$(ls "$tmp/run")"
fi
# SIGINT while both runners run: their jobs are killed (parallel: TERM, then
# KILL), and their testbeds are taken down on each runner afterwards.
printf 'paths 2\nlink 1 rate 10mbit\nlink 2 rate 10mbit\nget 40MB\nsweep sched minrtt rr\n' \
	>"$tmp/slowbatch"
ip netns exec "$ctl" "$tb" run "$tmp/slowbatch" --sshloginfile "$tmp/runners" --out "$tmp/q" \
	>"$tmp/q.out" 2>&1 &
up=""
for _ in $(seq 300); do
	[ "$(ls "$tmp/run" | wc -l)" = 2 ] && up=$(ls "$tmp/run") && break
	sleep 0.1
done
sleep 1
interrupt_driver
wait $!
rc=$?
# This batch's testbeds only (tbPIDjJOB): other batches may run here.
batch=$(echo "$up" | sed -n '1s/j[0-9]*$/j/p')
left=$(ls "$tmp/run"; ip netns list | grep "^${batch:-tb}[0-9]")
if [ -n "$up" ] && [ "$rc" = 130 ] && only_sshd "$r1" "$r2" && [ -z "$left" ]; then
	ok "SIGINT with both runners busy: exit 130, no job and no testbed left on either"
else
	not_ok "SIGINT with both runners busy: nothing left" "exit $rc, testbeds up: $up" \
		"left: $left" "processes:$extra" "$(cat "$tmp/q.out")"
fi
finish
