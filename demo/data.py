"""The demo's fixed data: stores, staff logins, the demo customer, tiers, rewards,
earning rules, stamp programs and the shape of a year of shopping. seed_demo and
the bulk seed (demo.bulk) both read it from here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from rewards.models import RewardType, RuleKind, RuleStatus, StampTrigger

KYIV = ZoneInfo("Europe/Kyiv")
TOKEN_NAME = "Demo till"  # noqa: S105 - a label; made last, so it marks a complete set

STORES = [
    ("kyiv-center", "Київ · Центр", "вул. Хрещатик, 22, Київ, 01001"),
    ("kyiv-left", "Київ · Лівий берег", "просп. Броварський, 17, Київ, 02002"),
    ("lviv", "Львів · Ринок", "пл. Ринок, 14, Львів, 79008"),
]
HOME_STORE_WEIGHTS = [0.45, 0.35, 0.20]
# A coalition partner with one store; some purchases of the last months happen there.
PARTNER = ("Partner bakery", "bakery@example.com", "+380441234567", Decimal("0.10"))
PARTNER_STORE = (
    "bakery-podil",
    "Пекарня-партнер · Поділ",
    "вул. Сагайдачного, 5, Київ",
)
PARTNER_SHARE = 0.08  # of the purchases of the last PARTNER_DAYS days
PARTNER_DAYS = 75
PARTNER_REWARD = "Круасан у подарунок"  # the partner funds this reward
MEMBERSHIP_SUBSCRIBERS = 20

# username, password, group, home store, first name, last name
STAFF = [
    ("cashier", "cashier-demo", "Cashier", "kyiv-center", "Ірина", "Мельник"),
    ("manager", "manager-demo", "Manager", "kyiv-center", "Андрій", "Шевчук"),
    # A second Manager: large adjustments need one other than who asked.
    ("manager2", "manager2-demo", "Manager", "kyiv-left", "Оксана", "Литвин"),
    ("marketer", "marketer-demo", "Marketer", "kyiv-center", "Марія", "Бондар"),
]
ADMIN = ("admin", "admin-demo")
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-customer"  # noqa: S105 - printed for the demo on purpose
DEMO_PHONE = "+380501234567"

LOGINS = [
    ("Customer (portal)", DEMO_EMAIL, DEMO_PASSWORD, "/accounts/login/"),
    ("Cashier (Counter)", "cashier", "cashier-demo", "/admin/counter/"),
    ("Manager", "manager", "manager-demo", "/admin/"),
    ("Manager (approves)", "manager2", "manager2-demo", "/admin/"),
    ("Marketer", "marketer", "marketer-demo", "/admin/"),
    ("Partner staff", "partner", "partner-demo", "/admin/members/partner/settlement/"),
    ("Superuser", ADMIN[0], ADMIN[1], "/admin/"),
]

EXPIRE_MONTHS = 9
PENDING_DAYS = 7
# The program's money, worked through in docs/demo.md: 0.2 points per UAH at
# 0.10 UAH a point is 2 % back; the tiers, the Club membership and the rules
# below multiply it (about 3 % on average); no purchase earns points worth
# more than 10 % of its amount, whatever stacks.
POINTS_PER_UNIT = Decimal("0.2")
POINT_VALUE = Decimal("0.10")
EARN_CAP_PERCENT = Decimal("10")
# name, kind, status, which lines, what it gives, store indexes (none = all)
EARNING_RULES = [
    (
        "Соціальні товари без балів",
        RuleKind.EXCLUDE,
        RuleStatus.ACTIVE,
        {"sku": "DAI-MLK"},
        {},
        [],
    ),
    (
        "Випічка ×1,5",
        RuleKind.MULTIPLIER,
        RuleStatus.ACTIVE,
        {"category": "bakery"},
        {"multiplier": Decimal("1.5")},
        [],
    ),
    (
        "Зерно: +20 балів за пачку",
        RuleKind.FIXED,
        RuleStatus.ACTIVE,
        {"sku": "GRO-BNS"},
        {"points_per_unit": 20},
        [],
    ),
    (
        "Подвійні бали у вихідні",
        RuleKind.PROMOTION,
        RuleStatus.ACTIVE,
        {},
        {"multiplier": Decimal("2"), "weekdays": "56"},
        [0],
    ),
    (
        "Кавова година ×3",
        RuleKind.PROMOTION,
        RuleStatus.ACTIVE,
        {"category": "coffee"},
        {"multiplier": Decimal("3"), "time_from": dt.time(16), "time_to": dt.time(18)},
        [],
    ),
    (
        "Чай ×2 (чернетка)",
        RuleKind.MULTIPLIER,
        RuleStatus.DRAFT,
        {"category": "tea"},
        {"multiplier": Decimal("2")},
        [],
    ),
]

# sku, name, category, unit price (UAH), sold by weight (kg)
CATALOG = [
    ("COF-ESP", "Еспресо", "coffee", "45.00", False),
    ("COF-AME", "Американо", "coffee", "50.00", False),
    ("COF-CAP", "Капучино", "coffee", "65.00", False),
    ("COF-LAT", "Лате", "coffee", "72.00", False),
    ("COF-FLW", "Флет вайт", "coffee", "75.00", False),
    ("COF-RAF", "Раф ванільний", "coffee", "85.00", False),
    ("TEA-BLK", "Чай чорний", "tea", "40.00", False),
    ("TEA-GRN", "Чай зелений", "tea", "42.00", False),
    ("TEA-HRB", "Чай трав'яний", "tea", "45.00", False),
    ("BAK-CRS", "Круасан вершковий", "bakery", "55.00", False),
    ("BAK-CRC", "Круасан з шоколадом", "bakery", "62.00", False),
    ("BAK-CIN", "Синабон", "bakery", "68.00", False),
    ("BAK-ECL", "Еклер", "bakery", "58.00", False),
    ("BAK-CHZ", "Чизкейк, шматок", "bakery", "95.00", False),
    ("BRD-SOU", "Хліб на заквасці", "bread", "68.00", False),
    ("BRD-RYE", "Житній хліб", "bread", "46.00", False),
    ("BRD-BAG", "Багет", "bread", "38.00", False),
    ("DAI-MLK", "Молоко 2,5 %, 0,9 л", "dairy", "42.50", False),
    ("DAI-KEF", "Кефір 1 %, 0,9 л", "dairy", "39.90", False),
    ("DAI-CHS", "Сир твердий, ваговий", "dairy", "420.00", True),
    ("DAI-BUT", "Масло вершкове 82 %, 200 г", "dairy", "98.00", False),
    ("GRO-BNS", "Кава в зернах, 250 г", "beans", "285.00", False),
    ("GRO-BNK", "Кава в зернах, 1 кг", "beans", "890.00", False),
    ("GRO-HON", "Мед гречаний, 350 г", "grocery", "165.00", False),
    ("GRO-JAM", "Джем вишневий", "grocery", "89.00", False),
    ("GRO-OAT", "Вівсяні пластівці", "grocery", "54.00", False),
    ("GRO-APL", "Яблука, вагові", "grocery", "32.00", True),
    ("SNK-CHO", "Шоколад чорний 72 %", "snacks", "78.00", False),
    ("SNK-NUT", "Горіхова суміш, 150 г", "snacks", "119.00", False),
    ("SNK-GRN", "Гранола-батончик", "snacks", "35.00", False),
    ("SNK-BAR", "Протеїновий батончик", "snacks", "59.00", False),
]
# interest -> catalog categories a member with it buys more of
INTERESTS = {
    "coffee": ["coffee", "beans"],
    "tea": ["tea"],
    "pastry": ["bakery"],
    "bread": ["bread"],
    "healthy": ["grocery", "dairy"],
    "desserts": ["snacks", "bakery"],
    "breakfast": ["bakery", "dairy", "bread"],
    "discounts": [],
}
# Faker locale, share of members, preferred languages to draw from
LOCALES = [
    ("uk_UA", 0.60, ["uk"]),
    ("ru_RU", 0.20, ["ru", "ru", "uk"]),
    ("ro_RO", 0.10, ["ro"]),
    ("en_US", 0.10, ["en"]),
]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]
MOBILE_CODES = ["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"]
SEASON = {1: 0.85, 2: 0.85, 3: 0.95, 4: 1.0, 5: 1.0, 6: 0.9, 7: 0.85, 8: 0.9,
          9: 1.05, 10: 1.1, 11: 1.15, 12: 1.35}  # fmt: skip
WEEKDAY = [0.95, 0.95, 0.95, 1.0, 1.05, 1.2, 1.1]  # Monday first
SHOP_HOURS = range(7, 22)
HOUR_WEIGHTS = [6, 9, 8, 6, 5, 6, 6, 5, 5, 6, 7, 7, 5, 3, 2]
# segment, share of members, visits per day, share who stop coming
SEGMENTS = [
    ("heavy", 0.05, 0.3, 0.0),
    ("regular", 0.30, 0.08, 0.15),
    ("occasional", 0.45, 0.03, 0.25),
    ("one-off", 0.20, 0.0, 1.0),
]
RETURN_SHARE = 0.03
BONUSES = {
    "welcome_points": 50,
    "profile_points": 30,
    "birthday_points": 100,
    "referee_points": 50,
    "referrer_points": 100,
    "referral_min_purchase": Decimal("100"),
    "referral_cap_per_month": 5,
    "referral_review_per_day": 3,
}
REFERRED_SHARE = 0.15  # members who join with a friend's code
DEMO_REFERRALS = 3  # friends the demo customer brings in
ADJUSTMENTS = [
    (50, "Goodwill: long wait at the till"),
    (100, "Compensation: wrong price on the shelf label"),
    (30, "Birthday treat"),
    (75, "Points missed on a receipt, credited by hand"),
    (-20, "Correction: points credited twice by hand"),
]
# name, rank, spend in the last 12 months, earn multiplier, benefits
TIERS = [
    ("Bronze", 1, "0", "1.00", "Points on every purchase; birthday coffee."),
    ("Silver", 2, "3000", "1.25", "Points × 1.25; free delivery."),
    ("Gold", 3, "8000", "1.50", "Points × 1.5; free delivery; early sales access."),
]
# name, description, type, value, points cost, stock, limit (count, days),
# voucher valid days, points back on cancel, points back on expiry
REWARDS = [
    ("Безкоштовна кава", "Будь-яка кава середнього розміру.", RewardType.FREE_PRODUCT,
     None, 150, None, None, 30, True, True),
    ("Круасан у подарунок", "Вершковий або з шоколадом.", RewardType.FREE_PRODUCT,
     None, 120, None, None, 30, True, True),
    ("Знижка 50 грн", "На чек від 200 грн.", RewardType.FIXED_DISCOUNT,
     Decimal("50"), 400, None, None, 45, True, False),
    ("Знижка 10 %", "На весь чек, один раз.", RewardType.PERCENT_DISCOUNT,
     Decimal("10"), 600, None, (1, 30), 30, True, False),
    ("Еко-сумка", "Полотняна сумка з логотипом.", RewardType.GIFT,
     None, 800, 60, (1, 365), 60, True, False),
    ("Майстер-клас бариста", "Дві години з нашим бариста, до 8 гостей.",
     RewardType.GIFT, None, 2500, 16, (1, 365), 90, True, False),
]  # fmt: skip
# name, description, trigger, category, minimum spend, stamps for a full card,
# reward (index in REWARDS), card valid days, store codes (empty: all)
STAMP_PROGRAMS = [
    ("Кавова картка: 9 + 1 у подарунок", "Кожна десята кава — за наш рахунок.",
     StampTrigger.UNIT, "coffee", None, 10, 0, 180, []),
    ("Картка сніданку: 6 візитів", "Покупка від 150 грн — штамп; шостий дарує круасан.",
     StampTrigger.MIN_SPEND, "", Decimal("150"), 6, 1, 90, ["kyiv-center"]),
]  # fmt: skip
STAMP_VOUCHER_USE_SHARE = 0.7

_PAIRS = (
    "а a б b в v г h ґ g д d е e є ie ж zh з z и y і i ї i й i к k л l м m н n о o "
    "п p р r с s т t у u ф f х kh ц ts ч ch ш sh щ shch ю iu я ia ы y э e ё e "
    "ă a â a î i ș s ş s ț t ţ t"
)
_UK = _PAIRS.split()
TRANSLIT = str.maketrans(dict(zip(_UK[::2], _UK[1::2], strict=True)))
TRANSLIT_RU = {**TRANSLIT, ord("г"): "g", ord("и"): "i", ord("й"): "y"}
