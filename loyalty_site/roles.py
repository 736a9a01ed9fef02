"""The staff roles and their rights, as data, and the one helper that applies them.

Each role is an auth Group; ROLES lists every permission its group holds, as
"app_label.codename". `roles_sync` makes the groups match: it runs after every
`migrate` (loyalty_site/apps.py) and as `manage.py sync_roles`. To change what
a role may do, edit its list here; a new migration never grants rights
(loyalty_site/tests/test_roles.py fails on one that does).

The groups named here are managed: a right added to one of them by hand is
taken away at the next sync. Other groups are left alone.

Migrations 0002 to 0012 of members (and the *_grants migrations of the other
apps) built the same groups before this map existed; they stay as history, and
the tests check that a fresh `migrate` of that history gives exactly this map.
"""

from __future__ import annotations

import sys

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS, router, transaction

# Works the till: enrols members, records purchases, returns and redemptions
# (add_purchase is also the right to open the Counter), sells memberships, logs
# a complaint heard at the counter and checks members in at events. Reads what a
# member's balance is made of; changes no settings and adjusts no points.
CASHIER = [
    # members
    "members.view_member",
    "members.add_member",
    "members.view_store",
    # rewards
    "rewards.view_earningrule",
    "rewards.view_ledgerentry",
    "rewards.view_membershipplan",
    "rewards.view_pointsaccount",
    "rewards.view_pointslot",
    "rewards.view_purchase",
    "rewards.add_purchase",  # also the right to use the Counter
    "rewards.view_purchaseline",
    "rewards.view_purchasereturn",
    "rewards.add_purchasereturn",
    "rewards.view_redemption",
    "rewards.add_redemption",
    "rewards.view_reward",
    "rewards.view_stampcard",
    "rewards.view_stampprogram",
    "rewards.view_subscription",
    "rewards.add_subscription",  # sell a membership at the Counter
    "rewards.view_tier",
    "rewards.view_voucher",
    # campaigns
    "campaigns.add_complaint",  # log it; working the queue is not theirs
    "campaigns.view_event",
    "campaigns.view_eventrsvp",
]

# Runs the marketing: segments, campaigns, journeys and their texts, delivery
# settings, events and members-only pages, surveys and the complaints queue,
# earning rules (promotions) and promo codes, marketing spend; reads the analytics dashboards,
# RFM and recommendations. Sells nothing, adjusts no points, sees no staff
# controls, audit log or anomaly flags.
MARKETER = [
    # members
    "members.view_consentevent",
    "members.view_leaveanswer",  # why members left, as they said
    "members.view_leavereason",
    "members.add_leavereason",
    "members.change_leavereason",
    "members.view_interest",  # the interests list members pick from
    "members.add_interest",
    "members.change_interest",
    "members.view_member",
    "members.view_partner",
    "members.view_store",
    # rewards
    "rewards.view_bonussettings",
    "rewards.view_referral",
    "rewards.view_earningrule",
    "rewards.add_earningrule",
    "rewards.change_earningrule",
    "rewards.view_ledgerentry",
    "rewards.view_membershipplan",
    "rewards.view_pointslot",
    "rewards.view_promocode",
    "rewards.add_promocode",
    "rewards.change_promocode",
    "rewards.view_promocodebatch",
    "rewards.add_promocodebatch",  # generate a batch of codes, download it
    "rewards.view_promocodekey",
    "rewards.view_promocodeuse",  # also the report of uses and cost
    "rewards.view_reward",
    "rewards.view_stampcard",
    "rewards.view_stampprogram",
    "rewards.view_subscription",
    "rewards.view_subscriptionevent",
    "rewards.view_tier",
    "rewards.view_tierhistory",
    "rewards.view_voucher",
    # campaigns
    "campaigns.view_campaign",
    "campaigns.add_campaign",
    "campaigns.change_campaign",  # also schedule, send, cancel and the figures
    "campaigns.delete_campaign",
    "campaigns.view_campaignrecipient",
    "campaigns.view_campaignrun",
    "campaigns.view_campaignvariant",
    "campaigns.add_campaignvariant",
    "campaigns.change_campaignvariant",
    "campaigns.delete_campaignvariant",
    "campaigns.view_complaint",
    "campaigns.change_complaint",
    "campaigns.view_complaintmessage",
    "campaigns.view_contentpage",
    "campaigns.add_contentpage",
    "campaigns.change_contentpage",
    "campaigns.view_deliverysettings",
    "campaigns.change_deliverysettings",
    "campaigns.view_event",
    "campaigns.add_event",
    "campaigns.change_event",
    "campaigns.view_eventrsvp",
    "campaigns.view_journey",
    "campaigns.add_journey",
    "campaigns.change_journey",
    "campaigns.view_message",
    "campaigns.view_outboxentry",
    "campaigns.view_promocodetargeting",
    "campaigns.add_promocodetargeting",
    "campaigns.change_promocodetargeting",
    "campaigns.view_segment",
    "campaigns.add_segment",
    "campaigns.change_segment",
    "campaigns.delete_segment",
    "campaigns.view_segmentstaticmember",
    "campaigns.view_survey",
    "campaigns.add_survey",
    "campaigns.change_survey",
    "campaigns.view_surveyresponse",
    "campaigns.view_surveyquestion",
    "campaigns.add_surveyquestion",
    "campaigns.change_surveyquestion",
    "campaigns.delete_surveyquestion",
    "campaigns.view_surveychoice",
    "campaigns.add_surveychoice",
    "campaigns.change_surveychoice",
    "campaigns.delete_surveychoice",
    "campaigns.view_surveyanswer",
    # analytics
    "analytics.view_copurchase",
    "analytics.view_dashboard",
    "analytics.view_itemstat",
    "analytics.view_marketingspend",
    "analytics.add_marketingspend",
    "analytics.change_marketingspend",
    "analytics.delete_marketingspend",
    "analytics.view_memberrfm",
    "analytics.view_rewardcategory",
    "analytics.view_storesales",
]

