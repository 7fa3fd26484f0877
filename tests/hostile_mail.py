"""Small mails whose headers cost the stdlib parser time and memory out of all proportion
to their size (issue 11, defect 1): for tests and benchmarks that must show the bot
refuses them before parsing."""

from __future__ import annotations

_HEAD = (
    b"From: Hostile Sender <hostile@example.org>\r\n"
    b"To: privacy@jaimy.be\r\n"
    b"Message-ID: <%s@example.org>\r\n"
)
_BODY = b"\r\nPlease delete my data.\r\n"


def _mail(name: str, header: bytes) -> bytes:
    return _HEAD % name.encode() + header + b"\r\n" + _BODY


def many_parameters(count: int = 50_000) -> bytes:
    """A Content-Type with `count` parameters (50,000: 489 KB, 47 s to parse unbounded)."""
    params = b"".join(b";\r\n p%d=v%d" % (n, n) for n in range(count))
    return _mail(f"params-{count}", b"Content-Type: text/plain" + params)


def long_subject(size: int = 2_800_000) -> bytes:
    """A Subject of `size` bytes of short words (2.8 MB: 43 s and 510 MB unbounded)."""
    return _mail(f"subject-{size}", b"Subject: " + b"ab " * (size // 3))


def many_headers(count: int = 200_000) -> bytes:
    """`count` header fields of a few bytes each."""
    return _mail(f"headers-{count}", b"".join(b"X-H%d: v\r\n" % n for n in range(count)))


def long_line(size: int = 1_000_000) -> bytes:
    """One header line of `size` bytes, never folded."""
    return _mail(f"line-{size}", b"X-Long: " + b"a" * size + b"\r\n")


def part_with_many_parameters(count: int = 50_000) -> bytes:
    """The parameter bomb in a MIME part's header instead of the mail's own."""
    params = b"".join(b";\r\n p%d=v" % n for n in range(count))
    return _mail(
        f"part-params-{count}",
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        b"--b\r\nContent-Type: application/pdf" + params + b"\r\n\r\nJVBERi0=\r\n--b--",
    )


HOSTILE_MAILS = {
    "many_parameters": many_parameters,
    "long_subject": long_subject,
    "many_headers": many_headers,
    "long_line": long_line,
    "part_with_many_parameters": part_with_many_parameters,
}
