"""Server-side request forgery guard for outgoing webhooks.

An admin types a URL and Seam's servers POST to it. Without a guard that URL could point at
the inside of our own network (a metadata service on 169.254.169.254, a database on
10.0.0.5, an admin port on localhost). The rules:

- https only, unless ``settings.WEBHOOKS_ALLOW_HTTP`` (on by default only with DEBUG);
- no ``user:password@`` part (it hides the real host from a quick read of the URL);
- every address the host resolves to must be a global unicast address: private, loopback,
  link-local, shared (CGNAT), reserved, documentation, unspecified and multicast ranges are
  refused, IPv4 and IPv6 alike, including IPv4 addresses wrapped in IPv6 (``::ffff:10.0.0.1``);
- loopback alone can be allowed with ``settings.WEBHOOKS_ALLOW_LOOPBACK`` (tests, local
  development with a receiver on the same machine). It is never on by default.

The check runs when the endpoint is saved (a clear error for the admin) and again at every
send, on the addresses the send will actually connect to, so a DNS answer that changes after
the check (DNS rebinding) cannot redirect a delivery inside.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURLError(ValueError):
    """The URL may not receive webhooks; the message says why, in words for an admin."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path plus query, what goes on the request line
    addresses: tuple[str, ...]  # resolved, checked IP addresses to connect to


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def address_problem(address: str, *, allow_loopback: bool) -> str | None:
    """Why this IP address may not receive webhooks, or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return f"{address} is not an IP address."
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else "it points at this server (a loopback address)"
    if ip.is_link_local:
        return "it points at a link-local address (such as a cloud metadata service)"
    if ip.is_multicast:
        return "it points at a multicast address"
    if ip.is_private or not ip.is_global:
        return "it points at a private or reserved network address"
    return None


def check_url(url: str, *, resolve: bool = True) -> Target:
    """Parse and check a webhook URL; raise ``UnsafeURLError`` when it may not be used.

    With ``resolve`` the host is looked up and every address it resolves to is checked: one
    bad address is enough to refuse, since the connection could land on any of them.
    """
    allow_http = bool(getattr(settings, "WEBHOOKS_ALLOW_HTTP", False))
    allow_loopback = bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK", False))
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError("That is not a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeURLError("The URL must start with https://.")
    if scheme == "http" and not allow_http:
        raise UnsafeURLError("Webhooks are sent over https only: use an https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError(
            "Remove the user:password@ part; Seam signs every request instead "
            "(see the signing secret)."
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("The URL has no host name.")
    if port is None:
        port = 443 if scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if not resolve:
        return Target(scheme, host, port, path, ())
    try:
        addresses = _getaddrinfo(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURLError(f"The host name {host} could not be resolved.") from exc
    if not addresses:
        raise UnsafeURLError(f"The host name {host} could not be resolved.")
    for address in addresses:
        problem = address_problem(address, allow_loopback=allow_loopback)
        if problem:
            raise UnsafeURLError(f"Webhooks cannot be sent to {host}: {problem}.")
    return Target(scheme, host, port, path, tuple(dict.fromkeys(addresses)))
