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
exit $rc
