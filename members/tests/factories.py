import factory
from factory.django import DjangoModelFactory

from members.models import Partner, Store, User
from members.services import member_enroll


class StoreFactory(DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"s{n}")
    name = factory.Sequence(lambda n: f"Shop {n}")
    address = factory.Faker("street_address")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda o: o.username)
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MemberFactory(factory.Factory):
    """Members are made through member_enroll so each gets its card and points account."""

    class Meta:
        model = dict

    phone = factory.Sequence(lambda n: f"+38067{n:07d}")
    email = factory.Sequence(lambda n: f"member{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    store = factory.SubFactory(StoreFactory)
    user = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return member_enroll(**kwargs)

    _build = _create


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    contact_email = factory.Sequence(lambda n: f"partner{n}@example.com")


class InterestFactory(DjangoModelFactory):
    """An interest of the staff's list (names in every language)."""

    class Meta:
        model = "members.Interest"

    code = factory.Sequence(lambda n: f"interest-{n}")
    name = factory.Sequence(lambda n: f"Interest {n}")
    name_uk = factory.LazyAttribute(lambda o: o.name)
    name_ru = factory.LazyAttribute(lambda o: o.name)
    name_ro = factory.LazyAttribute(lambda o: o.name)
    name_en = factory.LazyAttribute(lambda o: o.name)
    active = True
    order = 0
    purchase_categories = ""
