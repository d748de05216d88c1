"""Proposal URLs pasted by staff → a stable reference, and back.

A reference is the source name, a colon, and the canonical public URL (`decidim:https://host/processes/s/f/7/proposals/42`,
`consul:https://host/proposals/12`) or a local id (`local:5`). Canonical means: scheme and host lower-case, no default
port, no credentials, no query or fragment, no slug suffix — so two spellings of one proposal give one cache entry.
Anything that is not plainly a Decidim or CONSUL proposal page is refused with a message staff can act on.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_DECIDIM_PATH = re.compile(
    r"^/(?P<kind>processes|assemblies|conferences|initiatives)/(?P<slug>[A-Za-z0-9][A-Za-z0-9_-]{0,99})"
    r"/f/(?P<component>[0-9]{1,12})/proposals/(?P<id>[0-9]{1,12})/?$"
)
_CONSUL_PATH = re.compile(r"^/proposals/(?P<id>[0-9]{1,12})(?:-[A-Za-z0-9_%-]{0,300})?/?$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$")
_LOCAL_ID = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True)
class ProposalRef:
    source: str  # "decidim" | "consul" | "local"
    origin: str  # "https://host[:port]"; "" for local
    proposal_id: str
    space_kind: str | None = None  # Decidim: "processes" | "assemblies" | "conferences" | "initiatives"
    space_slug: str | None = None
    component_id: str | None = None

    @property
    def url(self) -> str:
        """The canonical public page of the proposal ("" for local proposals: they live in Civic Space)."""
        if self.source == "decidim":
            space = f"{self.space_kind}/{self.space_slug}"
            return f"{self.origin}/{space}/f/{self.component_id}/proposals/{self.proposal_id}"
        if self.source == "consul":
            return f"{self.origin}/proposals/{self.proposal_id}"
        return ""

    @property
    def ref(self) -> str:
        return f"local:{self.proposal_id}" if self.source == "local" else f"{self.source}:{self.url}"

    @property
    def host(self) -> str:
        """The key rate limits and Retry-After are kept under ("" for local)."""
        return self.origin


def _host(raw: str) -> str:
    """Lower-case ASCII host name (IDNs in punycode) or bracketed IPv6 literal; ValueError otherwise."""
    raw = raw.rstrip(".")
    if ":" in raw:
        try:
            return f"[{ipaddress.IPv6Address(raw).compressed}]"
        except ValueError:
            raise ValueError("The address has no valid host name.") from None
    try:
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError("The address has no valid host name.") from None
    if not host or not _HOST.match(host):
        raise ValueError("The address has no valid host name.")
    return host


def _origin(url: str) -> tuple[str, str]:
    """(canonical origin, path) of an absolute http(s) URL, or ValueError."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("Paste the full address of a proposal page (https://…).")
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValueError("A proposal address cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"Not a valid address: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("Only http and https addresses can be linked.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("The address must not contain a user name or password.")
    host = _host(parts.hostname or "")
    origin = f"{scheme}://{host}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        origin += f":{port}"
    return origin, parts.path or "/"


def parse_proposal_url(url: str) -> ProposalRef:
    """A Decidim or CONSUL proposal page address → ProposalRef. ValueError (with a message for staff) otherwise."""
    origin, path = _origin(url)
    match = _DECIDIM_PATH.match(path)
    if match:
        return ProposalRef(
            source="decidim", origin=origin, proposal_id=match["id"], space_kind=match["kind"],
            space_slug=match["slug"], component_id=match["component"],
        )
    match = _CONSUL_PATH.match(path)
    if match:
        return ProposalRef(source="consul", origin=origin, proposal_id=match["id"])
    raise ValueError(
        "This is not a proposal page. Expected a Decidim address like "
        "https://host/processes/<slug>/f/<component>/proposals/<id> (or /assemblies/, /conferences/, /initiatives/…) "
        "or a CONSUL address like https://host/proposals/<id>."
    )


def parse_ref(ref: str) -> ProposalRef:
    """A stored reference (`decidim:…`, `consul:…`, `local:5`) → ProposalRef. ValueError when malformed."""
    source, sep, rest = ref.partition(":") if isinstance(ref, str) else ("", "", "")
    if not sep:
        raise ValueError(f"Not a proposal reference: {ref!r}.")
    if source == "local":
        if not _LOCAL_ID.match(rest):
            raise ValueError(f"Not a local proposal reference: {ref!r}.")
        return ProposalRef(source="local", origin="", proposal_id=str(int(rest)))
    if source not in ("decidim", "consul"):
        raise ValueError(f"Unknown proposal source {source!r}.")
    parsed = parse_proposal_url(rest)
    if parsed.source != source:
        raise ValueError(f"Reference {ref!r} names {source} but points at a {parsed.source} address.")
    return parsed
