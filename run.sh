#!/bin/bash
# The main job.  With no arguments: the demo (real pptp clients behind a NAT
# gateway running pptpgw, in throw-away network namespaces).  With arguments:
# the gateway itself, e.g.  sudo ./run.sh --wan eth0
set -eu
top=$(cd "$(dirname "$0")" && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
if [ $# = 0 ]; then
	exec "$top/scripts/demo.sh" "$top/build"
fi
exec "$top/build/pptpgw" "$@"
