"""Bonus settings, referrals, staff controls, adjustment requests and anomaly
flags move from members to rewards, keeping their tables (members_*): no data
moves, so the models are created here in the migration state only, and members
0018 deletes them from members' state.

Their content types move with them (app_label members -> rewards) before
post_migrate could create new ones, so the permissions, and the groups and
users holding them, stay as they were: `members.change_referral` is now
`rewards.change_referral`. No right is granted here (loyalty_site/roles.py
names the moved rights under rewards).
"""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models

MOVED_MODELS = (
    "adjustmentrequest",
    "anomalyflag",
    "bonussettings",
    "referral",
    "staffcontrols",
)


def content_types_move(apps, schema_editor, source="members", target="rewards"):
    """Give the moved models' content types the target app label; their
    permissions, and the groups and users holding them, point at these rows and
    so follow. A row already under the target label is a stale one that
    post_migrate made on a half-migrated database: it goes first, with the
    permissions it got then."""
    from django.contrib.contenttypes.models import ContentType as CachedContentType

    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    for model in MOVED_MODELS:
        moved = types.filter(app_label=source, model=model).first()
        if moved is None:
            continue
        types.filter(app_label=target, model=model).delete()
        moved.app_label = target
        moved.save(update_fields=["app_label"])
    CachedContentType.objects.clear_cache()


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="rewards", target="members")


