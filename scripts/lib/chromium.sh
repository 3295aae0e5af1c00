# shellcheck shell=bash
# The browser of the portal's browser tests (tests/portal/test_browser.py): Debian's headless
# Chromium and its chromedriver, a CJK font so that Chinese pages render (and screenshot) as
# readers see them, and axe-core at the exact version of tests/portal/package-lock.json.
#
# chromium_start: installs the Debian packages chromium, chromium-driver, fonts-noto-cjk and
# fonts-wqy-zenhei (the TrueType font of credit reports, which tests/portal/test_reports.py
# makes; see scripts/lib/fonts.sh) with apt-get when one is missing; runs `npm ci` in tests/portal when node_modules is missing
# or was installed from another lock (npm prefers its cache, ~/.npm, so a machine that
# installed it once needs no network); exports HUB_TEST_CHROMIUM, HUB_TEST_CHROMEDRIVER and
# HUB_TEST_SCREENSHOTS (a fresh directory for the pages' screenshots, kept after the run so a
# person can look at them; printed here and in pytest's summary).
# chromium_stop: nothing to stop; the tests start and stop their own browser and hub.

CHROMIUM_PACKAGES=(chromium chromium-driver fonts-noto-cjk fonts-wqy-zenhei)
CHROMIUM_SCREENSHOTS=${CHROMIUM_SCREENSHOTS:-/tmp/hub-portal-screenshots}

_chromium_dir() {
	printf '%s/tests/portal' "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
}

_chromium_missing() {
	local package
	for package in "${CHROMIUM_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
			printf '%s\n' "$package"
	done
}

_chromium_install() {
	local missing=("$@")
	[[ $EUID -eq 0 ]] || die "missing Debian packages: ${missing[*]} (install them with apt-get)"
	log_info "installing ${missing[*]} (apt-get install)"
	local log
	log=$(mktemp)
	if ! {
		apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	} >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "installing ${missing[*]} failed"
	fi
	rm -f "$log"
}

chromium_start() {
	local missing
	mapfile -t missing < <(_chromium_missing)
	if ((${#missing[@]} > 0)); then
		_chromium_install "${missing[@]}"
	fi
	[[ -x /usr/bin/chromium ]] || die "no /usr/bin/chromium after install"
	[[ -x /usr/bin/chromedriver ]] || die "no /usr/bin/chromedriver after install"
	export HUB_TEST_CHROMIUM=/usr/bin/chromium
	export HUB_TEST_CHROMEDRIVER=/usr/bin/chromedriver

	command -v node >/dev/null || die "Node.js is needed to install axe-core for the browser tests"
	local dir stamp wanted
	dir=$(_chromium_dir)
	stamp=$dir/node_modules/.scripts-test-install
	wanted="$(node --version) $(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
	if [[ ! -f $stamp || "$(<"$stamp")" != "$wanted" ]]; then
		log_info "npm ci in tests/portal (axe-core)"
		local log
		log=$(mktemp)
		if ! (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund) >"$log" 2>&1; then
			cat "$log" >&2
			rm -f "$log"
			die "npm ci failed in tests/portal"
		fi
		rm -f "$log"
		printf '%s\n' "$wanted" >"$stamp"
	fi

	rm -rf "$CHROMIUM_SCREENSHOTS"
	mkdir -p "$CHROMIUM_SCREENSHOTS"
	export HUB_TEST_SCREENSHOTS=$CHROMIUM_SCREENSHOTS
	log_info "$(/usr/bin/chromium --version 2>/dev/null), $(/usr/bin/chromedriver --version | cut -d' ' -f1-2)," \
		"axe-core $(node -p "require('$dir/node_modules/axe-core/package.json').version")"
	log_info "screenshots of the portal's pages go to $CHROMIUM_SCREENSHOTS"
}

chromium_stop() {
	return 0
}
