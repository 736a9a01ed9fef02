"""Staff-written texts of members that customers read, in every language
(django-modeltranslation, as rewards/translation.py): the leaving reasons."""

from modeltranslation.translator import TranslationOptions, register

from members.models import LeaveReason


@register(LeaveReason)
class LeaveReasonTranslation(TranslationOptions):
    fields = ("name",)
