#!/bin/bash
# usermachine.sh KIND DIR CMD...: run CMD as it would run on a user's machine
# whose /dev/log is KIND:
#   socket   a live datagram socket at /dev/log (rsyslog, or journald's socket)
#   symlink  /dev/log -> /run/systemd/journal/dev-log, a live socket (the
#            layout of systemd-journald on Debian and Ubuntu)
#   stale    a socket file at /dev/log that nothing reads any more
#   none     no /dev/log (this machine, CI)
# CMD runs in a mount namespace of its own, with a tmpfs /dev whose entries
# link to this machine's devices, plus the /dev/log above, and a tmpfs /run.
# This machine's own /dev, /run and syslog are never touched.  What the
# simulated machine's syslog receives goes to DIR/host-syslog.txt, which
# first gets one line sent with logger (for socket and symlink), so a test can
# see that the "host" syslog works and that none of its peers' lines went
# there.  Exits with CMD's status (2 when the machine cannot be set up).
# Environment: LOGSINK, the logsink program (tests/tools/logsink.c).
set -u
kind=${1:?kind}
dir=${2:?dir}
shift 2
[ $# -gt 0 ] || { echo "usage: usermachine.sh KIND DIR CMD..." >&2; exit 2; }
case $kind in socket|symlink|stale|none) ;; *) echo "unknown kind $kind" >&2; exit 2 ;; esac
[ -x "${LOGSINK:-}" ] || { echo "usermachine.sh: LOGSINK is not set to the logsink program" >&2; exit 2; }
mkdir -p "$dir"
dir=$(readlink -f "$dir")
: >"$dir/host-syslog.txt"

# The rest runs in the new mount namespace (private propagation: nothing
# mounted there is seen outside).
inner=$(cat <<'INNER'
set -u
kind=$1 dir=$2
shift 2
real=$(mktemp -d "$dir/realdev.XXXXXX")
mount --rbind /dev "$real" &&
	mount -t tmpfs -o mode=755,size=1m userdev /dev &&
	mount -t tmpfs -o mode=755,size=16m userrun /run || exit 2
for e in "$real"/* "$real"/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	[ "${e##*/}" = log ] && continue
	ln -s "$e" "/dev/${e##*/}"
done
sink=""
case $kind in
socket)
	"$LOGSINK" /dev/log "$dir/host-syslog.txt" 3600 & sink=$! ;;
symlink)
	mkdir -p /run/systemd/journal
	"$LOGSINK" /run/systemd/journal/dev-log "$dir/host-syslog.txt" 3600 & sink=$!
	ln -s /run/systemd/journal/dev-log /dev/log ;;
stale)
	# bound, then killed before it could remove its socket
	"$LOGSINK" /dev/log "$dir/host-syslog.txt" 3600 & sink=$! ;;
esac
if [ -n "$sink" ]; then
	for k in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
	[ -S /dev/log ] || { echo "usermachine.sh: no socket at /dev/log" >&2; exit 2; }
fi
if [ "$kind" = stale ]; then
	kill -KILL "$sink"; wait "$sink" 2>/dev/null; sink=""
	[ -S /dev/log ] || { echo "usermachine.sh: the stale socket is gone" >&2; exit 2; }
elif [ -n "$sink" ]; then
	logger -u /dev/log -t usermachine "the simulated host's syslog works" || exit 2
	for k in $(seq 1 50); do [ -s "$dir/host-syslog.txt" ] && break; sleep 0.1; done
fi
echo "usermachine.sh: /dev/log is $kind: $(ls -l /dev/log 2>&1)" >&2
"$@"
rc=$?
[ -z "$sink" ] || { kill -TERM "$sink"; wait "$sink" 2>/dev/null; }
exit $rc
INNER
)
exec unshare -m --propagation private /bin/bash -c "$inner" usermachine "$kind" "$dir" "$@"