# Runs a shop and the programme: everything a Cashier and a Marketer may do
# (MANAGER is built from their lists), plus points adjustments (and approving other staff's), programme settings,
# the catalog, tiers, stamp programs, membership plans, partners, stores and
# till tokens, the branding, bonuses and referrals, staff controls, the audit log, anomaly
# flags, anonymisation, store sales and reward categories.
MANAGER_ONLY = [
    # members
    "members.view_apitoken",
    "members.add_apitoken",
    "members.change_apitoken",
    "members.delete_apitoken",
    "members.view_branding",
    "members.change_branding",  # program name, logo, colours, favicon
    "members.change_member",
    "members.view_membererasure",
    "members.add_membererasure",
    "members.add_partner",
    "members.change_partner",
    "members.view_staffauditevent",
    "members.add_store",
    "members.change_store",
    "members.view_webhookendpoint",  # webhooks out: endpoints and their secret
    "members.add_webhookendpoint",
    "members.change_webhookendpoint",
    "members.delete_webhookendpoint",
    "members.view_webhookevent",
    "members.view_webhookdelivery",
    "members.change_webhookdelivery",  # the resend action
    "members.view_webhookattempt",
    # rewards
    "rewards.view_adjustmentrequest",
    "rewards.approve_adjustmentrequest",
    "rewards.view_anomalyflag",
    "rewards.change_anomalyflag",
    "rewards.change_bonussettings",
    "rewards.change_referral",  # approve / refuse in the review queue
    "rewards.view_staffcontrols",
    "rewards.change_staffcontrols",
    "rewards.exempt_daily_limits",
    "rewards.adjust_points",
    "rewards.add_membershipplan",
    "rewards.change_membershipplan",
    "rewards.view_programsettings",
    "rewards.change_programsettings",
    "rewards.add_reward",
    "rewards.change_reward",
    "rewards.view_category",  # item categories' names in every language
    "rewards.add_category",
    "rewards.change_category",
    "rewards.add_stampprogram",
    "rewards.change_stampprogram",
    "rewards.change_subscription",  # the cancel action
    "rewards.view_payment",  # online payments
    "rewards.change_payment",  # the refund action
    "rewards.view_paymentcallback",
    "rewards.add_tier",
    "rewards.change_tier",
    "rewards.change_voucher",  # the cancel action
    # campaigns
    "campaigns.delete_contentpage",
    # analytics
    "analytics.add_rewardcategory",
    "analytics.change_rewardcategory",
    "analytics.delete_rewardcategory",
    "analytics.add_storesales",
    "analytics.change_storesales",
    "analytics.delete_storesales",
]

MANAGER = sorted(set(CASHIER) | set(MARKETER) | set(MANAGER_ONLY))

# A partner's staff login (User.partner set): reads its partner's settlement
# and stores, the rewards it funds and the vouchers used at its stores, nothing
# else. The admins of these models show such a login only its partner's rows
# and never a member's personal data (members.admin_base.PartnerScopedAdminMixin).
PARTNER = [
    "members.view_partner",  # its own partner and its settlement
    "members.view_store",
    "rewards.view_reward",
    "rewards.view_voucher",
]

