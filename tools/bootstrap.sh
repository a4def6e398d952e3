#!/usr/bin/env bash
# Locatietoets: set up the environment and run the demo or the test suite.
#
#   bash tools/bootstrap.sh demo [ARGS...]   venv (no QGIS) + `locatietoets demo --out demo-uitvoer ARGS`
#   bash tools/bootstrap.sh test [ARGS...]   QGIS (apt, when root) + venv + `ruff check .` + pytest ARGS
#   bash tools/bootstrap.sh lint [ARGS...]   venv + `ruff check . ARGS` (config in pyproject.toml)
#   bash tools/bootstrap.sh venv             only create/reuse the venv and print its path
#   bash tools/bootstrap.sh venv-path        print the venv path for the current pins, build nothing
#
# `make demo` / `make test` call this script; .ci/run calls `make test`.
#
# The venv lives in ~/.cache/locatietoets/venv-<hash>, the hash taken over requirements/*.txt
# (what is installed: the exact pins) and the interpreter, so a change to any pin rebuilds it and
# an unchanged one is reused, also across clones. The checkout is installed editable
# (`pip install --no-deps -e .`) as the package `locatietoets` (locatietoets.analysis = analysis/,
# ...); when the venv's `locatietoets` is another clone's, or pyproject.toml changed since, it is
# installed again (seconds; a fresh CI clone reusing the venv tests its own code). PYTHONPATH=<checkout> gives no `locatietoets`; tests/conftest.py
# also makes `locatietoets` the tests' own checkout, whichever clone the venv points at.
# It is made by Debian's /usr/bin/python3 with --system-site-packages so that pytest can import
# PyQGIS (python3-qgis) beside the engine's pinned PyPI wheels ("wheel mode", see
# shared/docs/qgis-env-notes.md); everything pinned is installed into the venv with
# --upgrade-strategy eager so no Debian numpy-1 build (e.g. matplotlib) leaks in.
#
# Environment overrides: LOCATIETOETS_VENV (venv path), LOCATIETOETS_PYTHON (base interpreter),
# LOCATIETOETS_CACHE (default ~/.cache/locatietoets).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

T0=$(date +%s)
log()  { echo "[locatietoets] $*"; }
step() { echo "[locatietoets] $1 (+$(( $(date +%s) - T0 ))s)"; }
die()  { echo "[locatietoets] FOUT: $*" >&2; exit 1; }

QGIS_APT_PKGS=(qgis python3-qgis qgis-providers)
CACHE=${LOCATIETOETS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/locatietoets}

is_root() { [ "$(id -u)" -eq 0 ]; }
have()    { command -v "$1" >/dev/null 2>&1; }

# Run apt-get as root (or through passwordless sudo); returns 1 when neither is possible.
as_root() {
  if is_root; then "$@"
  elif have sudo && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}
can_root() { is_root || { have sudo && sudo -n true 2>/dev/null; }; }

