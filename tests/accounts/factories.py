import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    name = factory.Faker("name")
    is_staff = True
    is_active = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")
