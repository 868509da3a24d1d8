# ceph.sh - a single-node Ceph (one monitor, one bluestore OSD on a sparse
# file, the radosgw S3 gateway) for the object-store media tests, sourced
# after lib.sh. Everything lives under $CEPH_DIR (inside the test's $TMP),
# on free ports of 127.0.0.1; every daemon started here is stopped by
# ceph_stop, which the test's exit trap runs, failures included.
#
# ceph_start      start it, create user "pitr" and bucket "$S3_BUCKET";
#                 exports PITR_S3_ENDPOINT, AWS_ACCESS_KEY_ID,
#                 AWS_SECRET_ACCESS_KEY, AWS_REGION. Skips the whole
#                 script (loudly) when the packages are not installed.
# rgw_stop        kill the gateway alone: the media disappear
# rgw_start       start it again and wait until it answers
# rgw_throttle    the gateway answers every request 503 SlowDown (its
#                 request scheduler admits one request at a time, and a
#                 slow upload holds that one) until rgw_unthrottle
# s3 METHOD PATH [curl args]   a signed request, e.g. s3 GET "/b?list-type=2"
#
# Steps run in subshells: the daemons' pids are kept in files.

CEPH_DIR=$TMP/ceph
S3_BUCKET=pitr-test
trap 'ceph_stop; cleanup' EXIT

# a free port below the ephemeral range, so that no outgoing connection
# takes it between this check and the daemon's bind
free_port() {
	python3 -c '
import random, socket
while True:
    p = random.randrange(20000, 30000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break'
}

ceph_c() {
	timeout 60 "$@" -c "$CEPH_DIR/ceph.conf"
}

s3() {
	local method=$1 path=$2
	shift 2
	curl -s -S --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-X "$method" "$PITR_S3_ENDPOINT$path" "$@"
}

rgw_alive() {
	curl -s -o /dev/null "$PITR_S3_ENDPOINT/"
}

# what the cluster says of itself, for a failure's report
ceph_report() {
	echo "# $1; the cluster:" >&2
	ceph_c ceph -s 2>&1 | sed 's/^/#   /' >&2
	ceph_c ceph osd tree 2>&1 | sed 's/^/#   /' >&2
	ceph_c ceph osd pool ls detail 2>&1 | sed 's/^/#   /' >&2
	local f
	for f in osd.0 client.rgw; do
		[ -f "$CEPH_DIR/log/$f.log" ] || continue
		echo "# the end of $f.log:" >&2
		tail -15 "$CEPH_DIR/log/$f.log" | sed 's/^/#   /' >&2
	done
}

# The gateway gives up its own start after rgw_init_timeout and exits;
# a start that hangs or exits is tried again, three times in all.
rgw_start() {
	local try p
	for try in 1 2 3; do
		radosgw -f -c "$CEPH_DIR/ceph.conf" -n client.rgw \
			>"$CEPH_DIR/log/rgw.out" 2>&1 </dev/null &
		p=$!
		echo "$p" >"$CEPH_DIR/rgw.pid"
		wait_for 150 rgw_alive_or_gone "$p"
		rgw_alive && return 0
		ceph_report "radosgw did not answer (start $try of 3)"
		stop_pid "$p"
		rm -f "$CEPH_DIR/rgw.pid"
	done
	return 1
}

# true once the gateway answers, or once its process has exited
rgw_alive_or_gone() {
	rgw_alive || ! kill -0 "$1" 2>/dev/null
}

# stop one daemon by PID: TERM, then KILL after 5 s
stop_pid() {
	local p=$1 i
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
	kill -CONT "$p" 2>/dev/null
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 25); do
		kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || :; return 0; }
		sleep 0.2
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null || :
	return 0
}

# the gateway's settings changed while it runs, through its admin socket
rgw_config() {
	timeout 60 ceph --admin-daemon "$CEPH_DIR/run/client.rgw.asok" \
		config "$@" >/dev/null
}

