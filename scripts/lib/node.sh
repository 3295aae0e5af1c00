# shellcheck shell=bash
# The Node packages of the federation tests: @apollo/composition, @apollo/gateway and
# @graphql-inspector/cli, at the exact versions of tests/federation/package-lock.json.
#
# node_start: checks for Node 20 or newer and runs `npm ci` in tests/federation when
# node_modules is missing or was installed from another lock; the second run costs nothing.
# npm prefers its cache (~/.npm), so a machine that installed them once needs no network.
# node_stop: nothing to stop; the tests start and stop their own Node processes.

NODE_MIN_MAJOR=20

_node_dir() {
	printf '%s/tests/federation' "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
}

node_start() {
	command -v node >/dev/null || die "Node.js $NODE_MIN_MAJOR or newer is needed for the federation tests"
	local major
	major=$(node -p 'process.versions.node.split(".")[0]')
	((major >= NODE_MIN_MAJOR)) || die "Node.js $NODE_MIN_MAJOR or newer is needed, found $(node --version)"
	local dir stamp wanted
	dir=$(_node_dir)
	stamp=$dir/node_modules/.scripts-test-install
	wanted="$(node --version) $(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
	if [[ -f $stamp && "$(<"$stamp")" == "$wanted" ]]; then
		log_info "Node $(node --version), packages up to date (package-lock.json unchanged)"
		return 0
	fi
	log_info "Node $(node --version): npm ci in tests/federation"
	local log
	log=$(mktemp)
	if ! (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund) >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "npm ci failed in tests/federation"
	fi
	rm -f "$log"
	printf '%s\n' "$wanted" >"$stamp"
}

node_stop() {
	return 0
}
