"""Staff-written texts that customers read, kept in every language
(django-modeltranslation): `name_uk`, `name_ru`, `name_ro`, `name_en`... next
to each field. Reading `reward.name` gives the active language's text, else the
fallback order set once in settings (MODELTRANSLATION_FALLBACK_LANGUAGES)."""

from modeltranslation.translator import TranslationOptions, register

from rewards.models import (
    Category,
    EarningRule,
    MembershipPlan,
    PromoCode,
    Reward,
    StampProgram,
    Tier,
)


@register(Reward)
class RewardTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Category)
class CategoryTranslation(TranslationOptions):
    fields = ("name",)


@register(Tier)
class TierTranslation(TranslationOptions):
    fields = ("name", "benefits")


@register(StampProgram)
class StampProgramTranslation(TranslationOptions):
    fields = ("name", "description")


@register(MembershipPlan)
class MembershipPlanTranslation(TranslationOptions):
    fields = ("name", "description")


# Earning rules and promotions (a kind of rule): the name is shown to customers
# in the "why you got these points" breakdown.
@register(EarningRule)
class EarningRuleTranslation(TranslationOptions):
    fields = ("name",)


@register(PromoCode)
class PromoCodeTranslation(TranslationOptions):
    fields = ("name", "description")
