"""What every customer page shares: who may see it."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.decorators import refuse_unless


def customer_refusal(request: HttpRequest, user) -> HttpResponse | None:
    """Customers through; a signed-out visitor to the sign-in page (and back after); bank staff
    get a 403 page, because the customer pages show a customer's own money and staff have none."""
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user.is_customer:
        return render(request, "portal/forbidden.html", status=403)
    return None


customer_required = refuse_unless(customer_refusal)
