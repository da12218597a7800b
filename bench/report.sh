#!/bin/bash
# bench/report.sh CSV PREFIX [CPLOAD_MD] [NOTE]: the data-plane benchmark's
# report from the CSV bench/run.sh wrote: PREFIX.md (medians over the
# repeats, ratios to the kernel helper, the issue's targets) and PREFIX.png
# (gnuplot, when installed).  The Markdown also goes to stdout.  CPLOAD_MD,
# a Markdown file from bench/cpload.sh, is appended when given.
set -u
csv=$1 prefix=$2 cpmd=${3:-} note=${4:-}
md="$prefix.md"
agg="$prefix.agg"

# One line per (mode, dir, size): medians over the repeats that measured
# (status ok): unlimited delivered pps and loss, and at the fixed load CPU
# us/pkt, loss, latency p50 and p99; n: repeats counted; status: n/a or
# fail when no repeat measured.
awk -F, '
function median(key, n,    i, j, v, a) {
	for (i = 1; i <= n; i++) a[i] = vals[key, i]
	for (i = 2; i <= n; i++) {   # insertion sort: a handful of values
		v = a[i]
		for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]
		a[j + 1] = v
	}
	if (n == 0) return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) {
	if (v == "") return
	cnt[key]++
	vals[key, cnt[key]] = v + 0
}
NR == 1 { next }
{
	k = $1 SUBSEP $3 SUBSEP $4
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
	if ($20 != "ok") { st[k] = $20; next }
	if ($5 == "unlimited") {
		add(k SUBSEP "pps", $10); add(k SUBSEP "uloss", $11)
		add(k SUBSEP "rdrop", $15)
	} else {
		add(k SUBSEP "cpu", $18); add(k SUBSEP "floss", $11)
		add(k SUBSEP "p50", $16); add(k SUBSEP "p99", $17)
	}
}
END {
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, f, SUBSEP)
		n = cnt[k SUBSEP "pps"] + 0
		printf "%s\t%s\t%s", f[1], f[2], f[3]
		split("pps uloss rdrop cpu floss p50 p99", m, " ")
		for (j = 1; j <= 7; j++) {
			c = cnt[k SUBSEP m[j]] + 0
			printf "\t%s", c ? median(k SUBSEP m[j], c) : "-"
		}
		printf "\t%d\t%s\n", n, n ? "ok" : (k in st ? st[k] : "none")
	}
}' "$csv" >"$agg"

over_plain() {  # over_plain MODE DIR SIZE: CPU us/pkt beyond plain routing's, or -
	awk -F'\t' -v m="$1" -v d="$2" -v s="$3" '
		$1 == "plain" && $2 == d && $3 == s { p = $7 }
		$1 == m && $2 == d && $3 == s { v = $7 }
		END { if (p != "" && p != "-" && v != "" && v != "-") printf "%+.2f", v - p; else printf "-" }' "$agg"
}

num() {  # num DECIMALS VALUE: VALUE rounded, or - when there is none
	if [ -z "$2" ] || [ "$2" = - ]; then echo -; else printf "%.${1}f" "$2"; fi
}

ratio() {  # ratio MODE DIR SIZE COLUMN: the median over the helper's, or -
	awk -F'\t' -v m="$1" -v d="$2" -v s="$3" -v c="$4" '
		$1 == "helper" && $2 == d && $3 == s { h = $c }
		$1 == m && $2 == d && $3 == s { v = $c }
		END { if (h + 0 > 0 && v != "" && v != "-") printf "%.2f", v / h; else printf "-" }' "$agg"
}

