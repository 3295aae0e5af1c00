# shellcheck shell=bash
# A throwaway Elasticsearch node for the tests: the integration-test distribution from Maven
# Central, run as an unprivileged user on 127.0.0.1, security off, stopped at the end.
#
# elasticsearch_start: fetches org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>
# with `mvn dependency:get` (Maven keeps it in ~/.m2), unpacks it once under
# ~/.cache/hub-test/elasticsearch-<version>, copies it to a fresh directory owned by the service
# user, starts it on the first free port from ELASTICSEARCH_FIRST_PORT, waits for a yellow or
# green cluster and exports HUB_TEST_ELASTICSEARCH_URL.
# elasticsearch_stop: stops the node and removes its directory; safe after a failed start.
#
# The distribution bundles no JDK: 8.x runs on OpenJDK 17, 9.x needs Java 21+ (Temurin). It
# refuses to run as root, so as root it runs as the system user `hubsearch`, created if missing.
# The integration-test distribution has only the core modules (no analysis-common, no painless):
# the hub's search needs nothing else.

# The newest integ-test-zip on Maven Central when this was written that runs on this machine's
# JDKs; override with ELASTICSEARCH_VERSION (the Python client's major must match).
ELASTICSEARCH_VERSION=${ELASTICSEARCH_VERSION:-8.19.21}
ELASTICSEARCH_FIRST_PORT=${ELASTICSEARCH_FIRST_PORT:-9241}
ELASTICSEARCH_PORT_ATTEMPTS=9
ELASTICSEARCH_HEAP=${ELASTICSEARCH_HEAP:-512m}
ELASTICSEARCH_START_TIMEOUT=${ELASTICSEARCH_START_TIMEOUT:-180}
ELASTICSEARCH_USER=${ELASTICSEARCH_USER:-hubsearch}

_ELASTICSEARCH_DIR=""
_ELASTICSEARCH_PID=""

_elasticsearch_java_home() {
	local major=${ELASTICSEARCH_VERSION%%.*} candidate
	if ((major >= 9)); then
		for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-21-jdk-amd64 \
			/usr/lib/jvm/java-21-openjdk-amd64; do
			[[ -x $candidate/bin/java ]] && {
				echo "$candidate"
				return 0
			}
		done
		return 1
	fi
	for candidate in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64; do
		[[ -x $candidate/bin/java ]] && {
			echo "$candidate"
			return 0
		}
	done
	return 1
}

# The unpacked distribution, fetched and unpacked on the first run only.
_elasticsearch_distribution() {
	local cache=${XDG_CACHE_HOME:-$HOME/.cache}/hub-test
	local home=$cache/elasticsearch-$ELASTICSEARCH_VERSION
	if [[ -x $home/bin/elasticsearch ]]; then
		echo "$home"
		return 0
	fi
	local artifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ELASTICSEARCH_VERSION:zip
	local zip=$HOME/.m2/repository/org/elasticsearch/distribution/integ-test-zip/elasticsearch
	zip=$zip/$ELASTICSEARCH_VERSION/elasticsearch-$ELASTICSEARCH_VERSION.zip
	if [[ ! -f $zip ]]; then
		command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Elasticsearch"
		log_info "fetching $artifact (mvn dependency:get)" >&2
		mvn -q -B dependency:get -Dartifact="$artifact" -Dtransitive=false >&2 ||
			die "mvn dependency:get $artifact failed"
	fi
	mkdir -p "$cache"
	local unpacking
	unpacking=$(mktemp -d "$cache/unpack.XXXXXX")
	unzip -q "$zip" -d "$unpacking" || die "unzip $zip failed"
	mv "$unpacking/elasticsearch-$ELASTICSEARCH_VERSION" "$home"
	rm -rf "$unpacking"
	echo "$home"
}

_elasticsearch_as_user() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u "$ELASTICSEARCH_USER" -- "$@"
	else
		"$@"
	fi
}

_elasticsearch_port_free() {
	python3 -c '
import socket, sys
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
' "$1"
}

_elasticsearch_health() {
	python3 -c '
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/_cluster/health", timeout=2) as answer:
        print(json.load(answer)["status"])
except Exception:
    print("unreachable")
' "$1"
}

