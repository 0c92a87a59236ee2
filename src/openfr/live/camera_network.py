"""Which network addresses a camera source may point at (server-side request forgery).

A deployment's camera is a URL that the server itself opens. Without a rule, whoever plans a deployment
can make the server fetch its own loopback services, link-local addresses (169.254.169.254 is a cloud's
metadata service, with credentials) or any host inside the force's network, and read the errors as a port
scanner. So a camera's host is resolved and every address it resolves to must be:
- never loopback, link-local, multicast, unspecified or reserved (unless `live.allow_loopback_cameras`,
  for a development machine with a local test stream), and
- inside `live.camera_networks` when that list is set (the CCTV networks, e.g. 10.20.0.0/16): the setting
  an operational installation should always make.
The check runs when a deployment is planned and again just before each connection, so a name that
resolves differently later (DNS rebinding) is still refused. A name that does not resolve when planning is
accepted then and checked when the camera connects.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from openfr.errors import BadInputError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _forbidden(address: Address, allow_loopback: bool) -> str | None:
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not a host address"
    return None


def _addresses(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []  # unresolvable now: checked again when the camera connects
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_camera_url(url: str, networks: Iterable[str], allow_loopback: bool) -> None:
    """BadInputError if `url` (rtsp/http/https) may point at an address a camera must not; the message names
    the host's kind of address, never what is there."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise BadInputError("camera source: the URL has no host")
    allowed = [ipaddress.ip_network(n, strict=False) for n in networks]
    for address in _addresses(host):
        reason = _forbidden(address, allow_loopback)
        if reason is None and allowed and not any(address in net for net in allowed):
            reason = "outside the camera networks this installation allows (live.camera_networks)"
        if reason is not None:
            raise BadInputError(f"camera source host {host!r} is {reason}: refused")


def display_source(url: str) -> str:
    """A source as an authorising officer may see it: scheme, host and port, never credentials or path
    secrets (a camera URL often carries a password)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "video file or webcam"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"
