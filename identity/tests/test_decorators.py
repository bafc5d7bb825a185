"""staff_required: who may open a staff page."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from identity.decorators import staff_required


@staff_required
def staff_page(request):
    return HttpResponse("staff page")


@staff_required(supervisor=True)
def supervisor_page(request):
    return HttpResponse("supervisor page")


@staff_required
async def async_staff_page(request):
    return HttpResponse("async staff page")


def get(user, path="/agent/somewhere/?q=1"):
    request = RequestFactory().get(path)
    request.user = user
    request.session = {}
    return request


def test_a_signed_out_visitor_goes_to_the_sign_in_page_and_back(db):
    response = staff_page(get(AnonymousUser()))

    assert response.status_code == 302
    assert response.url == "/login/?next=/agent/somewhere/%3Fq%3D1"


def test_a_customer_gets_the_403_page(alice):
    response = staff_page(get(alice))

    assert response.status_code == 403
    assert "No access" in response.content.decode()
    assert "staff page" not in response.content.decode()


@pytest.mark.parametrize("who", ["agnes", "sam"])
def test_agents_and_supervisors_reach_a_staff_page(request, who):
    response = staff_page(get(request.getfixturevalue(who)))

    assert response.status_code == 200
    assert response.content == b"staff page"


def test_an_agent_gets_the_403_page_on_a_supervisor_page(agnes, sam, alice):
    refused = supervisor_page(get(agnes))

    assert refused.status_code == 403
    assert "for supervisors" in refused.content.decode()
    assert supervisor_page(get(alice)).status_code == 403
    assert supervisor_page(get(sam)).content == b"supervisor page"


def test_async_views_are_guarded_the_same_way(agnes, alice):
    def request_for(user):
        request = get(user)

        async def auser():
            return user

        request.auser = auser
        return request

    assert async_to_sync(async_staff_page)(request_for(alice)).status_code == 403
    assert async_to_sync(async_staff_page)(request_for(agnes)).content == b"async staff page"