# Throttling, deterministically: the gateway's default request scheduler
# (rgw_scheduler_type "throttler") refuses a request with 503 SlowDown
# while rgw_max_concurrent_requests others are in progress (0 means no
# limit), and reads that limit again when it changes. With a limit of 1,
# an upload that sends its body at 1 KiB/s (1 GiB: it never ends) holds
# the only place; whatever else comes is refused.
rgw_throttle() {
	local try
	rgw_config set rgw_max_concurrent_requests 1 || return 1
	[ -f "$CEPH_DIR/holder.img" ] || truncate -s 1G "$CEPH_DIR/holder.img"
	for try in 1 2 3 4 5; do
		curl -s -o /dev/null --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
			--limit-rate 1k --upload-file "$CEPH_DIR/holder.img" \
			"$PITR_S3_ENDPOINT/$S3_BUCKET/throttle-holder" &
		echo $! >"$CEPH_DIR/holder.pid"
		# the upload itself is refused when it arrives while another
		# request (the daemon's) is in progress: then start it again
		wait_for 10 rgw_throttled && return 0
		stop_pid "$(cat "$CEPH_DIR/holder.pid")"
	done
	return 1
}

# a probe PUT is refused with 503 SlowDown, and the slow upload that
# holds the gateway's one place still runs
rgw_throttled() {
	local p
	p=$(cat "$CEPH_DIR/holder.pid")
	kill -0 "$p" &&
		s3 PUT "/$S3_BUCKET/probe-throttle" --data-binary probe \
			-o "$CEPH_DIR/probe.out" -w "%{http_code}" | grep -q "^503$" &&
		grep -q "<Code>SlowDown<" "$CEPH_DIR/probe.out" &&
		kill -0 "$p"
}

# the limit back to its default, the slow upload stopped
rgw_unthrottle() {
	rgw_config unset rgw_max_concurrent_requests
	if [ -f "$CEPH_DIR/holder.pid" ]; then
		stop_pid "$(cat "$CEPH_DIR/holder.pid")"
		rm -f "$CEPH_DIR/holder.pid"
	fi
	s3 PUT "/$S3_BUCKET/probe-throttle" --data-binary probe \
		-o /dev/null -w "%{http_code}" | grep -q "^200$"
}

rgw_stop() {
	local p
	p=$(cat "$CEPH_DIR/rgw.pid")
	kill -KILL "$p" 2>/dev/null
	wait_for 10 not kill -0 "$p"
	rm -f "$CEPH_DIR/rgw.pid"
}

# a throttling upload, the gateway (it needs the others to stop
# cleanly), the OSD, then the monitor
ceph_stop() {
	local f
	for f in holder rgw osd mon; do
		[ -f "$CEPH_DIR/$f.pid" ] || continue
		stop_pid "$(cat "$CEPH_DIR/$f.pid")"
		rm -f "$CEPH_DIR/$f.pid"
	done
	return 0
}

