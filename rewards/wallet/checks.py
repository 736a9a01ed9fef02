"""`manage.py check --deploy`: a wallet half configured (its button stays
hidden) or configured with files the app cannot read (the button would fail)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from rewards.wallet.config import APPLE_SETTINGS, GOOGLE_SETTINGS


def _missing(names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not getattr(settings, name, "")]


def _apple_problem() -> str:
    from rewards.wallet.pkpass import manifest_sign

    try:
        manifest_sign(b"{}")
    except (OSError, ValueError, TypeError) as exc:
        return str(exc) or type(exc).__name__
    return ""


def _google_problem() -> str:
    from rewards.wallet.google import service_account

    try:
        account = service_account()
        account["client_email"], account["private_key"]  # noqa: B018
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


@register(Tags.compatibility, deploy=True)
def wallet_settings_check(app_configs=None, **kwargs) -> list:
    found = []
    for wallet, names, problem, code in (
        ("Apple Wallet", APPLE_SETTINGS, _apple_problem, "W010"),
        ("Google Wallet", GOOGLE_SETTINGS, _google_problem, "W011"),
    ):
        missing = _missing(names)
        if len(missing) == len(names):
            continue  # not used: nothing to say
        if missing:
            found.append(
                Warning(
                    f"{wallet} is half configured: {', '.join(missing)} not set; "
                    "its button stays hidden.",
                    hint='See docs/operations.md, "Wallet passes".',
                    id=f"rewards.{code}",
                )
            )
            continue
        trouble = problem()
        if trouble:
            found.append(
                Error(
                    f"{wallet} is configured but its files cannot be used: {trouble}",
                    hint='See docs/operations.md, "Wallet passes".',
                    id=f"rewards.E{code[1:]}",
                )
            )
    return found
