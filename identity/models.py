from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"


STAFF_ROLES = (Role.AGENT, Role.SUPERVISOR)


class User(AbstractUser):
    """Everyone who signs in to Flux. The role decides what they may do; a customer's profile
    (names, email, phone, address) lives here too."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    phone = models.CharField(max_length=32, blank=True)
    address = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
        ]

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_bank_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR


class RoleManager(UserManager):
    role: str = ""

    def get_queryset(self):
        return super().get_queryset().filter(role=self.role)


class CustomerManager(RoleManager):
    role = Role.CUSTOMER


class AgentManager(RoleManager):
    role = Role.AGENT


class SupervisorManager(RoleManager):
    role = Role.SUPERVISOR


class Customer(User):
    objects = CustomerManager()

    class Meta:
        proxy = True


class Agent(User):
    objects = AgentManager()

    class Meta:
        proxy = True


class Supervisor(User):
    objects = SupervisorManager()

    class Meta:
        proxy = True
