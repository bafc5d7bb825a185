from rest_framework.permissions import BasePermission


class IsBankStaff(BasePermission):
    """Agents and supervisors."""

    message = "Only bank staff may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_bank_staff)


class IsSupervisor(BasePermission):
    message = "Only supervisors may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_supervisor)


class IsCustomer(BasePermission):
    message = "Only customers may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_customer)
