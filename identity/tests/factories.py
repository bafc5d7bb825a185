"""Factories for the people the tests need: plain user rows, signing in with TEST_PASSWORD."""

from __future__ import annotations

import factory

from core.testing.users import TEST_PASSWORD
from identity.models import Role, User

__all__ = ["TEST_PASSWORD", "AgentFactory", "CustomerFactory", "SupervisorFactory", "UserFactory", "make_user"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    role = Role.CUSTOMER
    password = factory.django.Password(TEST_PASSWORD)


class CustomerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"customer{n}")
    role = Role.CUSTOMER


class AgentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n}")
    role = Role.AGENT


class SupervisorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"supervisor{n}")
    role = Role.SUPERVISOR


def make_user(username: str, role: str = Role.CUSTOMER, **extra) -> User:
    extra.setdefault("email", f"{username}@example.test")
    extra.setdefault("first_name", username.capitalize())
    extra.setdefault("last_name", "Tester")
    return User.objects.create_user(username=username, password=TEST_PASSWORD, role=role, **extra)
