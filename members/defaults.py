"""The lists a new program starts with, in every language: the reasons a
member may give for leaving and the interests members pick from. Staff edit
both in the admin afterwards. members 0024 and 0026 wrote these once (their
own copies: a migration is history); leave_reasons_ensure and
interests_ensure write them again into a database that lost them (a test
database flushed between tests, a program that starts from an empty schema)."""

# code, asks for a text, uk, ru, ro, en
LEAVE_REASONS = [
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
    (
        "not_interested",
        False,
        "Нецікаво",
        "Неинтересно",
        "Nu mă interesează",
        "Not interested",
    ),
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

# code, order, purchase categories, uk, ru, ro, en
INTERESTS = [
    ("coffee", 10, "coffee, beans", "Кава", "Кофе", "Cafea", "Coffee"),
    ("tea", 20, "tea", "Чай", "Чай", "Ceai", "Tea"),
    (
        "pastry",
        30,
        "bakery",
        "Випічка",
        "Выпечка",
        "Produse de patiserie",
        "Pastries",
    ),
    ("desserts", 40, "bakery, snacks", "Десерти", "Десерты", "Deserturi", "Desserts"),
    ("bread", 50, "bread", "Хліб", "Хлеб", "Pâine", "Bread"),
    (
        "breakfast",
        60,
        "bakery, dairy, bread",
        "Сніданки",
        "Завтраки",
        "Mic dejun",
        "Breakfast",
    ),
    (
        "healthy",
        70,
        "grocery, dairy",
        "Здорове харчування",
        "Здоровое питание",
        "Mâncare sănătoasă",
        "Healthy food",
    ),
    (
        "beans",
        80,
        "beans",
        "Кава в зернах",
        "Кофе в зёрнах",
        "Cafea boabe",
        "Coffee beans",
    ),
    (
        "brewing",
        90,
        "beans",
        "Приладдя для заварювання",
        "Аксессуары для заваривания",
        "Accesorii pentru preparare",
        "Brewing gear",
    ),
    (
        "events",
        100,
        "",
        "Події та дегустації",
        "События и дегустации",
        "Evenimente și degustări",
        "Events and tastings",
    ),
    ("discounts", 110, "", "Знижки", "Скидки", "Reduceri", "Discounts"),
]
