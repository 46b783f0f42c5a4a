from rest_framework import serializers

from accounts.models import User
from config.fields import LowerCaseCharField


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name"]


class LoginSerializer(serializers.Serializer):
    # Checked lower-cased, as the login and its throttle record (254 characters) use it.
    email = LowerCaseCharField(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False, style={"input_type": "password"})


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)
    user = UserSummarySerializer()
