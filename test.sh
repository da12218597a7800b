#!/bin/bash
# Every test: unit tests (also under ASan+UBSan), short fuzz runs, and the
# end-to-end tests in network namespaces with the real pptpd and pptp-linux.
# Run as root:  sudo ./test.sh
set -u
top=$(cd "$(dirname "$0")" && pwd)
"$top/scripts/deps.sh" || exit 1
rc=0

echo "== build"
"$top/scripts/build.sh" "$top/build" || exit 1
echo "== build with ASan+UBSan"
"$top/scripts/build.sh" "$top/build-asan" -DPPTPGW_SANITIZE=ON || exit 1
echo "== build fuzz targets (clang, libFuzzer)"
CC=clang "$top/scripts/build.sh" "$top/build-fuzz" -DPPTPGW_FUZZ=ON || exit 1

echo "== unit tests under ASan+UBSan"
(cd "$top/build-asan" && ctest -L unit -E 'package|rules_files' --output-on-failure) || rc=1
echo "== fuzz smoke runs"
(cd "$top/build-fuzz" && ctest -L fuzz --output-on-failure) || rc=1
echo "== all tests"
(cd "$top/build" && ctest --output-on-failure) || rc=1
# The gateway-facing end-to-end tests once more, with pptpgw itself from the
# ASan+UBSan build (the lab's tools stay the plain ones).  Any report ends
# pptpgw at once; leaks are reported as it exits, and the lab fails the test
# on any report in pptpgw's output, or when pptpgw had to be killed (its
# leak check never ran).  About 8 minutes.
echo "== end-to-end tests against pptpgw built with ASan+UBSan"
asan_e2e='multi_host|hostile|fastpath|relay_one_host|relay_hostile|relay_stray_gre|limits|flood_pending|double_nat|host_client|lifecycle|reload|queue_burst|split_coalesced'
(cd "$top/build" &&
	PPTPGW="$top/build-asan/pptpgw" E2E_SANITIZED=1 \
	ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ctest -L e2e -R "^e2e_t_($asan_e2e)\$" --output-on-failure) || rc=1
exit $rc
