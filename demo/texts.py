"""The demo's staff-written texts in the four languages (uk, ru, ro, en).

The tables in demo/data.py name each text once (the rewards, stamp programs and
rules in Ukrainian, the tiers and the plan by their English names); this module
gives each of them in every language, and `translations` turns one into the
model's per-language fields (modeltranslation: name_uk, name_ru...)."""

from __future__ import annotations

LANGS = ("uk", "ru", "ro", "en")

TEXTS: dict[str, dict[str, str]] = {
    # --- tiers: names and benefits ---------------------------------------------
    "Bronze": {"uk": "Бронза", "ru": "Бронза", "ro": "Bronz", "en": "Bronze"},
    "Silver": {"uk": "Срібло", "ru": "Серебро", "ro": "Argint", "en": "Silver"},
    "Gold": {"uk": "Золото", "ru": "Золото", "ro": "Aur", "en": "Gold"},
    "Points on every purchase; birthday coffee.": {
        "uk": "Бали за кожну покупку; кава на день народження.",
        "ru": "Баллы за каждую покупку; кофе в день рождения.",
        "ro": "Puncte la fiecare cumpărătură; cafea de ziua ta.",
        "en": "Points on every purchase; birthday coffee.",
    },
    "Points × 1.25; free delivery.": {
        "uk": "Бали × 1,25; безкоштовна доставка.",
        "ru": "Баллы × 1,25; бесплатная доставка.",
        "ro": "Puncte × 1,25; livrare gratuită.",
        "en": "Points × 1.25; free delivery.",
    },
    "Points × 1.5; free delivery; early sales access.": {
        "uk": "Бали × 1,5; безкоштовна доставка; ранній доступ до розпродажів.",
        "ru": "Баллы × 1,5; бесплатная доставка; ранний доступ к распродажам.",
        "ro": "Puncte × 1,5; livrare gratuită; acces anticipat la reduceri.",
        "en": "Points × 1.5; free delivery; early sales access.",
    },
    # --- rewards ---------------------------------------------------------------
    "Безкоштовна кава": {
        "uk": "Безкоштовна кава",
        "ru": "Бесплатный кофе",
        "ro": "Cafea gratuită",
        "en": "Free coffee",
    },
    "Будь-яка кава середнього розміру.": {
        "uk": "Будь-яка кава середнього розміру.",
        "ru": "Любой кофе среднего размера.",
        "ro": "Orice cafea de mărime medie.",
        "en": "Any medium-sized coffee.",
    },
    "Круасан у подарунок": {
        "uk": "Круасан у подарунок",
        "ru": "Круассан в подарок",
        "ro": "Croissant cadou",
        "en": "A croissant on us",
    },
    "Вершковий або з шоколадом.": {
        "uk": "Вершковий або з шоколадом.",
        "ru": "Сливочный или с шоколадом.",
        "ro": "Cu unt sau cu ciocolată.",
        "en": "Butter or chocolate.",
    },
    "Знижка 50 грн": {
        "uk": "Знижка 50 грн",
        "ru": "Скидка 50 грн",
        "ro": "Reducere de 50 UAH",
        "en": "50 UAH off",
    },
    "На чек від 200 грн.": {
        "uk": "На чек від 200 грн.",
        "ru": "На чек от 200 грн.",
        "ro": "La un bon de cel puțin 200 UAH.",
        "en": "On a receipt of 200 UAH or more.",
    },
    "Знижка 10 %": {
        "uk": "Знижка 10 %",
        "ru": "Скидка 10 %",
        "ro": "Reducere de 10 %",
        "en": "10% off",
    },
    "На весь чек, один раз.": {
        "uk": "На весь чек, один раз.",
        "ru": "На весь чек, один раз.",
        "ro": "La tot bonul, o singură dată.",
        "en": "On the whole receipt, once.",
    },
    "Еко-сумка": {
        "uk": "Еко-сумка",
        "ru": "Эко-сумка",
        "ro": "Sacoșă ecologică",
        "en": "Eco tote bag",
    },
    "Полотняна сумка з логотипом.": {
        "uk": "Полотняна сумка з логотипом.",
        "ru": "Холщовая сумка с логотипом.",
        "ro": "Sacoșă din pânză cu logo.",
        "en": "A canvas bag with our logo.",
    },
    "Майстер-клас бариста": {
        "uk": "Майстер-клас бариста",
        "ru": "Мастер-класс бариста",
        "ro": "Atelier cu baristul",
        "en": "Barista masterclass",
    },
    "Дві години з нашим бариста, до 8 гостей.": {
        "uk": "Дві години з нашим бариста, до 8 гостей.",
        "ru": "Два часа с нашим бариста, до 8 гостей.",
        "ro": "Două ore cu baristul nostru, până la 8 invitați.",
        "en": "Two hours with our barista, up to 8 guests.",
    },
    # --- stamp programs --------------------------------------------------------
    "Кавова картка: 9 + 1 у подарунок": {
        "uk": "Кавова картка: 9 + 1 у подарунок",
        "ru": "Кофейная карта: 9 + 1 в подарок",
        "ro": "Cardul de cafea: 9 + 1 cadou",
        "en": "Coffee card: buy 9, get 1 free",
    },
    "Кожна десята кава — за наш рахунок.": {
        "uk": "Кожна десята кава — за наш рахунок.",
        "ru": "Каждый десятый кофе — за наш счёт.",
        "ro": "Fiecare a zecea cafea este din partea noastră.",
        "en": "Every tenth coffee is on us.",
    },
    "Картка сніданку: 6 візитів": {
        "uk": "Картка сніданку: 6 візитів",
        "ru": "Карта завтрака: 6 визитов",
        "ro": "Cardul de mic dejun: 6 vizite",
        "en": "Breakfast card: 6 visits",
    },
    "Покупка від 150 грн — штамп; шостий дарує круасан.": {
        "uk": "Покупка від 150 грн — штамп; шостий дарує круасан.",
        "ru": "Покупка от 150 грн — штамп; шестой дарит круассан.",
        "ro": "O cumpărătură de la 150 UAH aduce o ștampilă; a șasea, un croissant.",
        "en": "A purchase of 150 UAH or more earns a stamp; the sixth brings a "
        "croissant.",
    },
    # --- the paid membership ---------------------------------------------------
    "Club": {"uk": "Клуб", "ru": "Клуб", "ro": "Club", "en": "Club"},
    "Бали × 1,5, щомісяця кава в подарунок, рівень Silver.": {
        "uk": "Бали × 1,5, щомісяця кава в подарунок, рівень Срібло.",
        "ru": "Баллы × 1,5, каждый месяц кофе в подарок, уровень Серебро.",
        "ro": "Puncte × 1,5, o cafea cadou în fiecare lună, nivelul Argint.",
        "en": "Points × 1.5, a free coffee every month, Silver tier.",
    },
    # --- earning rules and promotions ------------------------------------------
    "Соціальні товари без балів": {
        "uk": "Соціальні товари без балів",
        "ru": "Социальные товары без баллов",
        "ro": "Produse sociale fără puncte",
        "en": "Essential goods earn no points",
    },
    "Випічка ×1,5": {
        "uk": "Випічка ×1,5",
        "ru": "Выпечка ×1,5",
        "ro": "Patiserie ×1,5",
        "en": "Pastry ×1.5",
    },
    "Зерно: +20 балів за пачку": {
        "uk": "Зерно: +20 балів за пачку",
        "ru": "Зерно: +20 баллов за пачку",
        "ro": "Cafea boabe: +20 de puncte pe pachet",
        "en": "Coffee beans: +20 points a bag",
    },
    "Подвійні бали у вихідні": {
        "uk": "Подвійні бали у вихідні",
        "ru": "Двойные баллы в выходные",
        "ro": "Puncte duble în weekend",
        "en": "Double points at weekends",
    },
    "Кавова година ×3": {
        "uk": "Кавова година ×3",
        "ru": "Кофейный час ×3",
        "ro": "Ora cafelei ×3",
        "en": "Coffee hour ×3",
    },
    "Чай ×2 (чернетка)": {
        "uk": "Чай ×2 (чернетка)",
        "ru": "Чай ×2 (черновик)",
        "ro": "Ceai ×2 (ciornă)",
        "en": "Tea ×2 (draft)",
    },
}

