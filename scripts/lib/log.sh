# shellcheck shell=bash
# Output helpers shared by scripts/test and the service scripts beside this file.

# A banner that stands out in a long CI log, so each step is easy to find.
log_step() {
	printf '\n\033[1m==> %s\033[0m\n' "$*"
}

log_info() {
	printf '    %s\n' "$*"
}

log_error() {
	printf '\033[31merror:\033[0m %s\n' "$*" >&2
}

die() {
	log_error "$*"
	exit 1
}
