"""The staff roles are data (loyalty_site/roles.py), applied by roles_sync after
every migrate and by `manage.py sync_roles`; no new migration grants rights."""

from __future__ import annotations

import ast
import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from loyalty_site import roles
from loyalty_site.roles import ROLES, roles_sync, roles_sync_changed
from tests.fresh_process import json_from_fresh_process

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The newest migration of each app when the roles became data. A migration after
# these must not grant rights: the role gets them in loyalty_site/roles.py.
LATEST_WITH_GRANTS_ALLOWED = {
    "members": "0017_cache_table",
    "rewards": "0012_program_purchase_dates",
    "campaigns": "0012_delivery_claim",
    "analytics": "0006_marketing_spend_store_kind",
}
# The migrations that granted rights before the map existed (history, kept).
GRANT_MIGRATIONS = {
    "analytics/migrations/0002_recs_grants.py",
    "analytics/migrations/0004_analytics_grants.py",
    "campaigns/migrations/0003_events_grants.py",
    "campaigns/migrations/0005_segments_grants.py",
    "campaigns/migrations/0007_campaigns_grants.py",
    "campaigns/migrations/0009_feedback_grants.py",
    "campaigns/migrations/0011_delivery_grants.py",
    "members/migrations/0002_staff_groups.py",
    "members/migrations/0005_staff_groups_new_models.py",
    "members/migrations/0007_staff_groups_controls.py",
    "members/migrations/0010_staff_groups_memberships_partners.py",
    "members/migrations/0012_anomaly_flags_grants.py",
    "rewards/migrations/0007_staff_rights_earning_rules.py",
    "rewards/migrations/0009_stamp_card_permissions.py",
}
# Grant code, looked for in a migration's code without comments and docstrings
# (ast.unparse writes every string with single quotes). `.permissions` is a
# group's M2M; "migrations.0005_staff_groups..." imports an old grant helper.
GRANT_CODE = re.compile(
    r"auth\.Group|'Group'|Permission|create_permissions|\.permissions\b"
    r"|migrations\.\d+_staff_groups"
)

# Rights given in ROLES after the history ended, per role: a fresh migrate of the
# history lacks exactly these (the sync after it adds them).
INTEREST_RIGHTS = {
    "members.view_interest",
    "members.add_interest",
    "members.change_interest",
}
PROMO_CODE_RIGHTS = {
    "rewards.view_promocode",
    "rewards.add_promocode",
    "rewards.change_promocode",
    "rewards.view_promocodebatch",
    "rewards.add_promocodebatch",
    "rewards.view_promocodekey",
    "rewards.view_promocodeuse",
    "campaigns.view_promocodetargeting",
    "campaigns.add_promocodetargeting",
    "campaigns.change_promocodetargeting",
}
LEAVE_REASON_RIGHTS = {
    "members.view_leaveanswer",
    "members.view_leavereason",
    "members.add_leavereason",
    "members.change_leavereason",
}
SURVEY_QUESTION_RIGHTS = {
    "campaigns.view_surveyquestion",
    "campaigns.add_surveyquestion",
    "campaigns.change_surveyquestion",
    "campaigns.delete_surveyquestion",
    "campaigns.view_surveychoice",
    "campaigns.add_surveychoice",
    "campaigns.change_surveychoice",
    "campaigns.delete_surveychoice",
    "campaigns.view_surveyanswer",
}
ADDED_SINCE_HISTORY = {
    "Manager": {
        *LEAVE_REASON_RIGHTS,
        "members.view_branding",
        "members.change_branding",
        "members.view_webhookendpoint",
        "members.add_webhookendpoint",
        "members.change_webhookendpoint",
        "members.delete_webhookendpoint",
        "members.view_webhookevent",
        "members.view_webhookdelivery",
        "members.change_webhookdelivery",
        "members.view_webhookattempt",
        "rewards.view_category",
        "rewards.add_category",
        "rewards.change_category",
        *PROMO_CODE_RIGHTS,
        *INTEREST_RIGHTS,
        "rewards.view_payment",
        "rewards.change_payment",
        "rewards.view_paymentcallback",
        *SURVEY_QUESTION_RIGHTS,
    },
    "Marketer": PROMO_CODE_RIGHTS
    | LEAVE_REASON_RIGHTS
    | INTEREST_RIGHTS
    | SURVEY_QUESTION_RIGHTS,
}
# Roles that only the map has made (no migration of the history built them).
ROLES_SINCE_HISTORY = {"Partner"}

