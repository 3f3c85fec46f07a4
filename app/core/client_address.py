"""The caller's address for per-address limits (sign-in, registration, certificate verification).

Behind a reverse proxy every request comes from the proxy, so one address would carry the whole country's
limit. The proxies are named in `HOCSO_TRUSTED_PROXIES` (addresses or networks): when the peer is one of them,
the caller is the right-most address of `X-Forwarded-For` that is not itself a trusted proxy (the left part of
the header is whatever the client wrote, so it is never believed). Any other peer is the caller itself.
"""

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _trusted(address: str, proxies: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[IPNetwork, ...]) -> str:
    if not peer:
        return "unknown"
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _trusted(hop, proxies):
            return hop
    return peer
