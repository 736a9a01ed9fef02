"""Staff-written texts of members' models that customers read, in every
language (django-modeltranslation; see rewards/translation.py): partners'
descriptions and the leaving reasons."""

from modeltranslation.translator import TranslationOptions, register

from members.models import LeaveReason, Partner


@register(Partner)
class PartnerTranslation(TranslationOptions):
    fields = ("description",)


@register(LeaveReason)
class LeaveReasonTranslation(TranslationOptions):
    fields = ("name",)
