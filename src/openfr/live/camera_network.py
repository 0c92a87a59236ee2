"""Which network addresses a camera source may point at (server-side request forgery).

A deployment's camera is a URL that the server itself opens. Without a rule, whoever plans a deployment
can make the server fetch its own loopback services, a cloud's metadata service (with credentials) or any
host inside the force's network, and read the errors as a port scanner. So a camera's host is resolved and
every address it resolves to must be:
- never a cloud metadata service (169.254.169.254, fd00:ec2::254, 100.100.100.200 and the like), even
  inside `live.camera_networks`;
- never loopback (unless `live.allow_loopback_cameras`, for a development machine with a local test
  stream), link-local, multicast, unspecified or reserved;
- never an IPv6 unique-local address (fc00::/7) unless inside `live.camera_networks`;
- inside `live.camera_networks` when that list is set (the CCTV networks, e.g. 10.20.0.0/16): the setting
  an operational installation must make (it refuses to plan or start a deployment without it).
An IPv6 address that carries an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64
64:ff9b::/96, 6to4 2002::/16) is judged as that IPv4 address; Teredo and local-use NAT64, whose IPv4
address cannot be checked, are refused.
The check runs when a deployment is planned and again at each connection, where the camera egress gate
(`egress.py`) connects only to the address it checked. A name that does not resolve when planning is
accepted then and checked when the camera connects.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from openfr.errors import BadInputError, SafeguardMissingError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Metadata services hand out the machine's cloud credentials: refused whatever camera_networks says.
METADATA = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle (link-local: refused anyway)
        "169.254.170.0/24",  # AWS ECS task and EKS pod credentials
        "100.100.100.200/32",  # Alibaba Cloud
        "168.63.129.16/32",  # Azure WireServer
        "192.0.0.192/32",  # Oracle Cloud (older instances)
        "fd00:ec2::/64",  # AWS over IPv6 (fd00:ec2::254 metadata, ::253 DNS, ::23 pod identity)
        "fd20:ce::254/128",  # Google Cloud over IPv6
    )
)
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # 0.0.0.0 reaches this machine on Linux
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: where the IPv4 address sits varies
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _as_ipv4(address: Address) -> Address | str:
    """The IPv4 address an IPv6 address stands for (or the address itself), or why it cannot be judged."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.teredo is not None:
        return "a Teredo tunnel address"
    if address in NAT64_LOCAL:
        return "a local-use NAT64 address"
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):  # :: and ::1 are themselves
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refusal(address: Address, networks: list[Network], allow_loopback: bool) -> str | None:
    """Why a camera must not be reached at `address` (words for a refusal), or None if it may."""
    judged = _as_ipv4(address)
    if isinstance(judged, str):
        return judged
    inside = any(judged in net for net in networks)
    if any(judged in net for net in METADATA):
        return "a cloud metadata service"
    if judged.is_loopback:
        if not allow_loopback:
            return "a loopback address"
    elif judged.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    elif judged.is_multicast or judged.is_unspecified or judged.is_reserved or judged in THIS_NETWORK:
        return "not a host address"
    elif _private_ipv6(judged) and not inside:
        return "an IPv6 unique-local address outside live.camera_networks"
    if networks and not inside:
        return "outside the camera networks this installation allows (live.camera_networks)"
    return None


def _private_ipv6(address: Address) -> bool:
    return isinstance(address, ipaddress.IPv6Address) and (address.is_site_local or address in UNIQUE_LOCAL)


def resolve(host: str) -> list[Address]:
    """Every address `host` (a name or a literal) stands for now; [] if it does not resolve."""
    try:
        return [ipaddress.ip_address(host.strip("[]").split("%")[0])]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def checked_addresses(host: str, networks: Iterable[str], allow_loopback: bool) -> list[Address]:
    """The addresses of `host`, once resolved, every one of them allowed; BadInputError naming the kind of
    address otherwise (never what is there)."""
    allowed = [ipaddress.ip_network(n, strict=False) for n in networks]
    addresses = resolve(host)
    for address in addresses:
        if (reason := refusal(address, allowed, allow_loopback)) is not None:
            raise SafeguardMissingError(f"camera source host {host!r} is {reason}: refused")
    return addresses


def check_camera_url(url: str, networks: Iterable[str], allow_loopback: bool) -> None:
    """BadInputError if `url` (rtsp/http/https) may point at an address a camera must not (a name that does
    not resolve yet is checked again when the camera connects)."""
    host = urlsplit(url).hostname
    if not host:
        raise BadInputError("camera source: the URL has no host")
    checked_addresses(host, networks, allow_loopback)


def display_source(url: str) -> str:
    """A source as an authorising officer may see it: scheme, host and port, never credentials or path
    secrets (a camera URL often carries a password)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "video file or webcam"
    port = f":{parts.port}" if parts.port else ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # an IPv6 address
    return f"{parts.scheme}://{host}{port}"