ceph_start() {
	local b
	for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool curl uuidgen; do
		if ! command -v "$b" >/dev/null; then
			echo "1..0 # SKIP $b not installed: run make test-deps as root (radosgw ceph-mon ceph-osd curl uuid-runtime)"
			exit 0
		fi
	done
	mkdir -p "$CEPH_DIR/mon" "$CEPH_DIR/osd" "$CEPH_DIR/run" "$CEPH_DIR/log" \
		"$CEPH_DIR/rgw"
	local fsid monport rgwport osduuid
	fsid=$(uuidgen)
	osduuid=$(uuidgen)
	monport=$(free_port)
	rgwport=$(free_port)
	cat >"$CEPH_DIR/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = v1:127.0.0.1:$monport
mon_initial_members = a
ms_bind_msgr2 = false
ms_bind_ipv4 = true
ms_bind_ipv6 = false
public_addr = 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
auth_allow_insecure_global_id_reclaim = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
run_dir = $CEPH_DIR/run
admin_socket = $CEPH_DIR/run/\$name.asok
log_file = $CEPH_DIR/log/\$name.log
pid_file = $CEPH_DIR/run/\$name.pid
keyring = $CEPH_DIR/keyring
[mon]
mon_data = $CEPH_DIR/mon
[osd]
osd_data = $CEPH_DIR/osd
osd_objectstore = bluestore
bluestore_block_path = $CEPH_DIR/osd.block
bluestore_block_create = true
bluestore_block_size = 4294967296
bluestore_fsck_on_mount = false
osd_memory_target = 536870912
# placed in the CRUSH map here, not by the OSD at start: under load its
# first command to the monitor could leave before it knew the cluster
# (the monitor then refused it as "wrong fsid" and the OSD gave up)
osd_crush_update_on_start = false
osd_class_update_on_start = false
[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$rgwport
rgw_data = $CEPH_DIR/rgw
rgw_thread_pool_size = 16
rgw_init_timeout = 120
debug_rgw = 5
debug_monc = 5
debug_objecter = 1
EOF
	ceph-authtool --create-keyring "$CEPH_DIR/keyring" --gen-key -n mon. \
		--cap mon 'allow *' >/dev/null
	monmaptool --create --addv a "[v1:127.0.0.1:$monport]" --fsid "$fsid" \
		"$CEPH_DIR/monmap" >/dev/null
	ceph_c ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" >"$CEPH_DIR/log/mkfs.out" 2>&1
	ceph-mon -f -i a -c "$CEPH_DIR/ceph.conf" >"$CEPH_DIR/log/mon.out" 2>&1 </dev/null &
	echo $! >"$CEPH_DIR/mon.pid"
	wait_for 60 ceph_c ceph -s || { echo "# ceph-mon did not start" >&2; return 1; }
	ceph_c ceph osd new "$osduuid" >/dev/null
	ceph_c ceph-osd -i 0 --mkfs --osd-uuid "$osduuid" >"$CEPH_DIR/log/osd-mkfs.out" 2>&1
	# without its place in the CRUSH map the OSD comes up but serves no
	# placement group, and every pool the gateway creates waits forever
	wait_for 120 osd_placed || { ceph_report "osd.0 is not in the CRUSH map"; return 1; }
	ceph-osd -f -i 0 -c "$CEPH_DIR/ceph.conf" >"$CEPH_DIR/log/osd.out" 2>&1 </dev/null &
	echo $! >"$CEPH_DIR/osd.pid"
	wait_for 120 osd_up || { ceph_report "ceph-osd did not come up"; return 1; }
	# the gateway's first pool, made here so that a cluster that cannot
	# serve data is reported as such, before the gateway waits on it
	ceph_c ceph osd pool create .rgw.root 8 >/dev/null 2>&1
	ceph_c ceph osd pool application enable .rgw.root rgw >/dev/null 2>&1
	wait_for 120 pool_serves || { ceph_report "the first pool does not serve data"; return 1; }
	export PITR_S3_ENDPOINT="http://127.0.0.1:$rgwport" AWS_REGION=us-east-1
	export AWS_ACCESS_KEY_ID=PITRTESTKEY0000001
	export AWS_SECRET_ACCESS_KEY=pitrtestsecret0000000000000000000000001
	rgw_start || return 1
	ceph_c radosgw-admin user create --uid pitr --display-name pitr \
		--access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
		>/dev/null
	s3 PUT "/$S3_BUCKET" -o /dev/null -w '%{http_code}' | grep -q '^200$'
}

osd_up() {
	ceph_c ceph osd stat | grep -q "1 up"
}

# osd.0 under the default root; the command is idempotent, so it is
# simply run again until the map shows it
osd_placed() {
	ceph_c ceph osd crush add osd.0 1.0 root=default >/dev/null 2>&1
	ceph_c ceph osd crush ls default 2>/dev/null | grep -qx osd.0
}

# the pool serves data: an object written, read back and removed (there
# is no manager in this cluster, so no placement-group statistics to ask)
pool_serves() {
	local f=$CEPH_DIR/probe
	echo probe >"$f.in"
	ceph_c rados -p .rgw.root put pitr-probe "$f.in" &&
		ceph_c rados -p .rgw.root get pitr-probe "$f.out" &&
		cmp -s "$f.in" "$f.out" &&
		ceph_c rados -p .rgw.root rm pitr-probe
}
