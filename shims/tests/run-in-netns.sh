#!/bin/sh
# Run tw-shimcheck on a shim inside a fresh, private network namespace
# (unshare -n): the TAP device, the shim and every frame die with it.
# Exit 77 (ctest: skipped) when that is not possible here.
set -u
if [ "$(id -u)" != 0 ]; then
    echo "skip: needs root (CAP_NET_ADMIN) for a network namespace and a TAP device" >&2
    exit 77
fi
if ! command -v unshare >/dev/null 2>&1; then
    echo "skip: unshare(1) not found (util-linux)" >&2
    exit 77
fi
if [ ! -c /dev/net/tun ]; then
    echo "skip: no /dev/net/tun" >&2
    exit 77
fi
exec unshare -n "$@"
