# shellcheck shell=bash
# A throwaway Redis server for the tests (shared rate-limit budgets), never the machine's own.
#
# redis_start: installs the Debian package if redis-server is missing, starts a server with its
# config, pid file, log and working directory in a fresh temporary directory, listening on
# 127.0.0.1 only on the first free port from REDIS_FIRST_PORT up, and exports
# HUB_TEST_REDIS_URL.
# redis_stop: stops the server and removes the directory.
#
# As root, the server runs as the `redis` system user that the Debian package creates: a
# server the tests reach needs no privileges. Nothing is persisted (no RDB snapshots, no AOF):
# the data is thrown away at the end.

REDIS_FIRST_PORT=${REDIS_FIRST_PORT:-56379}
REDIS_PORT_ATTEMPTS=100

_REDIS_DIR=""
_REDIS_PORT=""

_redis_install() {
	[[ $EUID -eq 0 ]] || die "Redis is not installed: install the Debian package redis-server"
	log_info "installing Redis (apt-get install redis-server)"
	local log
	log=$(mktemp)
	if ! {
		apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server
	} >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "installing Redis failed"
	fi
	rm -f "$log"
}

# Runs a command as the owner of the server's files.
_redis_as_owner() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u redis -- "$@"
	else
		"$@"
	fi
}

_redis_port_free() {
	python3 -c '
import socket, sys
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
' "$1"
}

# Waits until the server on $1 answers PING (0), or its log says it could not listen (1), or
# 30 s pass (2).
_redis_wait() {
	local port=$1 log=$2 i
	for ((i = 0; i < 300; i++)); do
		if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then
			return 0
		fi
		if grep -q 'Could not create server TCP listening socket' "$log" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	return 2
}

redis_start() {
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		_redis_install
		command -v redis-server >/dev/null || die "no redis-server on PATH after install"
	fi
	_REDIS_DIR=$(mktemp -d /tmp/hub-test-redis.XXXXXX)
	if [[ $EUID -eq 0 ]]; then
		chown redis: "$_REDIS_DIR"
	fi

	local port log status
	for ((port = REDIS_FIRST_PORT; port < REDIS_FIRST_PORT + REDIS_PORT_ATTEMPTS; port++)); do
		_redis_port_free "$port" || continue
		log=$_REDIS_DIR/server-$port.log
		cat >"$_REDIS_DIR/redis.conf" <<-CONF
			# scripts/lib/redis.sh: a private, disposable test server
			bind 127.0.0.1
			port $port
			protected-mode yes
			daemonize yes
			pidfile $_REDIS_DIR/redis.pid
			logfile $log
			dir $_REDIS_DIR
			save ""
			appendonly no
		CONF
		_redis_as_owner redis-server "$_REDIS_DIR/redis.conf" || die "redis-server did not start"
		status=0
		_redis_wait "$port" "$log" || status=$?
		if ((status == 0)); then
			_REDIS_PORT=$port
			export HUB_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
			log_info "Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2)" \
				"on 127.0.0.1:$port, files in $_REDIS_DIR"
			return 0
		fi
		if ((status == 2)); then
			cat "$log" >&2 || true
			die "Redis did not answer on 127.0.0.1:$port in 30 s"
		fi
		# Another process took the port between the check and the start: try the next one.
	done
	die "no free port for Redis in $REDIS_FIRST_PORT..$((port - 1))"
}

redis_stop() {
	[[ -n $_REDIS_DIR ]] || return 0
	local pidfile=$_REDIS_DIR/redis.pid pid="" i
	if [[ -f $pidfile ]]; then
		pid=$(<"$pidfile")
	fi
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log_error "Redis (pid $pid) did not stop in 10 s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
	fi
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		log_error "Redis (pid $pid) still runs: keeping $_REDIS_DIR"
		return 1
	fi
	rm -rf "$_REDIS_DIR"
	log_info "Redis stopped, $_REDIS_DIR removed"
	_REDIS_DIR=""
	_REDIS_PORT=""
	unset HUB_TEST_REDIS_URL
}
