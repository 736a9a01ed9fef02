"""Staff-written texts of members' models that customers read, in every
language (django-modeltranslation; see rewards/translation.py)."""

from modeltranslation.translator import TranslationOptions, register

from members.models import Partner


@register(Partner)
class PartnerTranslation(TranslationOptions):
    fields = ("description",)
