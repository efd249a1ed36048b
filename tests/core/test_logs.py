"""Log lines: JSON objects or text, with the ids of the work bound around it, never the database
password; the web answers with the request id its log lines carry."""

from __future__ import annotations

import io
import json
import logging
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from core.logs import JsonFormatter, TextFormatter, bound, configure
from review.web import create_app
from tests.appkit import open_app, write_settings

URL = "postgresql+psycopg://toasoan:s3cr%40t@127.0.0.1/toasoan"


def lines(fmt: str, *messages: str, fields: dict[str, object] | None = None) -> list[str]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    configure(handler, fmt, URL)
    logger = logging.getLogger(f"test.logs.{fmt}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with bound(**(fields or {})):
            for m in messages:
                logger.info(m)
        logger.info("sau khối")
    finally:
        logger.removeHandler(handler)
    return out.getvalue().splitlines()


def test_json_lines_carry_the_bound_ids_and_no_password() -> None:
    first, after = (json.loads(x) for x in lines("json", "lỗi kết nối s3cr@t và s3cr%40t", fields={"inbound_id": 12}))
    assert first["message"] == "lỗi kết nối *** và ***" and first["inbound_id"] == "12"
    assert first["level"] == "INFO" and first["ts"].endswith("+00:00")
    assert "inbound_id" not in after  # only inside the block


def test_text_lines_name_the_ids_after_the_message() -> None:
    first, after = lines("text", "đã nhận", fields={"request_id": "abc123"})
    assert first.endswith("test.logs.text: đã nhận [request_id=abc123]")
    assert "request_id" not in after
    assert isinstance(TextFormatter(), logging.Formatter) and isinstance(JsonFormatter(), logging.Formatter)


def test_ids_belong_to_their_thread() -> None:
    seen: dict[str, str] = {}

    def work(name: str) -> None:
        with bound(request_id=name):
            seen[name] = lines("json", "x")[0]

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {n: json.loads(v).get("request_id") for n, v in seen.items()} == {"a": "a", "b": "b"}


def test_every_response_names_its_request(tmp_path: Path) -> None:
    settings, engine = open_app(write_settings(tmp_path))
    with TestClient(create_app(settings, engine)) as client:
        given = client.get("/login", headers={"X-Request-ID": "proxy-42.a_b"})
        assert given.headers["x-request-id"] == "proxy-42.a_b"
        made = client.get("/login", headers={"X-Request-ID": "<script>\r\nx"})
        assert made.headers["x-request-id"] != "<script>\r\nx" and len(made.headers["x-request-id"]) == 16
        assert client.get("/login").headers["x-request-id"] != made.headers["x-request-id"]
