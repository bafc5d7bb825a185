"""GET customers/ (staff: the customer directory, searched by name, contact or IBAN) and POST
customers/ (staff: a new customer). In banking because the search reaches into accounts (an IBAN);
a customer's own record is identity's (identity/api/views.py, customers/{id}/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from banking.selectors import customer_search
from core.api.permissions import IsBankStaff
from core.api.schema import errors
from identity import services
from identity.api import examples
from identity.api.serializers import CustomerCreateSerializer, CustomerSerializer
from identity.password_links import public_base_url


class CustomerListCreateView(generics.ListAPIView):
    """Customers (staff): `?q=` matches names, username, email, phone or part of an IBAN."""

    permission_classes = [IsBankStaff]
    serializer_class = CustomerSerializer

    def get_queryset(self):
        return customer_search(query=self.request.query_params.get("q", ""))

    @extend_schema(
        summary="Find customers (staff)",
        parameters=[OpenApiParameter("q", str, description="Search text: names, username, email, phone or "
                                     "part of an IBAN.", examples=[OpenApiExample("A name", value="alice")])],
        responses={200: CustomerSerializer(many=True), **errors(400, 403)},
        examples=examples.CUSTOMER_EXAMPLES,
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a customer (staff)",
        description="Without a `password`, the customer gets a one-time link by mail (to `email`) to choose "
        "their own; `password_set` is false until they do. No password is ever returned.",
        request=CustomerCreateSerializer,
        responses={201: CustomerSerializer, **errors(400, 403)},
        examples=examples.CUSTOMER_CREATE_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        params = CustomerCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, base_url=public_base_url(request),
                                            **params.validated_data)
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)
