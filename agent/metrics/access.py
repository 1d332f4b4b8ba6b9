"""Who may read the metrics: callers on this machine, and the networks a practice names.

Metrics hold no client data, but they do tell how many logins, orgs and failures a
practice has and when its crawls run; like the API, they are for this computer
unless the practice says otherwise. The decision is made on the connection's own
address, never on a header a caller can write (``X-Forwarded-For``): the server runs
uvicorn without proxy headers, and the worker's port reads the socket's peer.

``ACCESSRECON_METRICS_ALLOW`` lists addresses or networks (``10.0.0.7``,
``10.0.0.0/24``, ``fd00::/64``) whose callers may scrape as well; the same list opens
the worker's port to another interface (``port``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REFUSED_DETAIL = (
    "metrics are served to this computer only: list the caller's address or network "
    "in ACCESSRECON_METRICS_ALLOW"
)


def parse_network(text: str) -> IPNetwork:
    """``10.0.0.7`` or ``10.0.0.0/24`` as a network; ``ValueError`` naming the value if not."""
    value = text.strip()
    try:
        return ipaddress.ip_network(value.strip("[]"), strict=False)
    except ValueError:
        raise ValueError(
            f"ACCESSRECON_METRICS_ALLOW: {value!r} is not an IP address or network; "
            "write e.g. 10.0.0.7 or 10.0.0.0/24"
        ) from None


def allowed_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(parse_network(value) for value in values)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(host: str) -> bool:
    address = _address(host)
    return address is not None and address.is_loopback


def may_scrape(peer: str | None, allowed: Sequence[IPNetwork]) -> bool:
    """Whether a caller at ``peer`` (the connection's address) may read the metrics.

    An unknown or unreadable peer is refused: a Unix socket or a test transport
    without an address is no proof of being on this machine.
    """
    if not peer:
        return False
    address = _address(peer)
    if address is None:
        return False
    if address.is_loopback:
        return True
    return any(address.version == net.version and address in net for net in allowed)
