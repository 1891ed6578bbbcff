"""factory_boy factories. Every tenant object takes its organization from its parent, and is
created inside ``tenant_context`` so row-level security accepts the insert."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from alignment.models import (
    Account,
    LifecycleStage,
    Membership,
    Organization,
    ProductArea,
    Role,
    Segment,
    User,
)
from alignment.tenancy import tenant_context


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @classmethod
    def _after_postgeneration(cls, instance: Any, create: bool, results: Any = None) -> None:
        if create and results:
            instance.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    timezone = "America/New_York"
    holiday_country = "US"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        with tenant_context(kwargs["organization"]):
            return super()._create(model_class, *args, **kwargs)


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CSM


class AccountFactory(TenantFactory):
    class Meta:
        model = Account

    csm = None
    organization = factory.LazyAttribute(
        lambda o: o.csm.organization if o.csm is not None else OrganizationFactory()
    )
    external_id = factory.Sequence(lambda n: f"CRM-{n:05d}")
    name = factory.Faker("company")
    arr = Decimal("50000.00")
    segment = Segment.MID_MARKET
    lifecycle_stage = LifecycleStage.ONBOARDED


class ProductAreaFactory(TenantFactory):
    class Meta:
        model = ProductArea

    pm = None
    organization = factory.LazyAttribute(
        lambda o: o.pm.organization if o.pm is not None else OrganizationFactory()
    )
    name = factory.Sequence(lambda n: f"Area {n}")
