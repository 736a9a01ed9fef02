"""The demo's partner as customers and its staff see it, for seed_demo: the
bakery's description on the portal's Partners page (in every language), and a
login for the bakery's staff (`partner` / `partner-demo`, the Partner role)
that sees only the bakery's settlement, stores, rewards and vouchers used."""

from __future__ import annotations

from django.contrib.auth.models import Group

from members.models import Partner, User
from members.services import partner_save

PARTNER_LOGIN = "partner"
DESCRIPTION = {
    "uk": "Пекарня на Подолі: свіжий хліб і круасани щоранку. Бали нараховуються "
    "за кожну покупку, а ними можна розрахуватися на касі.",
    "ru": "Пекарня на Подоле: свежий хлеб и круассаны каждое утро. Баллы "
    "начисляются за каждую покупку, ими можно расплатиться на кассе.",
    "ro": "Brutăria din Podil: pâine proaspătă și croissante în fiecare dimineață. "
    "Primiți puncte la fiecare cumpărătură și plătiți cu ele la casă.",
    "en": "The bakery in Podil: fresh bread and croissants every morning. Every "
    "purchase earns points, and you can pay with them at the till.",
}


def seed(*, command) -> None:
    """Needs `command.partner` (ProgramSeeding._partner_plan); the login gets
    its password with the others' (seed_demo's LOGINS)."""
    partner: Partner = command.partner
    for language, text in DESCRIPTION.items():
        setattr(partner, f"description_{language}", text)
    partner_save(partner=partner)
    user = User.objects.create_user(
        username=PARTNER_LOGIN,
        email="partner@example.com",
        first_name="Олена",
        last_name="Коваль",
        is_staff=True,
        partner=partner,
    )
    user.groups.add(Group.objects.get(name="Partner"))
    command.staff[PARTNER_LOGIN] = user
    command.stdout.write(f"Partner login: {PARTNER_LOGIN} ({partner.name})")
