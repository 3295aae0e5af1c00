# shellcheck shell=bash
# A throwaway PostgreSQL server for the tests, never the machine's own cluster.
#
# postgres_start: installs the Debian package if no server binaries exist, runs initdb in a fresh
# temporary directory (data, unix socket and log all inside it), listens on 127.0.0.1 only on the
# first free port from POSTGRES_FIRST_PORT up, and exports HUB_TEST_POSTGRES_URL.
# postgres_stop: stops the server and removes the directory.
#
# As root, the server runs as the `postgres` system user: PostgreSQL refuses to run as root, and
# the tests should not need it. Durability is off (fsync, synchronous_commit, full_page_writes):
# the data is thrown away at the end, so crash safety buys nothing but slower tests.

POSTGRES_FIRST_PORT=${POSTGRES_FIRST_PORT:-54329}
POSTGRES_PORT_ATTEMPTS=100

_POSTGRES_DIR=""
_POSTGRES_BIN=""

_postgres_find_bin() {
	local initdb
	initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
	[[ -x $initdb ]] || return 1
	dirname "$initdb"
}

_postgres_install() {
	[[ $EUID -eq 0 ]] || die "PostgreSQL is not installed: install the Debian package postgresql"
	log_info "installing PostgreSQL (apt-get install postgresql)"
	local log
	log=$(mktemp)
	if ! {
		apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
	} >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "installing PostgreSQL failed"
	fi
	rm -f "$log"
}

# Runs a command as the owner of the server's files.
_postgres_as_owner() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

_postgres_port_free() {
	python3 -c '
import socket, sys
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
' "$1"
}

postgres_start() {
	if ! _POSTGRES_BIN=$(_postgres_find_bin); then
		_postgres_install
		_POSTGRES_BIN=$(_postgres_find_bin) || die "no initdb under /usr/lib/postgresql after install"
	fi
	# /tmp rather than $TMPDIR: the postgres user must be able to reach it, and the socket path
	# must stay under the 107 bytes a unix socket name may have.
	_POSTGRES_DIR=$(mktemp -d /tmp/hub-test-postgres.XXXXXX)
	if [[ $EUID -eq 0 ]]; then
		chown postgres: "$_POSTGRES_DIR"
	fi
	local data=$_POSTGRES_DIR/data
	if ! _postgres_as_owner "$_POSTGRES_BIN/initdb" --pgdata="$data" --username=postgres \
		--auth=trust --encoding=UTF8 --no-locale --no-sync --no-instructions \
		>"$_POSTGRES_DIR/initdb.log" 2>&1; then
		cat "$_POSTGRES_DIR/initdb.log" >&2
		die "initdb failed"
	fi
	cat >>"$data/postgresql.conf" <<-CONF

		# scripts/lib/postgres.sh: a private, disposable test server
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$_POSTGRES_DIR'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	CONF

	local port log
	for ((port = POSTGRES_FIRST_PORT; port < POSTGRES_FIRST_PORT + POSTGRES_PORT_ATTEMPTS; port++)); do
		_postgres_port_free "$port" || continue
		log=$_POSTGRES_DIR/server-$port.log
		if _postgres_as_owner "$_POSTGRES_BIN/pg_ctl" --pgdata="$data" --log="$log" \
			--options="-p $port" --wait --timeout=60 start >/dev/null; then
			export HUB_TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
			log_info "PostgreSQL $("$_POSTGRES_BIN/postgres" --version | awk '{print $3}')" \
				"on 127.0.0.1:$port, data in $data"
			return 0
		fi
		# Another process took the port between the check and the start: try the next one.
		if ! grep -q 'could not bind' "$log" 2>/dev/null; then
			cat "$log" >&2 || true
			die "PostgreSQL did not start"
		fi
	done
	die "no free port for PostgreSQL in $POSTGRES_FIRST_PORT..$((port - 1))"
}

postgres_stop() {
	[[ -n $_POSTGRES_DIR ]] || return 0
	local data=$_POSTGRES_DIR/data
	if [[ -f $data/postmaster.pid ]]; then
		if ! _postgres_as_owner "$_POSTGRES_BIN/pg_ctl" --pgdata="$data" --mode=fast --wait \
			--timeout=30 stop >/dev/null; then
			log_error "PostgreSQL did not stop in 30s: stopping it with --mode=immediate"
			_postgres_as_owner "$_POSTGRES_BIN/pg_ctl" --pgdata="$data" --mode=immediate --wait \
				stop >/dev/null || true
		fi
	fi
	if [[ -f $data/postmaster.pid ]]; then
		log_error "PostgreSQL (pid $(head -n 1 "$data/postmaster.pid")) still runs: keeping $_POSTGRES_DIR"
		return 1
	fi
	rm -rf "$_POSTGRES_DIR"
	log_info "PostgreSQL stopped, $_POSTGRES_DIR removed"
	_POSTGRES_DIR=""
	unset HUB_TEST_POSTGRES_URL
}
