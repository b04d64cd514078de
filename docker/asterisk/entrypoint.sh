#!/bin/sh
# Start Asterisk with secrets from the environment, never from files in the image or the repository:
#   ARI_PASSWORD        (required) the ARI user "callcenter", shared with the app
#   AGENT_PASSWORDS     "agent1001:secret,agent1002:secret" SIP passwords of the agent phones in pjsip.conf
#   SIP_TRUNK_USERNAME, SIP_TRUNK_PASSWORD   credentials of the SIP trunk provider1
# then exec the command (Asterisk). It runs as the unprivileged asterisk user, like Asterisk itself: the DAHDI
# spans are configured on the host by dahdi_cfg, which needs CAP_SYS_ADMIN that this container does not get.
#
# Secrets are restricted to characters that need no quoting in Asterisk's config syntax (';' starts a comment,
# a newline starts a new option): use long random values, e.g. `openssl rand -hex 24`.
set -eu

ETC="${ASTERISK_ETC:-/etc/asterisk}"

fail() {
    echo "entrypoint: $*" >&2
    exit 64
}

check_secret() {
    name=$1
    value=$2
    [ "${#value}" -ge 12 ] || fail "$name must be at least 12 characters"
    case "$value" in
        *[!A-Za-z0-9._~+=@%/-]*) fail "$name may contain only letters, digits and ._~+=@%/-" ;;
    esac
}

: "${ARI_PASSWORD:?ARI_PASSWORD must be set (the app uses the same value)}"
check_secret ARI_PASSWORD "$ARI_PASSWORD"

umask 077
{
    echo "; Written by the entrypoint from ARI_PASSWORD at container start."
    echo
    echo "[callcenter]"
    echo "type=user"
    echo "read_only=no"
    echo "password_format=plain"
    echo "password=$ARI_PASSWORD"
} > "$ETC/ari_users.conf"

{
    echo "; Written by the entrypoint from AGENT_PASSWORDS and SIP_TRUNK_* at container start."
    if [ -n "${SIP_TRUNK_PASSWORD:-}" ]; then
        check_secret SIP_TRUNK_PASSWORD "$SIP_TRUNK_PASSWORD"
        case "${SIP_TRUNK_USERNAME:-}" in
            "" | *[!A-Za-z0-9._+-]*) fail "SIP_TRUNK_USERNAME must be set to letters, digits and ._+-" ;;
        esac
        echo
        echo "[provider1-auth]"
        echo "type=auth"
        echo "auth_type=userpass"
        echo "username=$SIP_TRUNK_USERNAME"
        echo "password=$SIP_TRUNK_PASSWORD"
    fi
    old_ifs=$IFS
    IFS=,
    for pair in ${AGENT_PASSWORDS:-}; do
        agent=${pair%%:*}
        secret=${pair#*:}
        case "$agent" in
            "" | *[!0-9A-Za-z_-]*) fail "AGENT_PASSWORDS: bad agent name in entry '$agent:...'" ;;
        esac
        [ "$agent" != "$pair" ] || fail "AGENT_PASSWORDS: entry for $agent has no ':password'"
        check_secret "password of agent $agent" "$secret"
        echo
        echo "[$agent-auth]"
        echo "type=auth"
        echo "auth_type=userpass"
        echo "username=$agent"
        echo "password=$secret"
    done
    IFS=$old_ifs
} > "$ETC/pjsip_auth.conf"

exec "$@"