# Item categories as the tills send them, with their names for customers.
CATEGORIES: dict[str, dict[str, str]] = {
    "coffee": {"uk": "Кава", "ru": "Кофе", "ro": "Cafea", "en": "Coffee"},
    "tea": {"uk": "Чай", "ru": "Чай", "ro": "Ceai", "en": "Tea"},
    "bakery": {"uk": "Випічка", "ru": "Выпечка", "ro": "Patiserie", "en": "Pastry"},
    "bread": {"uk": "Хліб", "ru": "Хлеб", "ro": "Pâine", "en": "Bread"},
    "dairy": {
        "uk": "Молочні продукти",
        "ru": "Молочные продукты",
        "ro": "Lactate",
        "en": "Dairy",
    },
    "beans": {
        "uk": "Кава в зернах",
        "ru": "Кофе в зёрнах",
        "ro": "Cafea boabe",
        "en": "Coffee beans",
    },
    "grocery": {"uk": "Бакалія", "ru": "Бакалея", "ro": "Băcănie", "en": "Grocery"},
    "snacks": {"uk": "Снеки", "ru": "Снеки", "ro": "Gustări", "en": "Snacks"},
}


def translations(field: str, text: str, texts: dict | None = None) -> dict[str, str]:
    """{field_uk: ..., field_ru: ..., field_ro: ..., field_en: ...} of a demo text
    (the key in TEXTS); an empty text stays empty in every language."""
    if not text:
        return {f"{field}_{lang}": "" for lang in LANGS}
    by_lang = (texts or TEXTS)[text]
    return {f"{field}_{lang}": by_lang[lang] for lang in LANGS}


def same_text(obj, field: str, text: str) -> bool:
    """Whether `obj.<field>` is the demo text `text`, whatever the active language."""
    return getattr(obj, f"{field}_en") == TEXTS[text]["en"]
