"""The shape of the large demo data set (demo.bulk): seasons, hours, segments and
the planted patterns' shares."""

from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")
CHUNK_MEMBERS = 5000
SEASON = {1: 0.9, 2: 0.9, 3: 1.0, 4: 1.0, 5: 1.0, 6: 0.7, 7: 0.7, 8: 0.7,
          9: 1.05, 10: 1.1, 11: 1.15, 12: 1.5}  # fmt: skip
WEEKDAY = [0.95, 0.95, 0.95, 1.0, 1.05, 1.2, 1.05]  # Monday first
HOURS = [h for h, w in zip(range(7, 22), [6, 9, 8, 6, 5, 6, 6, 5, 5, 6, 7, 7, 5, 3, 2], strict=True) for _ in range(w)]  # fmt: skip
# segment: share of members, relative purchase rate, basket lines (min, max)
SEGMENTS = {
    "heavy": (0.01, 12.0, (2, 4)),
    "regular": (0.29, 2.5, (1, 3)),
    "occasional": (0.50, 1.0, (1, 2)),
    "one-off": (0.20, 0.0, (1, 2)),
}
CHURN_SHARE = 0.30
LOYAL_SHARE = 0.35
LOYAL_LINES = 0.80
LAUNCH_SHARE = 0.20
REDEEM_MIN_BALANCE = 300
REDEEM_CHANCE = 0.2
FIRST_NAMES = ["Олена", "Андрій", "Марія", "Іван", "Оксана", "Дмитро", "Наталія",
               "Сергій", "Ірина", "Олег", "Анна", "Тарас", "Юлія", "Максим", "Катерина",
               "Віктор", "Софія", "Богдан", "Alina", "Mihai", "Elena", "John", "Anna"]  # fmt: skip
LAST_NAMES = ["Коваленко", "Шевченко", "Бондар", "Мельник", "Ткаченко", "Кравець",
              "Олійник", "Поліщук", "Лисенко", "Гнатюк", "Савчук", "Popescu", "Smith",
              "Руденко", "Марченко", "Петренко", "Іваненко", "Костенко"]  # fmt: skip
