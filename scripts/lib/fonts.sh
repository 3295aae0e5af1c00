# shellcheck shell=bash
# The font of credit reports (/reports/{uscc}.pdf): Debian's fonts-wqy-zenhei, a TrueType CJK
# font that ReportLab embeds (fonts-noto-cjk is CFF, which it cannot). scripts/serve calls
# report_font_ensure; scripts/test gets the font through scripts/lib/chromium.sh.
#
# report_font_ensure: installs the package with apt-get when it is missing and this is root.
# Otherwise it says what to install and carries on: the hub serves every other page without
# the font, and /reports answers 503 naming the package.

REPORT_FONT_PACKAGE=fonts-wqy-zenhei

report_font_ensure() {
	if dpkg-query -W -f='${Status}' "$REPORT_FONT_PACKAGE" 2>/dev/null | grep -q 'install ok installed'; then
		return 0
	fi
	if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
		log_error "credit reports need the Debian package $REPORT_FONT_PACKAGE:" \
			"sudo apt-get install $REPORT_FONT_PACKAGE (the hub starts without it)"
		return 0
	fi
	log_info "installing $REPORT_FONT_PACKAGE for credit reports (apt-get install)"
	local log
	log=$(mktemp)
	if ! {
		apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$REPORT_FONT_PACKAGE"
	} >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "installing $REPORT_FONT_PACKAGE failed"
	fi
	rm -f "$log"
}
