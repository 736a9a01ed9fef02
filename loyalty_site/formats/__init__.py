"""Django's date formats (FORMAT_MODULE_PATH), for what Django writes itself:
the admin's change lists and read-only fields, `|date` with a named format.
They say what members.formatting says with Babel, one form a language: "10
грудня 2026" (Django's "E" is the month's name a date takes, the genitive in
uk and ru), a 24-hour time after a comma. The pages write dates with the
loyalty_format filters; tests/i18n checks that both agree in every language.
Each language's module imports this one's names."""

DATE_FORMAT = "j E Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j E Y, H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "j E"
YEAR_MONTH_FORMAT = "F Y"
