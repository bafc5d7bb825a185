from django.contrib import admin

from core.admin import ReadOnlyModelAdmin
from identity.models import Role, User


@admin.register(User)
class UserAdmin(ReadOnlyModelAdmin):
    list_display = ("username", "role", "first_name", "last_name", "email", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "email", "phone")
    ordering = ("username",)
    # No password hash on the page, even read-only.
    fields = (
        "username",
        "role",
        "first_name",
        "last_name",
        "email",
        "phone",
        "address",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "last_login",
        "date_joined",
    )

    def get_queryset(self, request):
        users = super().get_queryset(request)
        # The staff directory is a supervisor's (GET staff/ in the API, the staff page): an agent
        # sees the customers, as at the desk.
        if request.user.is_superuser or request.user.is_supervisor:
            return users
        return users.filter(role=Role.CUSTOMER)
