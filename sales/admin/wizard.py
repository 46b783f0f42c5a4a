"""Create Order wizard: admin views over a draft cart (SPEC §4, §8).

customer → products → addresses → shipping → payment → coupon → review → place.

Every step reads and writes the draft cart named in the URL through the cart services
(carts.services.carts) and places it with sales.services.placing.order_place, so a wizard
left half-way is a cart the API can see, going back shows what was saved, and no rule is
written twice. A refused step (a DomainError) shows the service's message, re-renders the
form with what was typed, and writes nothing (the service refuses before any write).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from carts.models import Cart
from carts.selectors import cart_get_detail
from carts.services import carts as cart_services
from catalog.models import Currency
from catalog.selectors import products_with_stock, saleable_of
from config.errors import DomainError
from customers.models import Customer
from customers.services.customers import customer_create
from sales.admin.forms import (
    AddItemForm,
    AddressesStepForm,
    AddressForm,
    CouponForm,
    CustomerCreateForm,
    CustomerPickForm,
    ProductPickForm,
    QuantityForm,
)
from sales.models import Order
from sales.services.placing import order_place

SEARCH_LIMIT = 25


@dataclass(frozen=True)
class Step:
    slug: str
    label: str


STEPS = [Step("customer", "Customer"), Step("products", "Products"), Step("addresses", "Addresses"),
         Step("shipping", "Shipping"), Step("payment", "Payment"), Step("coupon", "Coupon"), Step("review", "Review")]
STEP_SLUGS = [s.slug for s in STEPS]

CART_PERM = "carts.change_cart"
PLACE_PERM = "sales.place_order"


def step_url(cart_id: int, slug: str, **query) -> str:
    url = reverse("admin:sales_order_create_step", args=[cart_id, slug])
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def _form_errors_text(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form[name].label if name in form.fields else name
        text = " ".join(str(e) for e in errors)
        parts.append(text if name == "__all__" else f"{label}: {text}")
    return " ".join(parts)


class OrderWizard:
    """The wizard's views, mounted by OrderAdmin.get_urls() under /admin/sales/order/create/."""

    template_dir = "admin/sales/order/wizard"

    def __init__(self, model_admin):
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    # ------------------------------------------------------------------ plumbing

    def check_perm(self, request) -> None:
        if not request.user.has_perm(CART_PERM):
            raise PermissionDenied

    def render(self, request, step: str, context: dict, cart: Cart | None = None, template: str | None = None):
        index = STEP_SLUGS.index(step)
        ctx = {
            **self.admin_site.each_context(request),
            "opts": Order._meta,
            "title": f"Create order — {STEPS[index].label}",
            "step": step,
            "step_label": STEPS[index].label,
            "steps": self.nav(cart, step),
            "cart": cart,
            "items": list(cart.items.all()) if cart else [],
            "prev_url": step_url(cart.id, STEP_SLUGS[index - 1]) if cart and index > 0 else None,
            "next_url": step_url(cart.id, STEP_SLUGS[index + 1]) if cart and index + 1 < len(STEPS) else None,
            "can_place": request.user.has_perm(PLACE_PERM),
            **context,
        }
        if cart is not None:
            ctx["ships"] = cart_services.cart_has_shippable(ctx["items"])
        return TemplateResponse(request, template or f"{self.template_dir}/{step}.html", ctx)

    def nav(self, cart: Cart | None, current: str) -> list[dict]:
        items = list(cart.items.all()) if cart else []
        ships = cart_services.cart_has_shippable(items)
        done = {
            "customer": cart is not None,
            "products": bool(items),
            "addresses": bool(cart and cart.billing_address),
            "shipping": bool(cart and items and (not ships or cart.shipping_method_id)),
            "payment": bool(cart and cart.payment_method_id),
            "coupon": bool(cart and cart.coupon_id),
            "review": False,
        }
        return [{"slug": s.slug, "label": s.label, "number": n, "current": s.slug == current, "done": done[s.slug],
                 "url": step_url(cart.id, s.slug) if cart else None}
                for n, s in enumerate(STEPS, start=1)]

    def load_cart(self, request, cart_id: int):
        """The cart with its items and methods (constant queries), or a redirect when it was placed."""
        try:
            cart = cart_get_detail(cart_id)
        except DomainError:
            raise Http404(f"Cart {cart_id} not found.") from None
        if not cart.is_active:
            order = Order.objects.filter(cart_id=cart.id).only("id", "number").first()
            if order is not None:
                messages.info(request, f"Cart {cart.id} was already placed as order #{order.number}.")
                return None, HttpResponseRedirect(reverse("admin:sales_order_change", args=[order.id]))
            messages.warning(request, f"Cart {cart.id} can no longer change.")
            return None, HttpResponseRedirect(reverse("admin:sales_order_create"))
        return cart, None

    # ------------------------------------------------------------------ step 1: customer

    def start_view(self, request):
        """Find a customer (or create one) and start a draft cart for them."""
        self.check_perm(request)
        new_form = CustomerCreateForm(prefix="new")
        currencies = list(Currency.objects.filter(enabled=True).order_by("code"))
        if request.method == "POST":
            currency = request.POST.get("currency") or None
            try:
                if request.POST.get("action") == "new":
                    if not request.user.has_perm("customers.add_customer"):
                        raise PermissionDenied
                    new_form = CustomerCreateForm(request.POST, prefix="new")
                    if not new_form.is_valid():
                        messages.error(request, _form_errors_text(new_form))
                        return self.render_start(request, new_form, currencies)
                    customer = customer_create(**new_form.cleaned_data)
                    messages.success(request, f"Customer {customer.email} created.")
                else:
                    try:
                        customer_id = int(request.POST.get("customer_id", ""))
                    except ValueError:
                        messages.error(request, "Pick a customer from the search results.")
                        return self.render_start(request, new_form, currencies)
                    found = Customer.objects.filter(id=customer_id).first()
                    if found is None:
                        messages.error(request, f"Customer {customer_id} does not exist.")
                        return self.render_start(request, new_form, currencies)
                    customer = found
                cart = cart_services.cart_create(customer_id=customer.id, currency=currency, actor=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
                return self.render_start(request, new_form, currencies)
            messages.success(request, f"Draft cart {cart.id} started for {customer}.")
            return HttpResponseRedirect(step_url(cart.id, "products"))
        return self.render_start(request, new_form, currencies)

    def render_start(self, request, new_form, currencies):
        q = (request.GET.get("q") or request.POST.get("q") or "").strip()
        customer_id = request.GET.get("customer")
        results = Customer.objects.none()
        if customer_id and customer_id.isdigit():
            results = Customer.objects.filter(id=int(customer_id))
        elif q:
            results = Customer.objects.filter(Q(email__icontains=q) | Q(first_name__icontains=q)
                                              | Q(last_name__icontains=q)).order_by("email")[:SEARCH_LIMIT]
        drafts = (Cart.objects.filter(is_active=True).select_related("customer")
                  .order_by("-updated_at")[:10])
        return self.render(request, "customer", {
            "q": q, "results": list(results), "searched": bool(q or customer_id), "new_form": new_form,
            "currencies": currencies, "drafts": list(drafts),
            "selected_currency": request.POST.get("currency") or settings.BASE_CURRENCY,
            "can_add_customer": request.user.has_perm("customers.add_customer"),
            # search as you type (the admin's autocomplete) for users who may view customers
            "pick_form": CustomerPickForm() if request.user.has_perm("customers.view_customer") else None,
        })

    def customer_step(self, request, cart: Cart):
        """Going back to step 1 with a cart: the cart's customer; another customer means a new cart."""
        return self.render(request, "customer", {"q": "", "results": [], "searched": False, "drafts": [],
                                                 "new_form": None, "currencies": []}, cart)

    # ------------------------------------------------------------------ dispatch

    def step_view(self, request, cart_id: int, step: str):
        self.check_perm(request)
        if step not in STEP_SLUGS:
            raise Http404(f"No step {step!r}.")
        cart, redirect = self.load_cart(request, cart_id)
        if redirect is not None:
            return redirect
        return getattr(self, f"{step}_step")(request, cart)

    def refused(self, request, exc: DomainError, cart: Cart, step: str, **context):
        """Show the service's message and the same form again; the cart is re-read as it is."""
        messages.error(request, exc.message)
        cart = cart_get_detail(cart.id)
        return getattr(self, f"render_{step}")(request, cart, **context)

    # ------------------------------------------------------------------ step 2: products

    def products_step(self, request, cart: Cart):
        if request.method != "POST":
            return self.render_products(request, cart)
        action = request.POST.get("action")
        q = request.POST.get("q", "")
        try:
            if action == "add":
                form = AddItemForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _form_errors_text(form))
                    return self.render_products(request, cart, posted=request.POST)
                data = form.cleaned_data
                kwargs = {"product_id": data["product_id"]} if data.get("product_id") else {"sku": data["sku"].strip()}
                cart_services.cart_item_add(cart_id=cart.id, quantity=data["quantity"], **kwargs)
                messages.success(request, "Item added.")
            elif action in ("update", "remove"):
                item_id = _int(request.POST.get("item_id"))
                if item_id is None:
                    raise Http404("No such cart line.")
                if action == "remove":
                    cart_services.cart_item_remove(cart_id=cart.id, item_id=item_id)
                    messages.success(request, "Item removed.")
                else:
                    qty_form = QuantityForm(request.POST)
                    if not qty_form.is_valid():
                        messages.error(request, _form_errors_text(qty_form))
                        return self.render_products(request, cart, posted=request.POST)
                    cart_services.cart_item_update(cart_id=cart.id, item_id=item_id,
                                                   quantity=qty_form.cleaned_data["quantity"])
                    messages.success(request, "Quantity updated.")
            else:
                messages.error(request, "Unknown action.")
                return self.render_products(request, cart, posted=request.POST)
        except DomainError as exc:
            return self.refused(request, exc, cart, "products", posted=request.POST)
        return HttpResponseRedirect(step_url(cart.id, "products", q=q))

    def render_products(self, request, cart: Cart, posted=None):
        q = ((posted or {}).get("q") if posted is not None else request.GET.get("q")) or ""
        q = q.strip()
        results: list[dict[str, Any]] = []
        if q:
            qs = (products_with_stock().prefetch_related(None).select_related("parent")
                  .filter(Q(name__icontains=q) | Q(sku__icontains=q)).order_by("name", "id")[:SEARCH_LIMIT])
            results = [{"product": p, "saleable": saleable_of(p)} for p in qs]
        posted_product = _int((posted or {}).get("product_id"))
        posted_item = _int((posted or {}).get("item_id"))
        posted_qty = (posted or {}).get("quantity", "")
        for row in results:
            row["quantity"] = posted_qty if posted_product == row["product"].id else "1"
        lines = [{"item": i, "quantity": posted_qty if posted_item == i.id else i.quantity} for i in cart.items.all()]
        return self.render(request, "products", {
            "q": q, "results": results, "lines": lines,
            "posted_sku": (posted or {}).get("sku", "") if not posted_product else "",
            "posted_sku_qty": posted_qty if (posted or {}).get("sku") and not posted_product else "1",
            "pick_form": ProductPickForm() if request.user.has_perm("catalog.view_product") else None,
        }, cart)

    # ------------------------------------------------------------------ step 3: addresses

    def _book(self, cart: Cart):
        return list(cart.customer.addresses.all())

    def addresses_step(self, request, cart: Cart):
        if request.method != "POST":
            return self.render_addresses(request, cart)
        book = {a.id: a for a in self._book(cart)}
        choices = [(a.id, str(a)) for a in book.values()]
        items = list(cart.items.all())
        ships = cart_services.cart_has_shippable(items)
        mode_form = AddressesStepForm(request.POST)
        billing_form = AddressForm(request.POST, prefix="billing", book_choices=choices)
        shipping_form = AddressForm(request.POST, prefix="shipping", book_choices=choices)
        mode = mode_form.cleaned_data["shipping_mode"] if mode_form.is_valid() else None
        if ships and mode is None:
            messages.error(request, "Choose how the order ships.")
            return self.render_addresses(request, cart, forms=(mode_form, billing_form, shipping_form))
        billing = _address_from(billing_form, book)
        shipping = None
        if ships and mode == AddressesStepForm.OTHER:
            shipping = _address_from(shipping_form, book)
        if billing is None or (ships and mode == AddressesStepForm.OTHER and shipping is None):
            messages.error(request, "Please correct the address fields marked below.")
            return self.render_addresses(request, cart, forms=(mode_form, billing_form, shipping_form))
        try:
            cart_services.cart_addresses_set(
                cart_id=cart.id, billing=billing, shipping=shipping,
                shipping_same_as_billing=ships and mode == AddressesStepForm.SAME)
        except DomainError as exc:
            return self.refused(request, exc, cart, "addresses", forms=(mode_form, billing_form, shipping_form))
        messages.success(request, "Addresses saved.")
        return HttpResponseRedirect(step_url(cart.id, "shipping" if ships else "payment"))

    def render_addresses(self, request, cart: Cart, forms=None):
        book = self._book(cart)
        choices = [(a.id, str(a)) for a in book]
        if forms is None:
            billing = cart.billing_address or _default_address(book, "billing")
            shipping = cart.shipping_address or _default_address(book, "shipping")
            if not cart.billing_address:
                mode = AddressesStepForm.SAME
            elif not cart.shipping_address:
                mode = AddressesStepForm.NONE
            elif cart.shipping_address == cart.billing_address:
                mode = AddressesStepForm.SAME
            else:
                mode = AddressesStepForm.OTHER
            forms = (AddressesStepForm(initial={"shipping_mode": mode}),
                     AddressForm(prefix="billing", initial=billing or {}, book_choices=choices),
                     AddressForm(prefix="shipping", initial=shipping or {}, book_choices=choices))
        mode_form, billing_form, shipping_form = forms
        return self.render(request, "addresses", {
            "mode_form": mode_form, "billing_form": billing_form, "shipping_form": shipping_form,
            "book": [{"id": a.id, **a.as_dict()} for a in book],
        }, cart)

    # ------------------------------------------------------------------ step 4: shipping

    def shipping_step(self, request, cart: Cart):
        if request.method != "POST":
            return self.render_shipping(request, cart)
        code = (request.POST.get("code") or "").strip()
        location_raw = request.POST.get(f"location_{code}") or request.POST.get("location_id") or ""
        location_id = _int(location_raw)
        if not code:
            messages.error(request, "Choose a shipping method.")
            return self.render_shipping(request, cart, posted=request.POST)
        if location_raw and location_id is None:
            messages.error(request, "Choose a pickup location from the list.")
            return self.render_shipping(request, cart, posted=request.POST)
        try:
            cart_services.cart_shipping_method_set(cart_id=cart.id, code=code,
                                                   location_id=location_id if code == "pickup" else None)
        except DomainError as exc:
            return self.refused(request, exc, cart, "shipping", posted=request.POST)
        messages.success(request, "Shipping method saved.")
        return HttpResponseRedirect(step_url(cart.id, "payment"))

    def render_shipping(self, request, cart: Cart, posted=None):
        options = cart_services.cart_shipping_options(cart_id=cart.id)
        selected = (posted or {}).get("code") or (m.code if (m := cart.shipping_method) is not None else "")
        selected_location = _int((posted or {}).get("location_pickup")) or cart.pickup_location_id
        return self.render(request, "shipping", {
            "options": options, "selected": selected, "selected_location": selected_location,
        }, cart)

    # ------------------------------------------------------------------ step 5: payment

    def payment_step(self, request, cart: Cart):
        if request.method != "POST":
            return self.render_payment(request, cart)
        code = (request.POST.get("code") or "").strip()
        if not code:
            messages.error(request, "Choose a payment method.")
            return self.render_payment(request, cart, posted=request.POST)
        try:
            cart_services.cart_payment_method_set(cart_id=cart.id, code=code)
        except DomainError as exc:
            return self.refused(request, exc, cart, "payment", posted=request.POST)
        messages.success(request, "Payment method saved.")
        return HttpResponseRedirect(step_url(cart.id, "coupon"))

    def render_payment(self, request, cart: Cart, posted=None):
        selected = (posted or {}).get("code") or (pm.code if (pm := cart.payment_method) is not None else "")
        return self.render(request, "payment", {"options": cart_services.cart_payment_options(),
                                                "selected": selected}, cart)

    # ------------------------------------------------------------------ step 6: coupon

    def coupon_step(self, request, cart: Cart):
        if request.method != "POST":
            return self.render_coupon(request, cart)
        try:
            if request.POST.get("action") == "remove":
                cart_services.cart_coupon_remove(cart_id=cart.id)
                messages.success(request, "Coupon removed.")
            else:
                form = CouponForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _form_errors_text(form))
                    return self.render_coupon(request, cart, form=form)
                cart = cart_services.cart_coupon_apply(cart_id=cart.id, code=form.cleaned_data["code"])
                applied = cart.coupon.code if cart.coupon is not None else form.cleaned_data["code"]
                messages.success(request, f"Coupon {applied} applied.")
        except DomainError as exc:
            return self.refused(request, exc, cart, "coupon", form=CouponForm(request.POST))
        return HttpResponseRedirect(step_url(cart.id, "coupon"))

    def render_coupon(self, request, cart: Cart, form=None):
        return self.render(request, "coupon", {"form": form or CouponForm()}, cart)

    # ------------------------------------------------------------------ step 7: review and place

    def review_step(self, request, cart: Cart):
        if request.method != "POST":
            return self.render_review(request, cart)
        if not request.user.has_perm(PLACE_PERM):
            raise PermissionDenied
        try:
            order = order_place(cart_id=cart.id, actor=request.user)
        except DomainError as exc:
            return self.refused(request, exc, cart, "review")
        messages.success(request, f"Order #{order.number} placed.")
        return HttpResponseRedirect(reverse("admin:sales_order_change", args=[order.id]))

    def render_review(self, request, cart: Cart):
        return self.render(request, "review", {}, cart)


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _address_from(form: AddressForm, book: dict) -> dict | None:
    """An address from the address-book pick (when one is chosen) or from the typed fields."""
    book_id = _int(form.data.get(form.add_prefix("book")))
    if book_id is not None and book_id in book:
        return book[book_id].as_dict()
    if form.is_valid():
        return form.address()
    return None


def _default_address(book, kind: str) -> dict | None:
    flag = f"is_default_{kind}"
    for a in book:
        if getattr(a, flag):
            return a.as_dict()
    return book[0].as_dict() if book else None


__all__ = ["OrderWizard", "STEPS", "step_url"]
