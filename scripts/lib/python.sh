# shellcheck shell=bash
# The project's virtualenv: .venv at the repository root, the pinned dependencies installed.

# Creates .venv when missing and installs the project with the pins of constraints.txt; skipped
# when pyproject.toml, constraints.txt and the Python version are what the last install saw, so
# a second run costs nothing. Puts the venv first on PATH for the steps that follow.
python_env() {
	local root=$1
	local venv=$root/.venv
	local stamp=$venv/.scripts-test-install
	if [[ ! -x $venv/bin/python ]]; then
		log_info "creating $venv"
		python3 -m venv "$venv"
	fi
	local wanted
	wanted="$("$venv/bin/python" --version) $(cd "$root" && sha256sum pyproject.toml constraints.txt)"
	if [[ -f $stamp && "$(<"$stamp")" == "$wanted" ]]; then
		log_info "dependencies up to date (pyproject.toml and constraints.txt unchanged)"
	else
		log_info "installing the project with constraints.txt"
		(cd "$root" && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
			--no-input -c constraints.txt -e ".[dev]")
		printf '%s\n' "$wanted" >"$stamp"
	fi
	export VIRTUAL_ENV=$venv
	export PATH=$venv/bin:$PATH
	unset PYTHONHOME
}