ROLES: dict[str, list[str]] = {
    "Cashier": CASHIER,
    "Manager": MANAGER,
    "Marketer": MARKETER,
    "Partner": PARTNER,
}


def _permission_ids(permission_model, using: str, names: set[str]) -> dict[str, int]:
    """The pk of each named permission that exists, by "app_label.codename"."""
    rows = (
        permission_model.objects.using(using)
        .filter(
            content_type__app_label__in={name.split(".")[0] for name in names},
            codename__in={name.split(".")[1] for name in names},
        )
        .values_list("pk", "content_type__app_label", "codename")
    )
    found = {f"{label}.{codename}": pk for pk, label, codename in rows}
    return {name: pk for name, pk in found.items() if name in names}


def roles_sync(
    *,
    using: str = DEFAULT_DB_ALIAS,
    verbosity: int = 0,
    dry_run: bool = False,
    apps: Apps | None = None,
) -> dict:
    """Make each group of ROLES hold exactly its listed permissions.

    Creates a missing group, and missing permissions (with their content types)
    through Django's `create_permissions`; adds what a group lacks, removes
    what it holds beyond its list; leaves groups that ROLES does not name
    alone. Idempotent: a second run changes nothing. One transaction; with
    `dry_run` it is rolled back, so the result says what a sync would change.

    `apps` is the migration state a post_migrate handler receives. Given one, a
    permission whose model that state does not have yet (a partial `migrate`)
    is skipped and listed under "skipped"; without it every name must exist,
    and an unknown one raises LookupError (a typo in ROLES).

    Returns {"groups_created": [...], "added": {role: [...]},
    "removed": {role: [...]}, "skipped": [...]}, roles without changes left out.
    Locks nothing and queues nothing.
    """
    strict = apps is None
    apps = apps or global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    wanted = set().union(*ROLES.values())
    result: dict = {"groups_created": [], "added": {}, "removed": {}, "skipped": []}
    with transaction.atomic(using=using):
        ids = _permission_ids(permission_model, using, wanted)
        if wanted - ids.keys():
            for app_config in global_apps.get_app_configs():
                create_permissions(
                    app_config, verbosity=verbosity, using=using, apps=apps
                )
            ids = _permission_ids(permission_model, using, wanted)
        missing = sorted(wanted - ids.keys())
        if missing and strict:
            raise LookupError(
                "loyalty_site/roles.py names permissions that no model declares: "
                + ", ".join(missing)
            )
        result["skipped"] = missing
        names_by_id = {pk: name for name, pk in ids.items()}
        for role, perms in ROLES.items():
            group, created = group_model.objects.using(using).get_or_create(name=role)
            if created:
                result["groups_created"].append(role)
            want = {ids[name] for name in perms if name in ids}
            have = set(group.permissions.values_list("pk", flat=True))
            if want - have:
                group.permissions.add(*(want - have))
                result["added"][role] = sorted(names_by_id[pk] for pk in want - have)
            if have - want:
                extra = have - want
                result["removed"][role] = sorted(
                    f"{label}.{codename}"
                    for label, codename in permission_model.objects.using(using)
                    .filter(pk__in=extra)
                    .values_list("content_type__app_label", "codename")
                )
                group.permissions.remove(*extra)
        if dry_run:
            transaction.set_rollback(True, using=using)
    return result


def roles_sync_changed(result: dict) -> bool:
    """Whether a `roles_sync` result changed (or, dry, would change) anything."""
    return bool(result["groups_created"] or result["added"] or result["removed"])


def roles_sync_lines(result: dict) -> list[str]:
    """A `roles_sync` result as one line per change, for people to read."""
    lines = [f"group {role}: created" for role in result["groups_created"]]
    for role, names in result["added"].items():
        lines += [f"group {role}: + {name}" for name in names]
    for role, names in result["removed"].items():
        lines += [f"group {role}: - {name}" for name in names]
    return lines


def roles_sync_after_migrate(
    sender, *, using, verbosity, apps=None, stdout=None, **kwargs
) -> None:
    """post_migrate handler: give the groups their rights once every app has
    migrated (connected for the loyalty_site app, which comes after the apps)."""
    state = apps or global_apps
    try:
        group_model = state.get_model("auth", "Group")
    except LookupError:  # auth migrated back to zero: no groups to fill
        return
    if not router.allow_migrate_model(using, group_model):
        return
    result = roles_sync(using=using, verbosity=verbosity, apps=apps)
    if verbosity >= 1 and roles_sync_changed(result):
        (stdout or sys.stdout).write(
            f"  Synced the staff roles: {len(roles_sync_lines(result))} changes "
            "(loyalty_site/roles.py).\n"
        )