{
	echo "## Data plane: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(uname -srm), $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)); $note."
	awk -F, 'NR > 1 && $6 != "" && $5 == "fixed" {fx = $6} NR > 1 {r[$2] = 1}
		END {n = 0; for (k in r) n++; printf "Repeats: %d; fixed load: %s packets/s.\n", n, fx}' "$csv"
	echo
	for dir in $(cut -f2 "$agg" | awk '!s[$0]++'); do
		if [ "$dir" = out ]; then
			echo "### Inside host -> server (through the gateway's NAT, or routing only for plain)"
		else
			echo "### Server -> inside host"
		fi
		echo
		echo "| mode | payload | delivered pps, unlimited | x helper | loss % | CPU us/pkt at fixed load | x helper | over plain | loss % at fixed load | latency p50 / p99 us | runs |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
		awk -F'\t' -v d="$dir" '$2 == d' "$agg" | while IFS=$'\t' read -r mode _ size pps uloss _ cpu floss p50 p99 n status; do
			if [ "$status" != ok ]; then
				echo "| $mode | $size B | $status | | | | | | | | 0 |"
				continue
			fi
			printf '| %s | %s B | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n' \
				"$mode" "$size" "$(num 0 "$pps")" "$(ratio "$mode" "$dir" "$size" 4)" \
				"$(num 2 "$uloss")" "$(num 2 "$cpu")" "$(ratio "$mode" "$dir" "$size" 7)" \
				"$(over_plain "$mode" "$dir" "$size")" \
				"$(num 2 "$floss")" "$(num 0 "$p50")" "$(num 0 "$p99")" "$n"
		done
		echo
	done
	echo "Medians over the repeats.  *delivered pps*: packets that reached the receiving"
	echo "end's interface (read intact, or past a full receiver ring) per second of sending,"
	echo "the sender as fast as its socket goes; *loss*: 1 - delivered/sent."
	echo "*CPU us/pkt*: at the fixed load, the CPU time of the benchmark's processes and"
	echo "ksoftirqd (softirq work is charged to the task it interrupts), less their idle"
	echo "rate just before, per delivered packet: the sender, the receiver, the gateway"
	echo "and the kernel's path together, so modes compare (see bench/README.md); *over"
	echo "plain*: that less plain routing's, the cost of the gateway's translation."
	echo "*latency*: payload timestamp to the receiver reading it, at the fixed load; it"
	echo "includes the receiver's wakeup: compare with plain routing."
	echo
	echo "### Targets (issue 9), outbound"
	echo
	tgt() {  # tgt MODE MIN: delivered-rate ratio >= MIN for every size
		local mode=$1 min=$2 s r verdict=met txt=""
		for s in $(cut -f3 "$agg" | awk '!x[$0]++'); do
			r=$(ratio "$mode" out "$s" 4)
			txt="$txt ${s} B: $r;"
			if [ "$r" = - ]; then verdict=n/a
			elif [ "$verdict" != n/a ] && awk -v r="$r" -v m="$min" 'BEGIN {exit !(r < m)}'; then
				verdict="not met"
			fi
		done
		echo "- $mode: delivered rate >= ${min}x the helper's:$txt **$verdict**"
	}
	tgt fastpath 1.0
	local_cpu=met txt=""
	for s in $(cut -f3 "$agg" | awk '!x[$0]++'); do
		r=$(ratio fastpath out "$s" 7)
		txt="$txt ${s} B: $r;"
		if [ "$r" = - ]; then local_cpu=n/a
		elif [ "$local_cpu" != n/a ] && awk -v r="$r" 'BEGIN {exit !(r > 1.0)}'; then local_cpu="not met"; fi
	done
	echo "- fastpath: CPU per packet at fixed load <= the helper's (ratio):$txt **$local_cpu**"
	tgt queue 0.5
	tgt relay 0.3
	if [ -n "$cpmd" ] && [ -f "$cpmd" ]; then
		echo
		cat "$cpmd"
	fi
} >"$md"

# The chart: delivered pps (unlimited) and CPU us/pkt (fixed), outbound,
# one group of bars per mode, one bar per payload size.
if command -v gnuplot >/dev/null; then
	dat="$prefix.dat"
	sizes=$(cut -f3 "$agg" | awk '!x[$0]++' | tr '\n' ' ')
	{
		printf 'mode'
		for s in $sizes; do printf '\t%s B' "$s"; done
		for s in $sizes; do printf '\t%s B' "$s"; done
		echo
		for m in $(awk -F'\t' '$2 == "out" {print $1}' "$agg" | awk '!x[$0]++'); do
			printf '%s' "$m"
			for s in $sizes; do
				printf '\t%s' "$(awk -F'\t' -v m="$m" -v s="$s" '$1 == m && $2 == "out" && $3 == s {print ($4 == "-" ? 0 : $4 / 1000)}' "$agg")"
			done
			for s in $sizes; do
				printf '\t%s' "$(awk -F'\t' -v m="$m" -v s="$s" '$1 == m && $2 == "out" && $3 == s {print ($7 == "-" ? 0 : $7)}' "$agg")"
			done
			echo
		done
	} >"$dat"
	ns=$(echo "$sizes" | wc -w)
	gnuplot <<EOF 2>/dev/null || echo "report: gnuplot failed, no chart" >&2
set terminal pngcairo size 1100,450 noenhanced font ",10"
set output "$prefix.png"
set multiplot layout 1,2 title "pptpgw data plane, inside -> server, medians ($(date -u +%Y-%m-%d))"
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set key top right
set yrange [0:*]
set title "delivered, unlimited offered load (kpps)"
plot for [i=2:$((ns + 1))] "$dat" using i:xtic(1) title columnhead
set title "CPU per packet at $(awk -F, 'NR > 1 && $5 == "fixed" && $6 != "" {f = $6} END {print f}' "$csv") pps (us)"
plot for [i=$((ns + 2)):$((2 * ns + 1))] "$dat" using i:xtic(1) title columnhead
unset multiplot
EOF
	rm -f "$dat"
fi
rm -f "$agg"
cat "$md"
