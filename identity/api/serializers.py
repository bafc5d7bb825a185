from rest_framework import serializers

from identity.models import User


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    otp = serializers.CharField(max_length=16, required=False, allow_blank=True)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2000)


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "role", "first_name", "last_name", "email"]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    password_set = serializers.BooleanField(
        source="has_usable_password", read_only=True,
        help_text="The customer has a password: given at onboarding, or chosen through the link sent by mail.",
    )

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "phone", "address", "is_active",
                  "date_joined", "password_set"]
        read_only_fields = fields


class CustomerCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(
        required=False, allow_blank=True, max_length=128, trim_whitespace=False, write_only=True,
        help_text="Only when the customer typed it in your own onboarding. Left out, the customer gets a "
        "one-time link by mail to choose it; no password is ever returned.",
    )
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")
    address = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
