#!/bin/sh
# /usr/bin/bitnetd from the Debian package: bitnetd's command line (and the service's ExecStart) on the
# system's Node.js when it is new enough, else on the Node runtime the package brings (Raspberry Pi OS
# bullseye ships Node 12, bookworm 18). BITNETD_NODE=/path/to/node picks one.
app=/usr/lib/bitnetd
node=${BITNETD_NODE:-}
if [ -z "$node" ]; then
    node=$app/node/bin/node
    if system=$(command -v node 2>/dev/null); then
        version=$("$system" --version 2>/dev/null)   # v20.19.2
        major=${version#v}
        major=${major%%.*}
        case $major in '' | *[!0-9]*) ;; *) [ "$major" -ge @NODE_MAJOR@ ] && node=$system ;; esac
    fi
fi
# exec: under systemd the daemon must be the unit's main process (Type=notify, NotifyAccess=main).
exec "$node" --max-semi-space-size=2 "$app/dist/daemon/cli.js" "$@"
