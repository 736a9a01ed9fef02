"""Staff-written texts of members that customers read, in every language
(django-modeltranslation; see rewards.translation)."""

from modeltranslation.translator import TranslationOptions, register

from members.models import Interest


@register(Interest)
class InterestTranslation(TranslationOptions):
    fields = ("name",)