_elasticsearch_fail() {
	log_error "$1; the end of its log:"
	tail -n 40 "$_ELASTICSEARCH_DIR"/home/logs/*.log "$_ELASTICSEARCH_DIR/stdout.log" 2>/dev/null >&2 || true
	die "Elasticsearch did not start"
}

elasticsearch_start() {
	local java_home distribution
	java_home=$(_elasticsearch_java_home) ||
		die "no JDK for Elasticsearch $ELASTICSEARCH_VERSION under /usr/lib/jvm"
	distribution=$(_elasticsearch_distribution)
	if [[ $EUID -eq 0 ]] && ! id "$ELASTICSEARCH_USER" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin "$ELASTICSEARCH_USER" ||
			die "could not create the user $ELASTICSEARCH_USER"
	fi
	_ELASTICSEARCH_DIR=$(mktemp -d /tmp/hub-test-elasticsearch.XXXXXX)
	# A private copy: the node writes into its config directory (keystore) and must own it.
	cp -a "$distribution" "$_ELASTICSEARCH_DIR/home"
	mkdir -p "$_ELASTICSEARCH_DIR/data"
	if [[ $EUID -eq 0 ]]; then
		chown -R "$ELASTICSEARCH_USER:" "$_ELASTICSEARCH_DIR"
	fi

	local port
	for ((port = ELASTICSEARCH_FIRST_PORT; port < ELASTICSEARCH_FIRST_PORT + ELASTICSEARCH_PORT_ATTEMPTS; port++)); do
		_elasticsearch_port_free "$port" && _elasticsearch_port_free $((port + 100)) && break
	done
	((port < ELASTICSEARCH_FIRST_PORT + ELASTICSEARCH_PORT_ATTEMPTS)) ||
		die "no free port for Elasticsearch in $ELASTICSEARCH_FIRST_PORT..$((port - 1))"

	cat >"$_ELASTICSEARCH_DIR/home/config/elasticsearch.yml" <<-YML
		# scripts/lib/elasticsearch.sh: a private, disposable test node
		cluster.name: hub-test
		node.name: hub-test
		discovery.type: single-node
		network.host: 127.0.0.1
		http.port: $port
		transport.port: $((port + 100))
		path.data: $_ELASTICSEARCH_DIR/data
		xpack.security.enabled: false
		cluster.routing.allocation.disk.threshold_enabled: false
		action.destructive_requires_name: false
	YML
	if [[ $EUID -eq 0 ]]; then
		chown "$ELASTICSEARCH_USER:" "$_ELASTICSEARCH_DIR/home/config/elasticsearch.yml"
	fi

	local url=http://127.0.0.1:$port
	_elasticsearch_as_user env ES_JAVA_HOME="$java_home" \
		ES_JAVA_OPTS="-Xms$ELASTICSEARCH_HEAP -Xmx$ELASTICSEARCH_HEAP" \
		"$_ELASTICSEARCH_DIR/home/bin/elasticsearch" -d -p "$_ELASTICSEARCH_DIR/pid" \
		>"$_ELASTICSEARCH_DIR/stdout.log" 2>&1 || _elasticsearch_fail "the node exited at once"
	_ELASTICSEARCH_PID=$(cat "$_ELASTICSEARCH_DIR/pid" 2>/dev/null || true)

	local waited=0 health
	while ((waited < ELASTICSEARCH_START_TIMEOUT)); do
		health=$(_elasticsearch_health "$url")
		if [[ $health == green || $health == yellow ]]; then
			export HUB_TEST_ELASTICSEARCH_URL=$url
			log_info "Elasticsearch $ELASTICSEARCH_VERSION ($health) on $url," \
				"Java $(basename "$java_home"), data in $_ELASTICSEARCH_DIR"
			return 0
		fi
		if [[ -n $_ELASTICSEARCH_PID ]] && ! kill -0 "$_ELASTICSEARCH_PID" 2>/dev/null; then
			_elasticsearch_fail "the node (pid $_ELASTICSEARCH_PID) exited"
		fi
		sleep 1
		waited=$((waited + 1))
	done
	_elasticsearch_fail "no yellow or green health in ${ELASTICSEARCH_START_TIMEOUT}s"
}

elasticsearch_stop() {
	[[ -n $_ELASTICSEARCH_DIR ]] || return 0
	if [[ -z $_ELASTICSEARCH_PID ]]; then
		_ELASTICSEARCH_PID=$(cat "$_ELASTICSEARCH_DIR/pid" 2>/dev/null || true)
	fi
	if [[ -n $_ELASTICSEARCH_PID ]] && kill -0 "$_ELASTICSEARCH_PID" 2>/dev/null; then
		kill "$_ELASTICSEARCH_PID"
		local waited=0
		while kill -0 "$_ELASTICSEARCH_PID" 2>/dev/null && ((waited < 30)); do
			sleep 1
			waited=$((waited + 1))
		done
		if kill -0 "$_ELASTICSEARCH_PID" 2>/dev/null; then
			log_error "Elasticsearch did not stop in 30s: killing pid $_ELASTICSEARCH_PID"
			kill -9 "$_ELASTICSEARCH_PID" 2>/dev/null || true
		fi
	fi
	rm -rf "$_ELASTICSEARCH_DIR"
	log_info "Elasticsearch stopped, $_ELASTICSEARCH_DIR removed"
	_ELASTICSEARCH_DIR=""
	_ELASTICSEARCH_PID=""
	unset HUB_TEST_ELASTICSEARCH_URL
}
