from django.contrib import admin

from audit.admin import ReadOnlyModelAdmin
from identity.models import User


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
