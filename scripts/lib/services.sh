# shellcheck shell=bash
# Test services: each one is scripts/lib/<name>.sh defining <name>_start and <name>_stop.
#
# <name>_start exports whatever the tests need to reach the service (an URL in a HUB_TEST_*
# variable); <name>_stop must be safe to call after a failed or partial start, and twice.
# services_stop stops them in reverse order; scripts/test calls it from its EXIT trap.

_SERVICES_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_SERVICES_STARTED=()

services_start() {
	local name
	for name in "$@"; do
		# shellcheck source=/dev/null
		source "$_SERVICES_LIB_DIR/$name.sh"
		# Registered before starting, so that a start failing half-way is still cleaned up.
		_SERVICES_STARTED+=("$name")
		log_step "start $name"
		local started_at=$SECONDS
		"${name}_start"
		log_info "$name ready in $((SECONDS - started_at))s"
	done
}

services_stop() {
	local i
	for ((i = ${#_SERVICES_STARTED[@]} - 1; i >= 0; i--)); do
		"${_SERVICES_STARTED[i]}_stop" || log_error "stopping ${_SERVICES_STARTED[i]} failed"
	done
	_SERVICES_STARTED=()
}
