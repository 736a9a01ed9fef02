"""Seed the default interests list (in uk, ru, ro, en) and move the members'
free-text interests that match one of it (by code, a name in any language or
a usual synonym, ignoring case) to the picked interests. What does not match
stays in the free-text field, so nothing a member typed is lost."""

from django.db import migrations

# code, order, purchase categories, uk, ru, ro, en, synonyms
DEFAULT_INTERESTS = [
    ("coffee", 10, "coffee, beans", "Кава", "Кофе", "Cafea", "Coffee", ["кава", "кофе"]),
    ("tea", 20, "tea", "Чай", "Чай", "Ceai", "Tea", []),
    ("pastry", 30, "bakery", "Випічка", "Выпечка", "Produse de patiserie", "Pastries",
     ["pastry", "bakery", "croissants"]),
    ("desserts", 40, "bakery, snacks", "Десерти", "Десерты", "Deserturi", "Desserts",
     ["sweets", "dessert", "cakes"]),
    ("bread", 50, "bread", "Хліб", "Хлеб", "Pâine", "Bread", []),
    ("breakfast", 60, "bakery, dairy, bread", "Сніданки", "Завтраки", "Mic dejun",
     "Breakfast", ["breakfasts"]),
    ("healthy", 70, "grocery, dairy", "Здорове харчування", "Здоровое питание",
     "Mâncare sănătoasă", "Healthy food", ["healthy food", "health"]),
    ("beans", 80, "beans", "Кава в зернах", "Кофе в зёрнах", "Cafea boabe",
     "Coffee beans", ["coffee beans"]),
    ("brewing", 90, "beans", "Приладдя для заварювання", "Аксессуары для заваривания",
     "Accesorii pentru preparare", "Brewing gear", ["brewing gear", "gear"]),
    ("events", 100, "", "Події та дегустації", "События и дегустации",
     "Evenimente și degustări", "Events and tastings", ["events", "tastings"]),
    ("discounts", 110, "", "Знижки", "Скидки", "Reduceri", "Discounts",
     ["sales", "offers"]),
]


def seed(apps, schema_editor):
    Interest = apps.get_model("members", "Interest")
    Member = apps.get_model("members", "Member")
    by_word = {}
    for code, order, categories, uk, ru, ro, en, synonyms in DEFAULT_INTERESTS:
        interest, _created = Interest.objects.get_or_create(
            code=code,
            defaults={
                "order": order,
                "purchase_categories": categories,
                "name": uk,
                "name_uk": uk,
                "name_ru": ru,
                "name_ro": ro,
                "name_en": en,
            },
        )
        for word in (code, uk, ru, ro, en, *synonyms):
            by_word.setdefault(word.casefold(), interest)
    Through = Member.picked_interests.through
    links = []
    for member in Member.objects.exclude(interests=[]).only("pk", "interests").iterator():
        if not isinstance(member.interests, list):
            continue
        kept, picked = [], set()
        for item in member.interests:
            interest = by_word.get(str(item).strip().casefold())
            if interest is None:
                kept.append(item)
            else:
                picked.add(interest.pk)
        if picked:
            links.extend(
                Through(member_id=member.pk, interest_id=pk) for pk in sorted(picked)
            )
            Member.objects.filter(pk=member.pk).update(interests=kept)
    Through.objects.bulk_create(links, ignore_conflicts=True)


def unseed(apps, schema_editor):
    """Back: picked interests return to the free text (by code)."""
    Member = apps.get_model("members", "Member")
    for member in Member.objects.filter(picked_interests__isnull=False).distinct():
        codes = [i.code for i in member.picked_interests.all()]
        texts = member.interests if isinstance(member.interests, list) else []
        member.interests = [*texts, *[c for c in codes if c not in texts]]
        member.save(update_fields=["interests"])


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0025_interests"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
