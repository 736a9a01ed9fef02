"""Each survey of the one-question shape gets that question as its first
SurveyQuestion (NPS 0–10 or score 1–5, in every language), and each of its
responses the matching SurveyAnswer, so per-question results start with the
whole history; SurveyResponse.score is kept, so the NPS and satisfaction
figures stay exactly what they were."""

from django.db import migrations

LANGS = ("uk", "ru", "ro", "en")
KIND = {"nps": "nps", "satisfaction": "score"}
BATCH = 2000


def forwards(apps, schema_editor):
    Survey = apps.get_model("campaigns", "Survey")
    SurveyQuestion = apps.get_model("campaigns", "SurveyQuestion")
    SurveyResponse = apps.get_model("campaigns", "SurveyResponse")
    SurveyAnswer = apps.get_model("campaigns", "SurveyAnswer")
    for survey in Survey.objects.filter(kind__in=list(KIND)).order_by("pk"):
        if SurveyQuestion.objects.filter(survey=survey).exists():
            continue
        texts = {f"text_{lang}": getattr(survey, f"question_{lang}") for lang in LANGS}
        question = SurveyQuestion.objects.create(
            survey=survey,
            kind=KIND[survey.kind],
            text=survey.question,
            required=True,
            order=0,
            **texts,
        )
        batch = []
        responses = SurveyResponse.objects.filter(
            survey=survey, score__isnull=False
        ).values_list("pk", "score")
        for response_id, score in responses.iterator(chunk_size=BATCH):
            batch.append(
                SurveyAnswer(response_id=response_id, question=question, number=score)
            )
            if len(batch) >= BATCH:
                SurveyAnswer.objects.bulk_create(batch)
                batch = []
        SurveyAnswer.objects.bulk_create(batch)


def backwards(apps, schema_editor):
    # The answers of the first question are copies of SurveyResponse.score.
    apps.get_model("campaigns", "SurveyAnswer").objects.all().delete()
    apps.get_model("campaigns", "SurveyQuestion").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0018_survey_questions")]

    operations = [migrations.RunPython(forwards, backwards)]
