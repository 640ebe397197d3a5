#!/usr/bin/env bash
# Audit export tests (tests/tests/audit_export.rs) send the audit trail to a real syslog server:
# rsyslog with its GnuTLS stream driver (imtcp, RFC 5425 over TLS), started by the test itself.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
apt_install rsyslog rsyslog-gnutls
command -v rsyslogd >/dev/null || { echo "rsyslogd was not installed" >&2; exit 1; }
find /usr/lib -name lmnsd_gtls.so -path '*rsyslog*' | grep -q . \
    || { echo "rsyslog's gtls stream driver (rsyslog-gnutls) was not installed" >&2; exit 1; }
