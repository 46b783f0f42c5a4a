"""The hosted checkout page a customer opens from `checkout_url` (SPEC §7.1)."""

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from config.errors import DomainError, NotFound
from sales.services.checkout import checkout_pay, order_for_checkout, order_is_payable


@require_http_methods(["GET", "POST"])
def checkout_page(request, token: str):
    try:
        order = order_for_checkout(token)
    except NotFound:
        raise Http404("No order for this checkout link.") from None
    error = None
    if request.method == "POST":
        try:
            checkout_pay(token=token, provider="test")
        except DomainError as exc:
            error = exc.message
        else:
            return_url = order.extra.get("return_url")
            if return_url:
                return HttpResponseRedirect(return_url)
            return HttpResponseRedirect(request.path + "?paid=1")
        order = order_for_checkout(token)
    return render(request, "checkout/page.html", {"order": order, "items": list(order.items.all()), "error": error,
                                                  "paid": order.payment_captured, "payable": order_is_payable(order)})
