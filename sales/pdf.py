"""Invoice PDF (SPEC §6), drawn with fpdf2.

Laid out like a merchant's invoice: the store's name and the invoice number in a header,
the invoice and order facts, the billing and shipping addresses side by side, a table of the
lines with a header row (SKU, product, qty, price, subtotal, discount, tax, total; money
right-aligned), then the totals block and a footer with the page number.

Text is Unicode-safe: the DejaVu TrueType fonts are embedded when the system has them
(Debian's ``fonts-dejavu-core``, or a folder named by the ``PDF_FONT_DIR`` setting); without
them the core Helvetica font is used and every character outside Latin-1 is replaced by its
closest ASCII spelling (``€`` → ``EUR``), so no name or currency can make the PDF fail.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF, FontFace, XPos, YPos

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
_REPLACEMENTS = {"€": "EUR", "£": "GBP", "–": "-", "—": "-", "−": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
                 "…": "...", "•": "*", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe",
                 "ı": "i", "№": "No"}

INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
HEAD_FILL = (233, 236, 239)
ACCENT = (25, 84, 166)

COLUMNS = (  # heading, width (mm), alignment
    ("SKU", 25, "LEFT"), ("Product", 49, "LEFT"), ("Qty", 11, "RIGHT"), ("Price", 19, "RIGHT"),
    ("Subtotal", 20, "RIGHT"), ("Discount", 19, "RIGHT"), ("Tax", 17, "RIGHT"), ("Total", 20, "RIGHT"),
)


def _font_dir() -> Path | None:
    candidates = [getattr(settings, "PDF_FONT_DIR", None), *FONT_DIRS]
    for folder in candidates:
        if folder and all((Path(folder) / name).is_file() for name in FONT_FILES.values()):
            return Path(folder)
    return None


def money(amount: Decimal | int | str) -> str:
    """1234.5 → "1,234.50" (two decimals, thousands separated)."""
    return f"{Decimal(amount):,.2f}"


def _date(value) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local:%B} {local.day}, {local.year}"


def address_lines(address: dict | None) -> list[str]:
    if not address:
        return []
    name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
    city = " ".join(p for p in (address.get("city"), address.get("zone"), address.get("postcode")) if p)
    lines = [name, address.get("company"), address.get("line_1"), address.get("line_2"), city,
             address.get("country"), address.get("phone")]
    return [str(x) for x in lines if x]


class InvoiceDocument(FPDF):
    def __init__(self, *, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        folder = _font_dir()
        self.unicode_ok = folder is not None
        if folder is not None:
            for style, name in FONT_FILES.items():
                self.add_font("DejaVu", style, str(folder / name))
            self.base_family = "DejaVu"
        else:
            self.base_family = "Helvetica"
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=20)
        self.set_creator(settings.STORE_NAME)

    def t(self, text) -> str:
        """Text the current font can draw."""
        text = "" if text is None else str(text)
        if self.unicode_ok:
            return text
        out = []
        for ch in text:
            if ord(ch) < 256:
                out.append(ch)
            elif ch in _REPLACEMENTS:
                out.append(_REPLACEMENTS[ch])
            else:
                ascii_ = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
                out.append(ascii_ or "?")
        return "".join(out)

    def font(self, size: float, style: str = "", color=INK) -> None:
        self.set_font(self.base_family, style, size)
        self.set_text_color(*color)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.font(8, color=MUTED)
        self.cell(0, 7, self.t(self.footer_text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 7, f"Page {self.page_no()} of {{nb}}", align="R")


def invoice_pdf(invoice) -> bytes:
    """The invoice (with its order and items loaded, e.g. from ``invoice_queryset()``) as PDF bytes."""
    return invoices_pdf([invoice])


def invoices_pdf(invoices) -> bytes:
    """Several invoices in one PDF (the admin's "Print invoices"), each starting on its own page with
    its own footer; page numbers run through the whole file. Reads one query (the currency symbols)."""
    invoices = list(invoices)
    pdf = InvoiceDocument(footer_text="")
    symbols = _currency_symbols({inv.order.currency for inv in invoices})
    if len(invoices) == 1:
        invoice = invoices[0]
        pdf.set_title(f"Invoice #{invoice.number}")
        pdf.set_subject(f"Invoice #{invoice.number} for order #{invoice.order.number}")
    else:
        pdf.set_title(f"{len(invoices)} invoices")
        pdf.set_subject(", ".join(f"Invoice #{inv.number}" for inv in invoices[:50]))
    pdf.set_author(settings.STORE_NAME)
    for invoice in invoices:
        draw_invoice(pdf, invoice, symbols.get(invoice.order.currency, ""))
    return bytes(pdf.output())


def begin_document(pdf: InvoiceDocument, footer_text: str) -> float:
    """A new page for the next document in ``pdf``; its pages carry ``footer_text``. Returns the
    usable width. (The previous page's footer is drawn by add_page, before the text changes.)"""
    pdf.add_page()
    pdf.footer_text = footer_text
    return pdf.w - pdf.l_margin - pdf.r_margin


def draw_heading(pdf: InvoiceDocument, title: str, subtitle: str) -> None:
    """The store's name on the left, the document's title and number on the right, a rule under."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    t = pdf.t
    top = pdf.get_y()
    pdf.font(18, "B", ACCENT)
    pdf.multi_cell(width * 0.6, 9, t(settings.STORE_NAME), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    store_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width * 0.6, top)
    pdf.font(22 if len(title) <= 8 else 18, "B")
    pdf.cell(width * 0.4, 10, t(title), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + width * 0.4)
    pdf.font(11, "B", MUTED)
    pdf.cell(width * 0.6, 6, t(subtitle), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), store_bottom) + 3)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_line_width(0.2)
    pdf.ln(5)


def draw_facts(pdf: InvoiceDocument, left: list[tuple[str, str]], right: list[tuple[str, str]],
               bold: tuple[str, ...] = ()) -> None:
    """Two columns of label / value pairs."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    y0 = pdf.get_y()
    bottoms = []
    for column, facts in enumerate((left, right)):
        pdf.set_y(y0)
        x = pdf.l_margin + column * width / 2
        for label, value in facts:
            pdf.set_x(x)
            pdf.font(9, color=MUTED)
            pdf.cell(32, 5.5, pdf.t(label))
            pdf.font(9, "B" if label in bold else "")
            pdf.multi_cell(width / 2 - 34, 5.5, pdf.t(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        bottoms.append(pdf.get_y())
    pdf.set_y(max(bottoms))
    pdf.ln(5)


def draw_address_columns(pdf: InvoiceDocument, columns: list[tuple[str, list[str]]]) -> None:
    """Side-by-side address blocks, each under a small title; the first line in bold."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    y0 = pdf.get_y()
    bottoms = []
    for column, (title, lines) in enumerate(columns):
        x = pdf.l_margin + column * width / 2
        pdf.set_xy(x, y0)
        pdf.font(8, "B", MUTED)
        pdf.cell(width / 2 - 6, 5, pdf.t(title.upper()), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_draw_color(*RULE)
        pdf.line(x, pdf.get_y(), x + width / 2 - 8, pdf.get_y())
        pdf.ln(1.5)
        for n, line in enumerate(lines):
            pdf.set_x(x)
            pdf.font(10, "B" if n == 0 else "")
            pdf.multi_cell(width / 2 - 8, 5, pdf.t(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        bottoms.append(pdf.get_y())
    pdf.set_y(max(bottoms) + 8)


def draw_table(pdf: InvoiceDocument, columns, rows) -> None:
    """A table with a heading row (repeated on each page) and horizontal rules; ``columns`` is
    (heading, width in mm, alignment) and each row a sequence of strings."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.font(8.5)
    pdf.set_draw_color(*RULE)
    with pdf.table(
        col_widths=tuple(c[1] for c in columns), text_align=tuple(c[2] for c in columns),
        headings_style=FontFace(emphasis="BOLD", color=INK, fill_color=HEAD_FILL),
        line_height=4.4, padding=(1.3, 1.5), borders_layout="HORIZONTAL_LINES", first_row_as_headings=True,
        width=width,
    ) as table:
        head = table.row()
        for heading, _, _ in columns:
            head.cell(heading)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(pdf.t(value))
    pdf.ln(4)


def ship_to(order) -> tuple[str, list[str]]:
    """The "Ship to" (or "Pickup at") block of an order."""
    if order.fulfillment_type == "pickup" and order.pickup_location_id:
        location = order.pickup_location
        return "Pickup at", [location.name, *address_lines(location.address)[1:]]
    if order.shipping_address:
        return "Ship to", address_lines(order.shipping_address)
    return "Ship to", ["Nothing to ship"]


def draw_invoice(pdf: InvoiceDocument, invoice, symbol: str = "") -> None:
    """One invoice, from a new page of ``pdf``."""
    order = invoice.order
    items = list(invoice.items.all())
    if pdf.t(symbol) != symbol:  # the core font cannot draw it; the label names the currency anyway
        symbol = ""
    width = begin_document(pdf, f"{settings.STORE_NAME} · Invoice #{invoice.number}")
    t = pdf.t

    # Header: store on the left, INVOICE and its number on the right.
    draw_heading(pdf, "INVOICE", f"Invoice #{invoice.number}")

    # Facts: invoice and order on the left, payment and shipping on the right.
    state = (invoice.state or "").upper()
    draw_facts(pdf,
               [("Invoice date", _date(invoice.created_at)), ("Order", f"#{order.number}"),
                ("Order date", _date(order.created_at))],
               [("Payment method", order.payment_method_title or order.payment_method_code or "-"),
                ("Shipping method", _shipping_label(order)), ("Status", state or "-")],
               bold=("Order", "Status"))

    # Addresses, two columns.
    bill = address_lines(order.billing_address) or [order.customer_name or order.customer_email]
    if order.customer_email and order.customer_email not in bill:
        bill.append(order.customer_email)
    draw_address_columns(pdf, [("Bill to", bill), ship_to(order)])

    # Lines.
    draw_table(pdf, COLUMNS, [
        (item.sku or "-", item.name, str(item.quantity), money(item.price), money(item.subtotal),
         _minus(item.discount_amount), money(item.tax_amount), money(item.total)) for item in items])

    # Totals, right-aligned under the table.
    rows = [("Subtotal", money(invoice.subtotal)), ("Discount", _minus(invoice.discount_total)),
            ("Tax", money(invoice.tax_total)), ("Shipping", money(invoice.shipping_total))]
    if not invoice.discount_total:
        rows.pop(1)  # no "Discount 0.00" line
    label_w, value_w = 45, 35
    x = pdf.w - pdf.r_margin - label_w - value_w
    if pdf.will_page_break(6 * len(rows) + 40):  # keep the totals and the closing note together
        pdf.add_page()
    for label, value in rows:
        pdf.set_x(x)
        pdf.font(9.5, color=MUTED)
        pdf.cell(label_w, 6, label)
        pdf.font(9.5)
        pdf.cell(value_w, 6, t(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*INK)
    pdf.line(x, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
    pdf.ln(2.5)
    pdf.set_x(x)
    pdf.set_fill_color(*HEAD_FILL)
    pdf.font(11, "B")
    pdf.cell(label_w, 9, t(f" Grand total ({order.currency})"), fill=True)
    pdf.cell(value_w, 9, t(f"{symbol}{money(invoice.grand_total)} "), align="R", fill=True,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if invoice.state == "paid":
        pdf.set_x(x)
        pdf.font(8.5, color=MUTED)
        pdf.cell(label_w + value_w, 6, t(f"Paid in full · {order.payment_method_title or order.payment_method_code}"),
                 align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(10)
    pdf.font(9, color=MUTED)
    pdf.multi_cell(width, 5, t(f"Thank you for shopping with {settings.STORE_NAME}. Questions about this invoice? "
                               f"Reply to your order e-mail quoting order #{order.number}."), align="L")


# ---------------------------------------------------------------------------- packing slips (SPEC §14)

SLIP_COLUMNS = (("SKU", 35, "LEFT"), ("Product", 105, "LEFT"), ("Qty", 20, "RIGHT"), ("Packed", 20, "CENTER"))


def packing_slips_pdf(slips) -> bytes:
    """Packing slips (sales.packing.PackingSlip) in one PDF, each from a new page: what goes in the
    parcel (SKU, product, quantity), where it goes and where it is picked from — no prices."""
    slips = list(slips)
    pdf = InvoiceDocument(footer_text="")
    pdf.set_title(slips[0].title if len(slips) == 1 else f"{len(slips)} packing slips")
    pdf.set_author(settings.STORE_NAME)
    for slip in slips:
        draw_packing_slip(pdf, slip)
    return bytes(pdf.output())


def draw_packing_slip(pdf: InvoiceDocument, slip) -> None:
    begin_document(pdf, f"{settings.STORE_NAME} · {slip.title}")
    draw_heading(pdf, "PACKING SLIP", slip.title)
    order = slip.order
    left = [("Order", f"#{order.number}"), ("Order date", _date(order.created_at))]
    if slip.date is not None:
        left.insert(0, ("Shipped on", _date(slip.date)))
    right = [("Shipping method", _shipping_label(order)), ("Units", str(slip.total_qty))]
    if slip.carrier or slip.tracking:
        right.append(("Carrier", " · ".join(x for x in (slip.carrier, slip.tracking) if x)))
    draw_facts(pdf, left, right, bold=("Order", "Units"))
    source = [slip.source_name or "To be chosen", *slip.source_lines]
    if slip.source_note:
        source.append(slip.source_note)
    draw_address_columns(pdf, [ship_to(order), ("Pick from" if slip.date is None else "Shipped from", source)])
    draw_table(pdf, SLIP_COLUMNS, [(line.sku or "-", line.name, str(line.quantity), "[   ]") for line in slip.lines])
    if slip.note:
        pdf.font(9, color=MUTED)
        pdf.multi_cell(pdf.w - pdf.l_margin - pdf.r_margin, 5, pdf.t(slip.note), align="L")


def _minus(amount: Decimal) -> str:
    return f"-{money(amount)}" if amount else money(amount)


def _shipping_label(order) -> str:
    if order.fulfillment_type == "none":
        return "Nothing ships"
    return order.shipping_method_title or order.shipping_method_code or "-"


def _currency_symbols(codes) -> dict[str, str]:
    """Code → symbol for the given currencies, in one query."""
    from catalog.models import Currency

    return {code: symbol or "" for code, symbol in Currency.objects.filter(code__in=set(codes))
            .values_list("code", "symbol")}
