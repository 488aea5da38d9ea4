#!/usr/bin/env bash
# Install the Debian packages pmpath's tests and PDF output need: Chromium for the browser tests,
# DejaVu fonts, poppler-utils (pdftotext), the Pango/HarfBuzz/fontconfig libraries WeasyPrint loads, and
# bowtie-examples (its E. coli genome is the off-target search's real-genome test), and libpq-dev,
# python3-dev and build-essential, which pip needs to build psycopg2 (a dependency of biocommons hgvs),
# and default-jre-headless for the slow test that counts reports on PySpark.
#
# Idempotent: does nothing when every package is installed. Run by `make install` (and so by
# `make test` and .ci/run). Without root it installs nothing: it names what is missing and how to
# install it, and the tests that need it skip with that reason. PMPATH_SYSTEM_DEPS=skip skips it.
set -euo pipefail

PACKAGES=(
    chromium
    fonts-dejavu-core
    poppler-utils
    libpango-1.0-0
    libpangoft2-1.0-0
    libharfbuzz0b
    libfontconfig1
    bowtie-examples
    libpq-dev
    python3-dev
    build-essential
    default-jre-headless
)

if [[ "${PMPATH_SYSTEM_DEPS:-}" == "skip" ]]; then
    echo "install-system-deps: PMPATH_SYSTEM_DEPS=skip, not checking system packages"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-system-deps: not a Debian-like system (no dpkg-query); install these yourself" \
        "for the browser and PDF tests: ${PACKAGES[*]}" >&2
    exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "install-system-deps: missing Debian packages: ${missing[*]}" >&2
        echo "install-system-deps: not root, so not installing them; the browser and PDF tests will skip." >&2
        echo "install-system-deps: to install: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
        exit 0
    fi
    echo "install-system-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# An image that drops /usr/share/doc (dpkg path-exclude) installs bowtie-examples without its genome:
# extract the package's files into .venv/testdata instead, where the test also looks.
ecoli=/usr/share/doc/bowtie/examples/genomes/NC_008253.fna.gz
if [[ ! -e "$ecoli" && ! -e .venv/testdata$ecoli ]]; then
    (cd "$(mktemp -d)" && apt-get download bowtie-examples >/dev/null 2>&1 \
        && mkdir -p "$OLDPWD/.venv/testdata" && dpkg-deb -x bowtie-examples_*.deb "$OLDPWD/.venv/testdata") \
        || echo "install-system-deps: could not extract bowtie-examples; the E. coli test will skip" >&2
fi
