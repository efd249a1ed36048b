#!/usr/bin/env bash
# Install the Debian packages the test suite runs for real, if any is missing.
# Services are never started by the packages here (tests start their own on loopback).
set -euo pipefail
PACKAGES=(
  dovecot-imapd dovecot-lmtpd dovecot-submissiond   # IMAP server + LMTP delivery for ingest tests
  libreoffice-writer-nogui                          # .doc/.odt/.rtf conversion
  bubblewrap                                        # confines LibreOffice (no network, read-only system)
  openssl                                           # self-signed certificates for TLS tests
  chromium                                          # the review UI's end-to-end tests (Playwright)
  postgresql                                        # the same suite's PostgreSQL tests (a throwaway cluster)
  fonts-dejavu-core                                 # Vietnamese glyphs for sample photos and screenshots
  wrk                                               # HTTP load for the review pages benchmark (make bench)
  nginx                                             # deploy/nginx/toasoan.conf checked (nginx -t) and run by tests/test_deploy.py
  systemd                                           # systemd-analyze verify of deploy/systemd/*.service (no systemd as PID 1 needed)
  wordpress wordpress-theme-twentytwentythree       # the WordPress target's tests: a real WordPress (php -S)
  php-cli php-mysql php-gd mariadb-server           # ... its PHP and a throwaway MariaDB (research/wordpress.md)
)
# One dpkg-query for all of them (this runs on every `make test`): the installed ones are listed.
installed=" $(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PACKAGES[@]}" 2>/dev/null | awk '$1 == "ii" {printf "%s ", $2}' || true) "
missing=()
for p in "${PACKAGES[@]}"; do
  [[ "$installed" == *" $p "* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
