"""Reading a message the way a mail client's header view does: from its raw bytes.

Nothing here goes through the ``email`` package, which would decode RFC 2047 words and unfold
lines and so hide exactly the faults that break List-Unsubscribe in Gmail, Yahoo or Outlook.
"""

from __future__ import annotations

import re

MAX_LINE = 998
_URL_LIST = re.compile(r"<(https?://[!-~]+?|mailto:[!-~]+?)>")


def split(data: bytes) -> tuple[bytes, bytes]:
    """(header block, body) at the first empty line."""
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, "no empty line between headers and body"
    return head, body


def headers(data: bytes) -> list[tuple[str, str, list[bytes]]]:
    """Every header field in order: (name, value with CRLF removed, the raw lines)."""
    head, _ = split(data)
    fields: list[tuple[str, list[bytes]]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            assert fields, "message starts with a continuation line"
            fields[-1][1].append(line)
            continue
        name, colon, _ = line.partition(b":")
        assert colon and re.fullmatch(rb"[!-9;-~]+", name), f"not a header line: {line!r}"
        fields.append((name.decode("ascii"), [line]))
    result = []
    for name, lines in fields:
        unfolded = b"".join(lines).decode("ascii")
        result.append((name, unfolded.partition(":")[2].strip(), lines))
    return result


def header(data: bytes, name: str) -> str:
    found = [value for field, value, _ in headers(data) if field.lower() == name.lower()]
    assert len(found) == 1, f"{name}: expected one header, found {len(found)}"
    return found[0]


def check(data: bytes) -> None:
    """What any mailbox provider requires of a message, read from its bytes."""
    assert data.isascii(), "8-bit bytes in a message declared 7-bit"
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), "bare LF in message"
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR in message"
    for number, line in enumerate(data.split(b"\r\n"), 1):
        assert len(line) <= MAX_LINE, f"line {number} is {len(line)} octets"
    for name, value, lines in headers(data):
        for line in lines[1:]:  # a fold is a line break before whitespace, never in a word
            assert line.strip(), f"{name}: whitespace-only continuation line"
        if name.lower() in ("subject", "from", "to"):
            continue  # the only fields that may carry RFC 2047 words (display names, subject)
        assert "=?" not in value, f"{name} is RFC 2047-encoded: {value!r}"
    unsubscribe = header(data, "List-Unsubscribe")
    targets = [part.strip() for part in unsubscribe.split(",")]
    assert targets and all(_URL_LIST.fullmatch(t) for t in targets), unsubscribe
    assert targets[0].startswith(("<https://", "<http://127.", "<http://localhost")), unsubscribe
    assert header(data, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
