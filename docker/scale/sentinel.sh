#!/bin/sh
# A sentinel of compose's `scale` profile (docs/DEPLOYMENT.md section 9). Sentinel rewrites its configuration file
# as it learns (the replicas, the other sentinels, the current primary after a failover), so the file is written
# here, at each start, into a writable place, from the environment:
#   REDIS_PASSWORD     (required) the data nodes' requirepass/masterauth: the sentinels' auth-pass
#   SENTINEL_PRIMARY   the primary to monitor at first, as ip:port (fixed addresses: no name to resolve)
#   SENTINEL_SERVICE   the name the app's [redis] service gives (callcenter)
#   SENTINEL_QUORUM    sentinels that must agree the primary is down (2 of 3)
#   SENTINEL_DOWN_AFTER_MS, SENTINEL_FAILOVER_TIMEOUT_MS, SENTINEL_PORT, SENTINEL_CONF
# then starts the sentinel on it.
set -eu

fail() {
    echo "sentinel.sh: $*" >&2
    exit 64
}

: "${REDIS_PASSWORD:?REDIS_PASSWORD must be set (the data nodes use the same value)}"
[ "${#REDIS_PASSWORD}" -ge 12 ] || fail "REDIS_PASSWORD must be at least 12 characters"
case "$REDIS_PASSWORD" in
    *[!A-Za-z0-9._~+=@%/-]*) fail "REDIS_PASSWORD may contain only letters, digits and ._~+=@%/-" ;;
esac
primary="${SENTINEL_PRIMARY:?SENTINEL_PRIMARY must be set, as ip:port}"
host=${primary%:*}
port=${primary##*:}
case "$host" in "" | *[!0-9.]*) fail "SENTINEL_PRIMARY: an IPv4 address before the colon, got '$host'" ;; esac
case "$port" in "" | *[!0-9]*) fail "SENTINEL_PRIMARY: a port after the colon, got '$port'" ;; esac
service="${SENTINEL_SERVICE:-callcenter}"
case "$service" in "" | *[!A-Za-z0-9_-]*) fail "SENTINEL_SERVICE may contain only letters, digits, _ and -" ;; esac
conf="${SENTINEL_CONF:-/data/sentinel.conf}"

umask 077
cat > "$conf" <<CONF
# Written by sentinel.sh at start; redis-sentinel adds what it learns below.
port ${SENTINEL_PORT:-26379}
dir $(dirname "$conf")
sentinel monitor $service $host $port ${SENTINEL_QUORUM:-2}
sentinel auth-pass $service $REDIS_PASSWORD
sentinel down-after-milliseconds $service ${SENTINEL_DOWN_AFTER_MS:-5000}
sentinel failover-timeout $service ${SENTINEL_FAILOVER_TIMEOUT_MS:-60000}
sentinel parallel-syncs $service 1
CONF

# redis-sentinel is redis-server in sentinel mode (the image has both names; Debian's redis-server package only
# the one, which takes --sentinel after the file).
if command -v redis-sentinel >/dev/null 2>&1; then
    exec redis-sentinel "$conf"
fi
exec redis-server "$conf" --sentinel