class Migration(migrations.Migration):

    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0017_cache_table"),
        ("rewards", "0012_program_purchase_dates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(content_types_move, content_types_back),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='StaffControls',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('adjustment_approval_threshold', models.PositiveIntegerField(default=500, help_text="Points (added or taken) one staff member may adjust for one member in 24 hours without approval; an adjustment beyond that waits for another Manager's approval.", verbose_name='adjustment approval threshold')),
                        ('cashier_daily_redeemed_points', models.PositiveIntegerField(default=20000, help_text='Points one cashier may spend as discounts at the Counter in a day, all customers together. 0: no limit.', verbose_name='points a cashier may redeem per day')),
                        ('cashier_daily_returns', models.PositiveIntegerField(default=20, help_text='Returns one cashier may record at the Counter in a day. 0: no limit.', verbose_name='returns a cashier may record per day')),
                        ('anomaly_member_daily_transactions', models.PositiveIntegerField(default=20, help_text='A member with more purchases and redemptions than this in a day is flagged for review. 0: do not check.', verbose_name='member transactions a day before a flag')),
                        ('anomaly_cashier_daily_operations', models.PositiveIntegerField(default=200, help_text='A staff user who records more purchases, returns and redemptions than this in a day is flagged for review. 0: do not check.', verbose_name='cashier operations a day before a flag')),
                        ('anomaly_return_window_days', models.PositiveIntegerField(default=7, help_text='A member who returns a purchase within this many days after redeeming points or using a voucher is flagged for review. 0: do not check.', verbose_name='days from a redemption to a return')),
                        ('anomaly_adjustment_points', models.PositiveIntegerField(default=1000, help_text='A manual adjustment of more than this many points (added or taken) is flagged for review. 0: do not check.', verbose_name='manual adjustment size before a flag')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                    ],
                    options={
                        'verbose_name': 'staff controls',
                        'verbose_name_plural': 'staff controls',
                        'db_table': 'members_staffcontrols',
                        'permissions': [('exempt_daily_limits', 'Is not bound by the cashier daily limits')],
                    },
                ),
                migrations.CreateModel(
                    name='BonusSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('welcome_points', models.PositiveIntegerField(default=0, help_text='Points for every new member.', verbose_name='welcome bonus')),
                        ('profile_points', models.PositiveIntegerField(default=0, help_text='Points, once, when first name, last name, birthday and email are all set.', verbose_name='profile bonus')),
                        ('birthday_points', models.PositiveIntegerField(default=0, help_text='Points once a year in the birthday month; not when the birthday was entered less than 30 days before it.', verbose_name='birthday bonus')),
                        ('referee_points', models.PositiveIntegerField(default=0, help_text="Points for a new member who joins with a friend's code.", verbose_name='bonus for the referred member')),
                        ('referrer_points', models.PositiveIntegerField(default=0, help_text="Points for the friend after the new member's first purchase.", verbose_name='bonus for the referrer')),
                        ('referral_min_purchase', models.DecimalField(decimal_places=2, default=Decimal('0'), help_text='A purchase of at least this total qualifies the referral.', max_digits=12, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='minimum first purchase')),
                        ('referral_cap_per_month', models.PositiveIntegerField(default=10, help_text='Referrals beyond this in a calendar month are refused.', verbose_name='referrals per referrer per month')),
                        ('referral_review_per_day', models.PositiveIntegerField(default=3, help_text="A referrer's referrals beyond this in one day wait for a staff review.", verbose_name='referrals per day before review')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('birthday_reward', models.ForeignKey(blank=True, help_text='A free voucher for this reward in the birthday month, as well as or instead of the points, under the same rules.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='rewards.reward', verbose_name='birthday gift')),
                    ],
                    options={
                        'verbose_name': 'bonus settings',
                        'verbose_name_plural': 'bonus settings',
                        'db_table': 'members_bonussettings',
                    },
                ),
                migrations.CreateModel(
                    name='AdjustmentRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('points', models.IntegerField(verbose_name='points')),
                        ('reason', models.CharField(max_length=255, verbose_name='reason')),
                        ('status', models.CharField(choices=[('pending', 'Waiting for approval'), ('approved', 'Approved'), ('refused', 'Refused')], default='pending', max_length=16, verbose_name='status')),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='requested')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided')),
                        ('decision_note', models.CharField(blank=True, max_length=255, verbose_name='note')),
                        ('idempotency_key', models.CharField(max_length=80, unique=True)),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                        ('ledger_entry', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='adjustment_request', to='rewards.ledgerentry', verbose_name='ledger entry')),
                        ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adjustment_requests', to='members.member', verbose_name='member')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                    ],
                    options={
                        'verbose_name': 'points adjustment request',
                        'verbose_name_plural': 'points adjustment requests',
                        'db_table': 'members_adjustmentrequest',
                        'ordering': ['-requested_at', '-id'],
                        'permissions': [('approve_adjustmentrequest', 'Can approve or refuse adjustments')],
                        'indexes': [models.Index(fields=['status', '-requested_at'], name='members_adj_status_74af9f_idx'), models.Index(fields=['requested_by', 'requested_at'], name='members_adj_request_10c96f_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('points', 0), _negated=True), name='adjustment_points_not_zero'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'approved'), _negated=True), ('ledger_entry__isnull', False), _connector='OR'), name='adjustment_approved_has_entry'), models.CheckConstraint(condition=models.Q(('decided_by', models.F('requested_by')), _negated=True), name='adjustment_not_self_approved')],
                    },
                ),
                migrations.CreateModel(
                    name='AnomalyFlag',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('subject_kind', models.CharField(choices=[('member', 'Member'), ('cashier', 'Staff user')], max_length=16, verbose_name='subject')),
                        ('rule', models.CharField(choices=[('many_transactions', 'Many transactions in a day'), ('redeem_then_return', 'Redemption followed by a return'), ('large_adjustment', 'Large manual adjustment')], max_length=32, verbose_name='rule')),
                        ('day', models.DateField(verbose_name='day')),
                        ('details', models.JSONField(blank=True, default=dict, verbose_name='details')),
                        ('status', models.CharField(choices=[('open', 'Waiting for review'), ('dismissed', 'Dismissed'), ('confirmed', 'Confirmed')], default='open', max_length=16, verbose_name='status')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='flagged')),
                        ('reviewed_at', models.DateTimeField(blank=True, null=True, verbose_name='reviewed')),
                        ('note', models.CharField(blank=True, max_length=255, verbose_name='note')),
                        ('member', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='anomaly_flags', to='members.member', verbose_name='member')),
                        ('reviewed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='reviewed by')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='anomaly_flags', to=settings.AUTH_USER_MODEL, verbose_name='staff user')),
                    ],
                    options={
                        'verbose_name': 'anomaly flag',
                        'verbose_name_plural': 'anomaly flags',
                        'db_table': 'members_anomalyflag',
                        'ordering': ['-day', '-id'],
                        'indexes': [models.Index(fields=['status', '-day'], name='members_ano_status_fe1d9c_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('subject_kind', 'member')), fields=('rule', 'member', 'day'), name='anomaly_member_once_a_day'), models.UniqueConstraint(condition=models.Q(('subject_kind', 'cashier')), fields=('rule', 'user', 'day'), name='anomaly_user_once_a_day'), models.CheckConstraint(condition=models.Q(models.Q(('member__isnull', False), ('subject_kind', 'member'), ('user__isnull', True)), models.Q(('member__isnull', True), ('subject_kind', 'cashier'), ('user__isnull', False)), _connector='OR'), name='anomaly_subject_matches_kind')],
                    },
                ),
                migrations.CreateModel(
                    name='Referral',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('referee_phone', models.CharField(max_length=20, verbose_name='phone of the referred')),
                        ('status', models.CharField(choices=[('pending', 'Waiting for the first purchase'), ('review', 'Waiting for review'), ('qualified', 'Bonus given'), ('refused', 'Refused')], db_index=True, default='pending', max_length=16, verbose_name='status')),
                        ('refusal_reason', models.CharField(blank=True, choices=[('self', 'Self-referral (same phone, email or device)'), ('enrolled', 'Already an enrolled member'), ('cap', 'Over the monthly cap of the referrer'), ('staff', 'Refused by staff after review')], max_length=16, verbose_name='refusal reason')),
                        ('review_note', models.CharField(blank=True, max_length=255, verbose_name='why in review')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                        ('qualified_at', models.DateTimeField(blank=True, null=True, verbose_name='qualified')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='reviewed by')),
                        ('referee', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='referral', to='members.member', verbose_name='referred member')),
                        ('referrer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='referrals_made', to='members.member', verbose_name='referrer')),
                    ],
                    options={
                        'verbose_name': 'referral',
                        'verbose_name_plural': 'referrals',
                        'db_table': 'members_referral',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['referrer', 'created_at'], name='members_ref_referre_d45cde_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
