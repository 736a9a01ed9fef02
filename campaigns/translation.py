"""Staff-written texts that customers read, kept in every language
(django-modeltranslation): `title_uk`, `title_ru`, `title_ro`, `title_en`...
next to each field. Reading `event.title` gives the active language's text,
else the fallback order set once in settings (MODELTRANSLATION_FALLBACK_LANGUAGES);
messages are rendered under `translation.override(member.language)`."""

from modeltranslation.translator import TranslationOptions, register

from campaigns.models import (
    CampaignVariant,
    ContentPage,
    Event,
    Journey,
    Survey,
    SurveyChoice,
    SurveyQuestion,
)


@register(Event)
class EventTranslation(TranslationOptions):
    fields = ("title", "description")


@register(ContentPage)
class ContentPageTranslation(TranslationOptions):
    fields = ("title", "body")


@register(CampaignVariant)
class CampaignVariantTranslation(TranslationOptions):
    fields = ("subject", "body")


@register(Journey)
class JourneyTranslation(TranslationOptions):
    fields = ("subject", "body")


@register(Survey)
class SurveyTranslation(TranslationOptions):
    fields = ("question",)


@register(SurveyQuestion)
class SurveyQuestionTranslation(TranslationOptions):
    fields = ("text",)


@register(SurveyChoice)
class SurveyChoiceTranslation(TranslationOptions):
    fields = ("text",)
