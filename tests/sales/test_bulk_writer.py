"""The shared raw bulk writer (sales.importing.bulk) that import_orders and seed_demo write through:
what it writes is what the ORM would write, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import transaction

from sales.importing.bulk import BulkTable, BulkWriter, JsonText, document_item_rows, writer_for
from sales.models import OrderComment, OrderEvent, Payment
from sales.services.common import LineAmounts
from tests.sales.lifecycle_support import order_with, product

pytestmark = pytest.mark.django_db


def test_rows_take_the_defaults_a_new_model_instance_has():
    table = writer_for([Payment]).tables[Payment]
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    defaults = table.defaults(now)
    fresh = Payment()
    for name in table.without_pk.attnames:
        if name == "created_at":
            assert defaults[name] == now  # stamped fields take the writer's now
        else:
            assert defaults[name] == getattr(fresh, name), name


def test_inserted_rows_get_their_ids_in_row_order_and_read_back_as_the_orm_wrote_them():
    order = order_with((product("10.00"), 1))
    table = writer_for([OrderComment]).tables[OrderComment]
    when = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    rows = [{"order_id": order.id, "comment": f"note {n}", "customer_notified": n == 1, "author_name": "Ops",
             "created_at": when} for n in range(3)]
    with transaction.atomic():
        ids = table.insert_rows(rows, returning=True)
    assert len(ids) == 3 and ids == sorted(ids)
    for n, pk in enumerate(ids):
        comment = OrderComment.objects.get(id=pk)
        assert (comment.comment, comment.customer_notified, comment.created_at) == (f"note {n}", n == 1, when)
        assert rows[n]["id"] == pk


def test_json_values_are_stored_as_json_whether_given_as_objects_or_as_json_text():
    order = order_with((product("10.00"), 1))
    table = writer_for([OrderEvent]).tables[OrderEvent]
    rows = [{"order_id": order.id, "type": "commented", "data": {"amount": "1.50", "items": [1, 2]}},
            {"order_id": order.id, "type": "commented", "data": JsonText('{"already": "json", "n": 3}')},
            {"order_id": order.id, "type": "commented"}]  # data left out: the field's default, {}
    with transaction.atomic():
        ids = table.insert_rows(rows, returning=True)
    stored = {e.id: e.data for e in OrderEvent.objects.filter(id__in=ids)}
    assert [stored[pk] for pk in ids] == [{"amount": "1.50", "items": [1, 2]}, {"already": "json", "n": 3}, {}]


def test_seed_writer_builds_decimals_as_text_and_the_import_writer_keeps_decimals():
    row = {"order_id": 1, "method": "cash", "amount": Decimal("12.50"), "state": "captured", "reference": "r"}
    seeded = BulkTable(Payment, "sqlite").build([row], pk=False)[0]
    imported = BulkTable(Payment, "sqlite", decimals_as_text=False).build([row], pk=False)[0]
    column = BulkTable(Payment, "sqlite").without_pk.attnames.index("amount")
    assert seeded[column] == "12.50"
    assert imported[column] == Decimal("12.50")


def test_document_lines_carry_every_amount_of_the_line():
    line = LineAmounts(order_item_id=7, sku="S", name="N", quantity=2, price=Decimal("5.00"),
                       subtotal=Decimal("10.00"), tax_amount=Decimal("2.00"), discount_amount=Decimal("1.00"))
    assert document_item_rows("invoice_id", 3, [line]) == [
        {"invoice_id": 3, "order_item_id": 7, "sku": "S", "name": "N", "quantity": 2, "price": Decimal("5.00"),
         "subtotal": Decimal("10.00"), "tax_amount": Decimal("2.00"), "discount_amount": Decimal("1.00"),
         "total": Decimal("11.00")}]


def test_a_writer_for_explicit_ids_moves_the_sequences_past_them():
    order = order_with((product("10.00"), 1))
    writer = BulkWriter([OrderComment])
    last = OrderComment.objects.create(order=order, comment="orm").id
    with transaction.atomic():
        writer.insert(OrderComment, writer.build(OrderComment, [
            {"id": last + 10, "order_id": order.id, "comment": "explicit", "created_at": writer.when(
                datetime(2025, 1, 1))}]))
        writer.end_bulk_session()
        writer.reset_sequences()
    after = OrderComment.objects.create(order=order, comment="after")
    assert after.id > last + 10
    assert OrderComment.objects.get(id=last + 10).comment == "explicit"


# ---------------------------------------------------------------- foreign keys checked per insert (PostgreSQL)

def _replication_role() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_inside_parents_locked_the_triggers_are_off_and_back_on_after_it_in_the_same_transaction():
    writer = BulkWriter([Payment])
    order = order_with((product("10.00"), 1))
    with transaction.atomic():
        assert _replication_role() == "origin"
        with writer.parents_locked():
            assert _replication_role() == "replica"
            writer.tables[Payment].insert_rows([{"order_id": order.id, "method": "cash", "amount": Decimal("1.00"),
                                                 "state": "captured", "reference": "r1"}])
        # What the transaction writes afterwards (the webhook sinks' rows) has its triggers again.
        assert _replication_role() == "origin"
        assert writer.tables[Payment].guard is None
    assert Payment.objects.filter(order=order, reference="r1").count() == 1


@pytest.mark.postgres
def test_a_row_naming_a_parent_that_does_not_exist_is_refused_and_nothing_of_the_block_stays():
    from django.db import IntegrityError

    writer = BulkWriter([OrderComment, Payment])
    order = order_with((product("10.00"), 1))
    missing = order.id + 10_000
    with transaction.atomic():
        refused = rf"sales_payment\.order_id: no sales_order row with id in \[{missing}\]"
        with pytest.raises(IntegrityError, match=refused), writer.parents_locked():
            writer.tables[OrderComment].insert_rows([{"order_id": order.id, "comment": "kept?"}])
            writer.tables[Payment].insert_rows([{"order_id": missing, "method": "cash", "amount": Decimal("1"),
                                                 "state": "captured", "reference": "r2"}])
        # The savepoint rolled back: the comment written before the refusal, and the setting, are gone.
        assert _replication_role() == "origin"
        assert not OrderComment.objects.filter(order=order, comment="kept?").exists()
    assert not Payment.objects.filter(reference="r2").exists()


@pytest.mark.postgres
def test_rows_may_name_parents_inserted_in_the_same_block_without_a_query():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sales.models import Invoice, InvoiceItem, OrderItem

    writer = BulkWriter([Invoice, InvoiceItem])
    order = order_with((product("10.00"), 1))
    item = OrderItem.objects.get(order=order)
    with transaction.atomic(), writer.parents_locked(), CaptureQueriesContext(connection) as captured:
        [invoice_id] = writer.tables[Invoice].insert_rows(
            [{"order_id": order.id, "number": "INV-GUARD-1", "state": "paid"}], returning=True)
        writer.tables[InvoiceItem].insert_rows(document_item_rows("invoice_id", invoice_id, [LineAmounts(
            order_item_id=item.id, sku="S", name="N", quantity=1, price=Decimal("10.00"),
            subtotal=Decimal("10.00"), tax_amount=Decimal("0"), discount_amount=Decimal("0"))]))
    # One lock query for each parent table named by existing rows (the order, the order line); the
    # invoice the item names was inserted in the block and needs none.
    guards = [q["sql"] for q in captured.captured_queries if "FOR KEY SHARE" in q["sql"]]
    assert len(guards) == 2
    assert any('FROM "sales_order"' in q for q in guards) and any('FROM "sales_orderitem"' in q for q in guards)
    assert InvoiceItem.objects.get(invoice_id=invoice_id).order_item_id == item.id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # as the other race tests (tests/conftest.py)
def test_the_parents_named_stay_locked_against_deletion_until_the_transaction_ends():
    """FOR KEY SHARE, as the trigger takes it: another connection cannot delete (or re-key) the
    order the new rows name while the import's transaction is open, and can once it commits."""
    import threading

    from django.db import OperationalError, connection

    writer = BulkWriter([Payment])
    order = order_with((product("10.00"), 1))
    outcome: list[str] = []

    def other() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
                cursor.execute("SELECT id FROM sales_order WHERE id = %s FOR UPDATE", [order.id])
            outcome.append("locked it")
        except OperationalError as exc:
            outcome.append("waited" if "lock timeout" in str(exc) else repr(exc))
        finally:
            connection.close()

    with transaction.atomic():
        with writer.parents_locked():
            writer.tables[Payment].insert_rows([{"order_id": order.id, "method": "cash", "amount": Decimal("1"),
                                                 "state": "captured", "reference": "r3"}])
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(10)
    thread = threading.Thread(target=other)
    thread.start()
    thread.join(10)
    assert outcome == ["waited", "locked it"]


@pytest.mark.postgres
def test_with_the_setting_off_the_triggers_check_as_usual(settings):
    settings.BULK_SKIP_FK_TRIGGERS = False
    writer = BulkWriter([Payment])
    with transaction.atomic(), writer.parents_locked():
        assert _replication_role() == "origin"
        assert writer.tables[Payment].guard is None


@pytest.mark.postgres
def test_a_table_with_a_trigger_of_its_own_keeps_every_trigger_on():
    """session_replication_role = replica would silence any trigger, not only the foreign keys'
    the guard replaces: a writer whose tables carry one of their own leaves the setting alone."""
    from django.db import connection

    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("CREATE FUNCTION bulk_test_noop() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RETURN NEW; END $$")
        cursor.execute("CREATE TRIGGER bulk_test_noop BEFORE INSERT ON sales_payment "
                       "FOR EACH ROW EXECUTE FUNCTION bulk_test_noop()")
    with transaction.atomic():
        writer = BulkWriter([Payment])
        with writer.parents_locked():
            assert _replication_role() == "origin"
            assert writer.tables[Payment].guard is None
        other = BulkWriter([OrderComment])  # its table has none: skipped as before
        with other.parents_locked():
            assert _replication_role() == "replica"
