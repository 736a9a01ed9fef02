"""The default leaving reasons, in every language; staff edit the list later
(admin: Leaving reasons). Written once: rows whose code exists are left alone."""

from django.db import migrations

# code, asks_text, uk, ru, ro, en
DEFAULTS = [
    ("price", False, "Ціна", "Цена", "Prețul", "Price"),
    ("quality", False, "Якість", "Качество", "Calitatea", "Quality"),
    ("service", False, "Обслуговування", "Обслуживание", "Servirea", "Service"),
    ("moved", False, "Я переїхав(ла)", "Я переехал(а)", "M-am mutat", "Moved away"),
    (
        "competitor",
        False,
        "Обираю інший магазин",
        "Выбираю другой магазин",
        "Prefer alt magazin",
        "A competitor",
    ),
    ("not_interested", False, "Нецікаво", "Неинтересно", "Nu mă interesează", "Not interested"),
    (
        "too_many_messages",
        False,
        "Забагато повідомлень",
        "Слишком много сообщений",
        "Prea multe mesaje",
        "Too many messages",
    ),
    ("other", True, "Інше", "Другое", "Altceva", "Other"),
]


def seed(apps, schema_editor):
    LeaveReason = apps.get_model("members", "LeaveReason")
    for position, (code, asks_text, uk, ru, ro, en) in enumerate(DEFAULTS, start=1):
        LeaveReason.objects.get_or_create(
            code=code,
            defaults={
                "asks_text": asks_text,
                "position": position * 10,
                "name": uk,
                "name_uk": uk,
                "name_ru": ru,
                "name_ro": ro,
                "name_en": en,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("members", "0023_leave_reasons")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
