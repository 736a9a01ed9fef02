"""Django's formats for English, derived from members.formatting (see
loyalty_site.formats): DATE_FORMAT, TIME_FORMAT, DATETIME_FORMAT and the rest."""

from loyalty_site.formats import django_formats

globals().update(django_formats("en"))
