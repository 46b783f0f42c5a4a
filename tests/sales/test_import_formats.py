"""manage.py import_orders reads a pretty-printed JSON document, several documents, or a JSON array
as well as JSON Lines (issue 12: a pretty-printed document used to give 15 parse errors)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sales.models import Order
from tests.sales.helpers import import_document as doc

pytestmark = pytest.mark.django_db


def run(path: Path, *, fails: bool = False) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    if fails:
        with pytest.raises(CommandError):
            call_command("import_orders", str(path), stdout=out, stderr=err)
    else:
        call_command("import_orders", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def references() -> list[str]:
    return sorted(Order.objects.values_list("reference", flat=True))


def test_one_pretty_printed_document(tmp_path):
    path = tmp_path / "order.json"
    path.write_text(json.dumps(doc("PRETTY-1"), indent=2) + "\n")
    assert len(path.read_text().splitlines()) > 15
    out, err = run(path)
    assert (out, err) == ("imported 1, skipped 0, failed 0\n", "")
    assert references() == ["PRETTY-1"]


def test_a_json_array_reports_bad_documents_by_position(tmp_path):
    path = tmp_path / "orders.json"
    documents = [doc("ARR-1"), doc("ARR-2", email="not-an-email"), "a string", doc("ARR-4")]
    path.write_text(json.dumps(documents, indent=2))
    out, err = run(path, fails=True)
    assert out == "imported 2, skipped 0, failed 2\n"
    lines = err.splitlines()
    assert lines[0].startswith("document 2: validation_error:") and "email" in lines[0]
    assert lines[1] == "document 3: validation_error: a document must hold one JSON object, not str"
    assert references() == ["ARR-1", "ARR-4"]


def test_several_pretty_documents_one_after_another_go_by_their_first_line(tmp_path):
    path = tmp_path / "orders.json"
    first, second = json.dumps(doc("SEQ-1"), indent=2), json.dumps(doc("SEQ-2", email="bad"), indent=2)
    path.write_text(f"{first}\n{second}\n")
    out, err = run(path, fails=True)
    assert out == "imported 1, skipped 0, failed 1\n"
    assert err.startswith(f"line {len(first.splitlines()) + 1}: validation_error:")
    assert references() == ["SEQ-1"]


def test_a_broken_pretty_document_is_one_error_with_its_place(tmp_path):
    path = tmp_path / "order.json"
    path.write_text(json.dumps(doc("BROKEN-1"), indent=2)[:-3])
    out, err = run(path, fails=True)
    assert out == "imported 0, skipped 0, failed 1\n"
    assert len(err.splitlines()) == 1 and err.startswith("line 1: parse_error: invalid JSON: ")
    assert references() == []


def test_json_lines_with_a_bad_first_line_stay_json_lines(tmp_path):
    path = tmp_path / "orders.jsonl"
    path.write_text("{not json\n" + json.dumps(doc("JL-2")) + "\n" + json.dumps(doc("JL-3")) + "\n")
    out, err = run(path, fails=True)
    assert out == "imported 2, skipped 0, failed 1\n"
    assert err.startswith("line 1: parse_error: invalid JSON")
    assert references() == ["JL-2", "JL-3"]
