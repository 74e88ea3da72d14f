"""Canonical URLs: one identity per article, whatever tracking or AMP decoration a link carries.

A page's own ``rel=canonical`` wins; otherwise the URL is cleaned: tracking parameters and the
fragment dropped, host lower-cased, default port dropped, AMP forms mapped to the article. Other
query parameters are kept byte for byte and in order, because some sites route on them.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Exact parameter names (compared case-insensitively) that only track the click.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ocid",
        "cmpid",
        "ito",
        "cmp",
        "icid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "wt.mc_id",
        "ref",
        "ref_src",
        "int_source",
        "int_medium",
        "int_campaign",
        "int_content",
        "outputtype",  # only ever seen as outputType=amp; checked below
    }
)
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "at_", "pk_", "mtm_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Reach-style AMP copy: the article URL plus ".amp" (…-28765432.amp)
_AMP_SUFFIX = re.compile(r"(?:\.amp)+$", re.IGNORECASE)


def _is_tracking(name: str, value: str) -> bool:
    key = name.lower()
    if key == "outputtype":
        return value.lower() == "amp"
    if key == "amp":
        # ?amp, ?amp=1, ?amp=true are AMP switches, not content
        return value.lower() in {"", "1", "true", "yes"}
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    kept: list[str] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if _is_tracking(unquote_plus(name), unquote_plus(value)):
            continue
        kept.append(piece)
    return "&".join(kept)


def _clean_path(path: str) -> str:
    if not path:
        return "/"
    trailing = path.endswith("/")
    segments = [s for s in path.split("/") if s]
    # /amp/ as a whole segment is an AMP rendition of the same article (BBC /news/amp/<id>,
    # Newsquest /news/amp/<id>.slug/, WordPress …/slug/amp/)
    segments = [s for s in segments if s.lower() != "amp"]
    if segments:
        segments[-1] = _AMP_SUFFIX.sub("", segments[-1])
    cleaned = "/" + "/".join(segments)
    if trailing and segments:
        cleaned += "/"
    return cleaned


def _netloc(scheme: str, host: str, port: int | None, userinfo: str) -> str:
    netloc = host.lower().rstrip(".")
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    return f"{userinfo}@{netloc}" if userinfo else netloc


def clean_url(url: str) -> str:
    """The URL without tracking parameters, fragment, default port or AMP decoration."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return url.strip()
    try:
        port = parts.port
    except ValueError:  # a non-numeric port: leave the netloc as given, lower-cased
        port = None
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    netloc = _netloc(scheme, parts.hostname or "", port, userinfo)
    return urlunsplit((scheme, netloc, _clean_path(parts.path), _clean_query(parts.query), ""))


def canonical_url(url: str, *, page_canonical: str | None = None) -> str:
    """The article's identity: the page's rel=canonical when usable, else the cleaned URL.

    A page canonical is resolved against ``url``; it is ignored when it is not http(s) or when it
    points at a site's front page while ``url`` does not (a common CMS fault that would otherwise
    merge every article of a site into one).
    """
    own = clean_url(url)
    if page_canonical and page_canonical.strip():
        given = clean_url(urljoin(url, page_canonical.strip()))
        given_parts = urlsplit(given)
        if given_parts.scheme in _DEFAULT_PORTS and given_parts.netloc:
            front_page = given_parts.path in ("", "/") and not given_parts.query
            if not front_page or urlsplit(own).path in ("", "/"):
                return given
    return own
