#!/bin/sh
# Installs the Debian packages the project needs, when they are missing.
#   python        python3-venv (Debian ships venv separately)
#   mail-servers  Dovecot IMAP + LMTP and openssl, for the integration tests
#   postgres      PostgreSQL server binaries, for the PostgreSQL integration test
#   ocr           tesseract with Dutch, French, German and English, for the ID-copy check
#                 and attached letters; DejaVu fonts, to print test letters and ID cards
#   systemd       systemd-analyze, which checks the unit files of deploy/systemd
#   browser       Debian's chromium, which the browser tests drive through Playwright
#                 (Playwright's own browser download is never used)
# Needs root (or sudo) only when something is actually missing.
set -eu

missing=""
case "${1:-}" in
  python)
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing="python3-venv"
    ;;
  mail-servers)
    [ -x /usr/sbin/dovecot ] || missing="dovecot-imapd dovecot-lmtpd"
    [ -x /usr/lib/dovecot/lmtp ] || missing="$missing dovecot-lmtpd"
    command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
    ;;
  postgres)
    # Debian keeps initdb and pg_ctl off the PATH, under one directory per major version.
    missing="postgresql"
    for pg_ctl in /usr/lib/postgresql/*/bin/pg_ctl; do
      if [ -x "$pg_ctl" ]; then missing=""; fi
    done
    ;;
  ocr)
    command -v tesseract >/dev/null 2>&1 || missing="tesseract-ocr"
    for language in nld fra deu eng; do
      [ -n "$(find /usr/share/tesseract-ocr -name "$language.traineddata" 2>/dev/null)" ] ||
        missing="$missing tesseract-ocr-$language"
    done
    [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$missing fonts-dejavu-core"
    ;;
  systemd)
    command -v systemd-analyze >/dev/null 2>&1 || missing="systemd"
    ;;
  browser)
    [ -x /usr/bin/chromium ] || missing="chromium"
    ;;
  *)
    echo "usage: $0 python|mail-servers|postgres|ocr|systemd|browser" >&2
    exit 2
    ;;
esac
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "missing Debian packages: $missing (run as root: apt-get install $missing)" >&2
  exit 1
fi
echo "installing Debian packages: $missing"
# Without a policy-rc.d, installing Dovecot starts a system-wide instance on :143/:993
# and installing PostgreSQL one on :5432.
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  created_policy=yes
fi
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
[ -n "$created_policy" ] && $sudo rm -f /usr/sbin/policy-rc.d
exit 0
