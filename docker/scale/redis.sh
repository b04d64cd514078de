#!/bin/sh
# A data node (the primary or the replica) of compose's `scale` profile (docs/DEPLOYMENT.md section 9): its
# configuration is written at each start from the environment, so that the password is in a file only Redis reads
# and never on a command line:
#   REDIS_PASSWORD     (required) requirepass, and masterauth towards whichever node is the primary
#   REDIS_REPLICAOF    the primary to replicate at first, as ip:port; empty for the primary itself (after a
#                      failover the sentinels reconfigure every node, whatever it started as)
#   REDIS_PORT, REDIS_CONF
# then starts redis-server on it, with the append-only file in the same directory.
set -eu

fail() {
    echo "redis.sh: $*" >&2
    exit 64
}

: "${REDIS_PASSWORD:?REDIS_PASSWORD must be set (the sentinels and the app use the same value)}"
[ "${#REDIS_PASSWORD}" -ge 12 ] || fail "REDIS_PASSWORD must be at least 12 characters"
case "$REDIS_PASSWORD" in
    *[!A-Za-z0-9._~+=@%/-]*) fail "REDIS_PASSWORD may contain only letters, digits and ._~+=@%/-" ;;
esac
conf="${REDIS_CONF:-/data/redis.conf}"
replicaof=""
if [ -n "${REDIS_REPLICAOF:-}" ]; then
    host=${REDIS_REPLICAOF%:*}
    port=${REDIS_REPLICAOF##*:}
    case "$host" in "" | *[!0-9.]*) fail "REDIS_REPLICAOF: an IPv4 address before the colon, got '$host'" ;; esac
    case "$port" in "" | *[!0-9]*) fail "REDIS_REPLICAOF: a port after the colon, got '$port'" ;; esac
    replicaof="replicaof $host $port"
fi

umask 077
cat > "$conf" <<CONF
# Written by redis.sh at start.
port ${REDIS_PORT:-6379}
dir $(dirname "$conf")
appendonly yes
appendfsync everysec
requirepass $REDIS_PASSWORD
masterauth $REDIS_PASSWORD
$replicaof
CONF

exec redis-server "$conf"
