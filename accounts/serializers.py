from django.contrib.auth import get_user_model
from rest_framework import serializers

from .forms import DeleteAccountForm, SignupForm
from .models import DeviceToken

# The sign-up form's fields under the API's names: the API validates through the
# form, so both ways in apply the same rules and say the same things.
FORM_TO_API_FIELDS = {"password1": "password", "password2": "password", "__all__": "non_field_errors"}


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "date_joined"]
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    def validate(self, data: dict) -> dict:
        password = data["password"]
        form = SignupForm(
            {"username": data["username"], "email": data["email"], "password1": password, "password2": password}
        )
        if not form.is_valid():
            errors: dict[str, list[str]] = {}
            for field, messages in form.errors.items():
                errors.setdefault(FORM_TO_API_FIELDS.get(field, field), []).extend(messages)
            raise serializers.ValidationError(errors)
        self.form = form
        return data

    def create(self, validated_data: dict):
        return self.form.save()

    def to_representation(self, user) -> dict:
        return UserSerializer(user).data


class SignInSerializer(serializers.Serializer):
    # No user name is longer; a longer one would also overflow the sign-in failure
    # record (django-axes keeps 255 characters) and fail with a server error.
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    device_name = serializers.CharField(max_length=100, help_text="Shown in the list of signed-in devices.")


class DeviceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    current = serializers.SerializerMethodField(help_text="Whether this is the token of this request.")

    class Meta:
        model = DeviceToken
        fields = ["id", "device_name", "created", "expiry", "current"]
        read_only_fields = fields

    def get_current(self, token: DeviceToken) -> bool:
        in_use = self.context["request"].auth
        return isinstance(in_use, DeviceToken) and in_use.pk == token.pk


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown only this once.")
    expiry = serializers.DateTimeField(help_text="Each request moves the expiry forward by the token lifetime.")
    device = DeviceSerializer()
    user = UserSerializer()


class MeSerializer(serializers.Serializer):
    user = UserSerializer()
    photo_count = serializers.IntegerField()
    bytes_used = serializers.IntegerField()
    quota_bytes = serializers.IntegerField()
    percent_used = serializers.IntegerField()


class DeleteAccountSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, help_text="The account's password, to confirm.")

    def validate_password(self, password: str) -> str:
        # Through the web page's form, so that both ways say the same.
        form = DeleteAccountForm(self.context["request"].user, {"password": password})
        if not form.is_valid():
            raise serializers.ValidationError(form.errors["password"])
        return password
