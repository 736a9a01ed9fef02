"""Staff-written texts of members' models that customers read, in every
language (django-modeltranslation; see rewards/translation.py): partners'
descriptions, the leaving reasons and the interests members pick from."""

from modeltranslation.translator import TranslationOptions, register

from members.models import Interest, LeaveReason, Partner


@register(Partner)
class PartnerTranslation(TranslationOptions):
    fields = ("description",)


@register(LeaveReason)
class LeaveReasonTranslation(TranslationOptions):
    fields = ("name",)


@register(Interest)
class InterestTranslation(TranslationOptions):
    fields = ("name",)