APT_UPDATED=0
apt_install() {   # apt_install PKG...  (non-interactive, no recommends)
  export DEBIAN_FRONTEND=noninteractive APT_LISTCHANGES_FRONTEND=none
  if [ "$APT_UPDATED" = 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  local wrap=()
  if have eatmydata; then wrap=(eatmydata); fi
  as_root "${wrap[@]}" apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >/dev/null
}

# ---------------------------------------------------------------- base interpreter
pick_python() {
  if [ -n "${LOCATIETOETS_PYTHON:-}" ]; then PY=$LOCATIETOETS_PYTHON
  elif [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3     # Debian's: the one python3-qgis is built for
  elif have python3; then PY=$(command -v python3)
  else
    if have apt-get && can_root; then apt_install python3 python3-venv; PY=/usr/bin/python3
    else die "geen python3 gevonden; installeer Python 3.11 of nieuwer"; fi
  fi
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PY is ouder dan Python 3.11"
  # Debian splits venv/ensurepip off into python3-venv.
  if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$PY" = /usr/bin/python3 ] && have apt-get && can_root; then
      step "apt: python3-venv installeren"
      apt_install python3-venv
    else
      die "$PY kan geen venv maken; installeer het pakket python3-venv (sudo apt-get install python3-venv)"
    fi
  fi
  # Only Debian's interpreter gets the system site-packages (for PyQGIS).
  SYS_SITE=()
  if [ "$PY" = /usr/bin/python3 ]; then SYS_SITE=(--system-site-packages); fi
}

# ---------------------------------------------------------------- venv
REQ_FILES=(requirements/engine.txt requirements/test.txt)

venv_key() {
  { for f in requirements/*.txt; do echo "== $f"; cat "$f"; done
    "$PY" -c 'import sys; print(sys.executable, sys.version)'; echo "${SYS_SITE[*]:-}"
    echo "bootstrap-v2"; } | sha256sum | cut -c1-12
}

# pip in the venv, minus the noise of this image's pip.conf (an extra index folder that may be absent).
pip_quiet() {
  "$VENV/bin/python" -m pip --quiet "$@" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

ensure_venv() {
  pick_python
  VENV=${LOCATIETOETS_VENV:-$CACHE/venv-$(venv_key)}
  mkdir -p "$(dirname "$VENV")"
  # One builder at a time per venv; others wait and then reuse it.
  local locked=0
  if have flock && { : >>"$VENV.lock"; } 2>/dev/null; then
    exec 9>>"$VENV.lock"; locked=1
    if ! flock -n 9; then log "wacht op een andere build van $VENV ..."; flock 9; fi
  fi
  if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.complete" ]; then
    step "venv: hergebruikt $VENV"
  else
    # Only ever delete a half-built venv of our own (never one made by hand, e.g. venv-dev).
    if [ -e "$VENV" ] && [ -n "$(ls -A "$VENV" 2>/dev/null)" ] && [ ! -f "$VENV/.locatietoets-bootstrap" ]; then
      die "$VENV bestaat al en is niet door tools/bootstrap.sh gemaakt; kies een ander LOCATIETOETS_VENV"
    fi
    rm -rf "$VENV"
    log "venv bouwen in $VENV (eerste keer ~1 min; pip-cache in ${PIP_CACHE_DIR:-~/.cache/pip})"
    "$PY" -m venv "${SYS_SITE[@]}" "$VENV"
    touch "$VENV/.locatietoets-bootstrap"
    step "venv: aangemaakt met $PY ${SYS_SITE[*]:-}"
    # Eager: every dependency goes into the venv, even when a Debian copy in the system
    # site-packages would satisfy it (Debian's matplotlib/attrs break with numpy 2 / affine 3).
    pip_quiet install --upgrade --upgrade-strategy eager -r requirements/test.txt
    step "venv: pip install -r requirements/test.txt"
    fix_mpl_toolkits
    "$VENV/bin/python" -c 'import numpy, pandas, shapely, pyproj, pyogrio, geopandas, rasterio, matplotlib, osmnx
pyproj.CRS("EPSG:28992")' || die "de venv is gebouwd maar de geo-stack laadt niet; zie hierboven"
    touch "$VENV/.complete"
    step "venv: klaar"
  fi
  ensure_editable
  if [ "$locked" = 1 ]; then flock -u 9; exec 9>&-; fi
  export PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV"
}

# Where the venv's `locatietoets` comes from (folder of locatietoets.scripts), "" when not importable.
installed_checkout() {
  (cd / && PYTHONPATH= "$VENV/bin/python" -c '
import os, locatietoets.scripts as m
print(os.path.realpath(os.path.dirname(os.path.dirname(m.__file__))))' 2>/dev/null) || true
}

# The venv is shared by all clones with the same pins: (re)install this checkout editable when
# the venv's `locatietoets` is missing, another clone's, or installed from another pyproject.toml
# (package list, entry points).
ensure_editable() {
  local where here stamp want
  where=$(installed_checkout)
  here=$(cd "$REPO" && pwd -P)
  stamp="$VENV/.locatietoets-editable"
  want="$here $(sha256sum < pyproject.toml | cut -c1-12)"
  if [ "$where" != "$here" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    step "venv: locatietoets ${where:+uit $where }opnieuw installeren vanuit $REPO (pip install --no-deps -e .)"
    pip_quiet install --no-deps -e .
    where=$(installed_checkout)
    [ "$where" = "$here" ] || die "na 'pip install -e .' komt locatietoets uit '${where:-niets}' in plaats van $REPO"
    echo "$want" > "$stamp"
  fi
}

# Debian's matplotlib-*-nspkg.pth (pulled in by QGIS) pins the namespace package mpl_toolkits
# to Debian's copy, so the venv's matplotlib warns "Unable to import Axes3D". Import the venv's
# mpl_toolkits first (venv .pth files run before the system ones); Debian's path then goes after it.
fix_mpl_toolkits() {
  [ ${#SYS_SITE[@]} -gt 0 ] || return 0
  local site
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  [ -d "$site/mpl_toolkits" ] || return 0
  echo "import mpl_toolkits  # locatietoets: venv's mpl_toolkits before Debian's nspkg.pth" \
    > "$site/00-locatietoets-mpl_toolkits.pth"
}

# ---------------------------------------------------------------- QGIS (tests only)
qgis_importable() { [ -x /usr/bin/python3 ] && QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1; }

ensure_qgis() {
  QGIS_OK=0
  if qgis_importable; then
    QGIS_OK=1
    step "QGIS: aanwezig ($(dpkg-query -W -f='${Version}' qgis 2>/dev/null || echo '?'))"
    return
  fi
  if [ "${LOCATIETOETS_NO_APT:-}" != 1 ] && have apt-get && [ -x /usr/bin/python3 ] && can_root; then
    log "QGIS ontbreekt: installeren met apt-get (${QGIS_APT_PKGS[*]}; ~1,5 min, ~1,3 GB)"
    export DEBIAN_FRONTEND=noninteractive
    apt_install eatmydata || true          # ~20 s faster dpkg; harmless when unavailable
    apt_install "${QGIS_APT_PKGS[@]}"
    qgis_importable || die "QGIS is geïnstalleerd maar 'import qgis.core' faalt in /usr/bin/python3"
    QGIS_OK=1
    step "QGIS: geïnstalleerd ($(dpkg-query -W -f='${Version}' qgis))"
  else
    cat >&2 <<MSG
[locatietoets] LET OP: QGIS (PyQGIS) is niet geïnstalleerd, dus de QGIS-tests worden overgeslagen.
[locatietoets] Installeer het op Debian/Ubuntu met:
[locatietoets]     sudo apt-get update && sudo apt-get install -y --no-install-recommends ${QGIS_APT_PKGS[*]}
[locatietoets] en draai daarna 'make test' opnieuw.
MSG
    if [ "${CI:-}" = true ]; then die "in CI moet QGIS beschikbaar zijn (draai als root)"; fi
  fi
}

# pdftotext (poppler-utils) reads the report PDF back as text in tests/test_publish.py; without it
# that test is skipped, so `test` installs it where apt and root are at hand (~5 s, ~1 MB).
ensure_pdftotext() {
  have pdftotext && return
  if [ "${LOCATIETOETS_NO_APT:-}" != 1 ] && have apt-get && can_root; then
    apt_install poppler-utils && step "pdftotext: geïnstalleerd (poppler-utils)" && return
  fi
  log "pdftotext ontbreekt (pakket poppler-utils): de test die het rapport-PDF als tekst leest wordt overgeslagen"
}

# ---------------------------------------------------------------- lint
# RUFF_GATE=1: findings fail `test` (before pytest runs; `ruff check --fix .` and `ruff format .`
# fix most). 0 would only print and count them.
RUFF_GATE=1

run_ruff() {   # run_ruff ARGS...  -> ruff's exit code
  if ! have ruff; then
    [ "$RUFF_GATE" = 1 ] || { log "LET OP: ruff ontbreekt in $VENV; lint overgeslagen"; return 0; }
    die "ruff ontbreekt in $VENV (requirements/test.txt); verwijder de venv en draai opnieuw"
  fi
  step "ruff: ruff check . $*"
  local rc=0
  ruff check . "$@" || rc=$?
  return $rc
}

# ---------------------------------------------------------------- commands
cmd=${1:-}; shift || true
case "$cmd" in
  venv)
    ensure_venv
    echo "$VENV"
    ;;
  venv-path)   # where the venv for the current pins is (or would be); builds nothing
    pick_python >/dev/null
    echo "${LOCATIETOETS_VENV:-$CACHE/venv-$(venv_key)}"
    ;;
  demo)
    ensure_venv
    have locatietoets || die "het commando 'locatietoets' ontbreekt in $VENV/bin (pyproject [project.scripts])"
    out=()
    # Default output folder unless the caller passes --out.
    case " $* " in *" --out "*|*" --out="*) ;; *) out=(--out demo-uitvoer) ;; esac
    step "demo: locatietoets demo ${out[*]} $*"
    set +e; locatietoets demo "${out[@]}" "$@"; rc=$?; set -e
    step "demo: klaar (exit $rc)"
    exit $rc
    ;;
  lint)
    ensure_venv
    run_ruff "$@"
    ;;
  test)
    ensure_qgis
    ensure_pdftotext
    ensure_venv
    lint_args=(); [ "$RUFF_GATE" = 1 ] || lint_args=(--statistics)
    if ! run_ruff "${lint_args[@]}"; then
      if [ "$RUFF_GATE" = 1 ]; then
        die "ruff vond problemen (zie hierboven); herstel ze, bv. met 'ruff check --fix .', en draai opnieuw"
      fi
      log "LET OP: ruff vond problemen (nog niet blokkerend, RUFF_GATE=0 in tools/bootstrap.sh)"
    fi
    export QT_QPA_PLATFORM=offscreen
    export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}
    mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR" 2>/dev/null || true
    extra=()
    # pytest-qgis imports qgis at load time: without QGIS, leave the plugin out so the rest runs.
    if [ "$QGIS_OK" = 0 ]; then extra=(-p no:pytest_qgis); fi
    step "pytest: python -m pytest -p no:cacheprovider ${extra[*]} $*"
    set +e
    python -m pytest -p no:cacheprovider -ra "${extra[@]}" "$@"
    rc=$?
    set -e
    step "pytest: exit $rc"
    if [ $rc -eq 5 ]; then
      echo "[locatietoets] FOUT: pytest heeft geen enkele test verzameld (exit 5); dat telt als mislukt." >&2
      exit 1
    fi
    exit $rc
    ;;
  *)
    echo "gebruik: bash tools/bootstrap.sh {demo|test|lint|venv|venv-path} [ARGS...]" >&2
    exit 2
    ;;
esac
