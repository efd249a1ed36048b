#!/usr/bin/env bash
# Install the Debian packages the test suite runs for real, if any is missing.
# Services are never started by the packages here (tests start their own on loopback).
set -euo pipefail
PACKAGES=(
  dovecot-imapd dovecot-lmtpd dovecot-submissiond   # IMAP server + LMTP delivery for ingest tests
  cyrus-common sasl2-bin                            # Cyrus IMAP's master and lmtpd; saslpasswd2 for its test users
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
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Cyrus's imapd and idled are in cyrus-imapd, which Conflicts with dovecot-imapd (both Provide
# imap-server): installing it removes Dovecot. So its .deb, at cyrus-common's exact version, is only
# unpacked here, where tests/servers.py looks (TOASOAN_CYRUS_IMAPD_DIR); nothing is registered with dpkg.
CYRUS_IMAPD_DIR=${TOASOAN_CYRUS_IMAPD_DIR:-/usr/local/lib/toasoan-test/cyrus-imapd}
cyrus_version=$(dpkg-query -W -f='${Version}' cyrus-common)
if [ "$(cat "$CYRUS_IMAPD_DIR/VERSION" 2>/dev/null || true)" != "$cyrus_version" ]; then
  echo "Unpacking cyrus-imapd $cyrus_version into $CYRUS_IMAPD_DIR"
  tmp=$(mktemp -d)
  chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -qq "cyrus-imapd=$cyrus_version" 2>/dev/null) \
    || { $SUDO apt-get update -qq && (cd "$tmp" && apt-get download -qq "cyrus-imapd=$cyrus_version"); }
  $SUDO rm -rf "$CYRUS_IMAPD_DIR"
  $SUDO mkdir -p "$CYRUS_IMAPD_DIR"
  $SUDO dpkg-deb -x "$tmp"/cyrus-imapd_*.deb "$CYRUS_IMAPD_DIR"
  echo "$cyrus_version" | $SUDO tee "$CYRUS_IMAPD_DIR/VERSION" >/dev/null
  rm -rf "$tmp"
fi