FRESH_MIGRATE = """
import json

import django

django.setup()
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models.signals import post_migrate

# The history alone: without the sync that runs after migrate.
post_migrate.disconnect(
    sender=apps.get_app_config("loyalty_site"), dispatch_uid="loyalty_site.roles_sync"
)
call_command("migrate", verbosity=0)
# Rights on a model that is gone (JourneyText, campaigns 0014) grant nothing.
print(json.dumps({
    group.name: sorted(
        f"{perm.content_type.app_label}.{perm.codename}"
        for perm in group.permissions.select_related("content_type")
        if perm.content_type.model_class() is not None
    )
    for group in Group.objects.all()
}))
"""


def _group_perms(name: str) -> set[str]:
    return {
        f"{label}.{codename}"
        for label, codename in Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def _perm(name: str) -> Permission:
    label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=label, codename=codename)


def _grant_code(source: str) -> list[str]:
    """The grant code in a migration's source, comments and docstrings aside."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body[0] = ast.Pass()
    return sorted(set(GRANT_CODE.findall(ast.unparse(tree))))


def _migration_files() -> list[Path]:
    return sorted(BASE_DIR.glob("*/migrations/[0-9]*.py"))


def _is_new(path: Path) -> bool:
    latest = LATEST_WITH_GRANTS_ALLOWED.get(path.parent.parent.name)
    if latest is None:
        return True
    number, latest_number = int(path.stem[:4]), int(latest[:4])
    return number > latest_number or (number == latest_number and path.stem != latest)


class TestTheMap:
    def test_equals_what_a_fresh_migrate_of_the_history_gives(self, tmp_path):
        """The grant migrations (history) and ROLES agree: a database migrated
        from scratch, without the sync, has exactly the groups of ROLES but for
        the rights added since (ADDED_SINCE_HISTORY)."""
        migrated = json_from_fresh_process(
            FRESH_MIGRATE, tmp_path, unset=("DATABASE_URL", "CACHE_URL")
        )
        expected = {
            role: sorted(set(perms) - ADDED_SINCE_HISTORY.get(role, set()))
            for role, perms in ROLES.items()
            if role not in ROLES_SINCE_HISTORY
        }
        assert migrated == expected

    def test_lists_each_permission_once(self):
        for role, perms in ROLES.items():
            assert len(perms) == len(set(perms)), role

    def test_manager_may_do_what_cashier_and_marketer_may(self):
        assert set(ROLES["Cashier"]) | set(ROLES["Marketer"]) <= set(ROLES["Manager"])


@pytest.mark.django_db
class TestRolesSync:
    def test_migrate_left_the_groups_matching_the_map(self):
        assert not roles_sync_changed(roles_sync())
        for role, perms in ROLES.items():
            assert _group_perms(role) == set(perms)

    def test_gives_back_a_removed_permission_and_takes_an_extra_one(self):
        manager = Group.objects.get(name="Manager")
        manager.permissions.remove(_perm("rewards.adjust_points"))
        manager.permissions.add(_perm("members.delete_member"))

        result = roles_sync()

        assert result["added"] == {"Manager": ["rewards.adjust_points"]}
        assert result["removed"] == {"Manager": ["members.delete_member"]}
        assert _group_perms("Manager") == set(ROLES["Manager"])

    def test_second_run_changes_nothing(self):
        Group.objects.filter(name="Cashier").delete()
        Group.objects.get(name="Marketer").permissions.clear()

        first = roles_sync()
        second = roles_sync()

        assert first["groups_created"] == ["Cashier"]
        assert set(first["added"]) == {"Cashier", "Marketer"}
        assert second == {
            "groups_created": [],
            "added": {},
            "removed": {},
            "skipped": [],
        }

    def test_creates_a_missing_permission_and_its_content_type(self):
        ContentType.objects.filter(app_label="analytics", model="storesales").delete()
        try:
            roles_sync()

            assert "analytics.view_storesales" in _group_perms("Marketer")
            assert _group_perms("Manager") == set(ROLES["Manager"])
        finally:
            # The rollback brings the old row back; the cache holds the new one.
            ContentType.objects.clear_cache()

    def test_leaves_other_groups_alone(self):
        auditors = Group.objects.create(name="Auditors")
        auditors.permissions.add(_perm("members.delete_member"))

        roles_sync()

        assert _group_perms("Auditors") == {"members.delete_member"}

    def test_dry_run_changes_nothing(self):
        Group.objects.get(name="Cashier").permissions.remove(
            _perm("rewards.add_purchase")
        )

        result = roles_sync(dry_run=True)

        assert result["added"] == {"Cashier": ["rewards.add_purchase"]}
        assert "rewards.add_purchase" not in _group_perms("Cashier")

    def test_an_unknown_permission_in_the_map_is_an_error(self, monkeypatch):
        monkeypatch.setitem(ROLES, "Cashier", [*ROLES["Cashier"], "rewards.fly"])
        with pytest.raises(LookupError, match=r"no model declares: rewards\.fly$"):
            roles_sync()

    def test_during_a_partial_migrate_skips_models_not_there_yet(self):
        """post_migrate passes the migration state; a permission of a model that
        state does not have yet is skipped, not an error."""
        state = MigrationLoader(connection).project_state(
            ("members", "0002_staff_groups"), at_end=True
        )
        _perm("campaigns.view_event").delete()

        result = roles_sync(apps=state.apps, dry_run=True)

        assert "campaigns.view_event" in result["skipped"]
        assert "rewards.view_purchase" not in result["skipped"]

    def test_runs_after_migrate(self):
        """Connected to post_migrate for loyalty_site, after the four apps."""
        labels = [config.label for config in apps.get_app_configs()]
        assert labels.index("loyalty_site") > max(
            labels.index(app) for app in LATEST_WITH_GRANTS_ALLOWED
        )
        # Django sends post_migrate only to apps that have a models module.
        assert apps.get_app_config("loyalty_site").models_module is not None
        Group.objects.get(name="Cashier").permissions.clear()

        emit_post_migrate_signal(0, False, connection.alias)

        assert _group_perms("Cashier") == set(ROLES["Cashier"])


@pytest.mark.django_db
class TestSyncRolesCommand:
    def _run(self, *args) -> str:
        out = StringIO()
        call_command("sync_roles", *args, stdout=out)
        return out.getvalue()

    def test_check_passes_when_the_groups_match(self):
        assert "match" in self._run("--check")

    def test_check_fails_and_changes_nothing(self):
        Group.objects.get(name="Manager").permissions.remove(
            _perm("rewards.adjust_points")
        )

        with pytest.raises(CommandError, match="differ") as raised:
            self._run("--check")

        assert raised.value.returncode == 1
        assert "rewards.adjust_points" not in _group_perms("Manager")

    def test_prints_what_it_changed(self):
        Group.objects.get(name="Manager").permissions.remove(
            _perm("rewards.adjust_points")
        )

        output = self._run()

        assert "group Manager: + rewards.adjust_points" in output
        assert "rewards.adjust_points" in _group_perms("Manager")
        assert "match" in self._run("--check")


class TestNoNewGrantMigrations:
    def test_the_detector_finds_every_grant_migration_of_the_history(self):
        flagged = {
            str(path.relative_to(BASE_DIR))
            for path in _migration_files()
            if not _is_new(path) and _grant_code(path.read_text())
        }
        assert flagged == GRANT_MIGRATIONS

    def test_no_migration_after_the_map_grants_rights(self):
        offenders = {
            str(path.relative_to(BASE_DIR)): found
            for path in _migration_files()
            if _is_new(path) and (found := _grant_code(path.read_text()))
        }
        assert offenders == {}, (
            "Give a role its rights in loyalty_site/roles.py (applied by roles_sync "
            "after migrate), not in a migration"
        )

    def test_the_detector_reads_code_not_comments_or_docstrings(self):
        grant = (
            '"""Give Managers the new thing (Permission rows)."""\n'
            "def grant(apps, schema_editor):\n"
            '    Group = apps.get_model("auth", "Group")  # a Permission\n'
            '    Group.objects.get(name="Manager").permissions.add(1)\n'
        )
        assert _grant_code(grant) == ["'Group'", ".permissions"]
        quiet = (
            '"""Moves the model; its Permission rows follow the content type."""\n'
            "from django.db import migrations\n"
            "# no Group here\n"
            "class Migration(migrations.Migration):\n"
            "    dependencies = [('members', '0002_staff_groups')]\n"
            "    operations = [migrations.AlterModelOptions(\n"
            "        name='thing', options={'permissions': [('do', 'Can do')]})]\n"
        )
        assert _grant_code(quiet) == []

    def test_is_new_is_after_the_latest_of_today(self):
        assert not _is_new(Path("members/migrations/0017_cache_table.py"))
        assert not _is_new(Path("members/migrations/0002_staff_groups.py"))
        assert _is_new(Path("members/migrations/0017_other_branch.py"))
        assert _is_new(Path("members/migrations/0018_next.py"))
        assert _is_new(Path("demo/migrations/0001_initial.py"))


def test_roles_imports_no_app():
    tree = ast.parse(Path(roles.__file__).read_text())
    imported = {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not imported & set(LATEST_WITH_GRANTS_ALLOWED)
