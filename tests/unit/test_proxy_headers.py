"""HeaderRewriter: headers a Connection header names are dropped wherever they stand."""

from __future__ import annotations

from channel_app_template.api._headers import HeaderRewriter

SCOPE = {"client": ("10.0.0.7", 40000), "scheme": "http"}


def rewriter() -> HeaderRewriter:
    return HeaderRewriter("http://flower:5555", b"Basic Zmxvd2VyOnB3", trust_forwarded=False)


def test_request_drops_headers_named_by_a_later_connection_header() -> None:
    headers = [
        (b"x-hop", b"1"),
        (b"accept-encoding", b"gzip"),
        (b"x-kept", b"yes"),
        (b"connection", b"keep-alive, X-Hop, Accept-Encoding"),
    ]
    sent = rewriter().request(SCOPE, headers, None, False)
    names = [name.lower() for name, _ in sent]
    assert "x-hop" not in names
    assert "connection" not in names
    assert ("x-kept", "yes") in sent
    # The client's Accept-Encoding was hop-by-hop here, so Flower is asked for identity.
    assert ("Accept-Encoding", "identity") in sent
    assert ("accept-encoding", "gzip") not in sent


def test_request_without_connection_header_keeps_end_to_end_headers_in_order() -> None:
    headers = [(b"accept", b"*/*"), (b"te", b"trailers"), (b"x-kept", b"yes"), (b"host", b"h")]
    sent = rewriter().request(SCOPE, headers, None, False)
    assert sent[:2] == [("accept", "*/*"), ("x-kept", "yes")]
    assert ("Host", "h") in sent
    assert all(name.lower() != "te" for name, _ in sent)


def test_response_drops_headers_named_by_connection_and_rewrites_location() -> None:
    raw = (
        (b"X-Hop", b"1"),
        (b"Location", b"http://flower:5555/flower/tasks"),
        (b"Server", b"TornadoServer"),
        (b"Connection", b"X-Hop"),
        (b"X-End", b"kept"),
    )
    assert rewriter().response(raw) == [(b"location", b"/flower/tasks"), (b"x-end", b"kept")]
