"""Writes of the analytics app, one module per area (import a service from its
module inside the app; other apps may use these re-exports):

- inputs: the figures staff enter (store sales, marketing spend)
- snapshots: the snapshot tables, recomputed from the source rows
- period_stats: a period's member figures, kept until the next refresh
- rfm: RFM scores, customer value and churn risk; campaign segments from them
- recommend: the co-purchase tables and the reward categories
"""

from analytics.services.inputs import (
    marketing_spend_bulk_save,
    marketing_spend_save,
    store_sales_bulk_save,
    store_sales_save,
)
from analytics.services.period_stats import (
    active_by_store_keep,
    period_member_figures_keep,
    period_stats_prefill,
)
from analytics.services.recommend import copurchase_refresh, reward_categories_set
from analytics.services.rfm import rfm_refresh, rfm_segment_to_campaign_segment
from analytics.services.snapshots import (
    snapshots_refresh_incremental,
    snapshots_refresh_range,
)

__all__ = [
    "active_by_store_keep",
    "copurchase_refresh",
    "marketing_spend_bulk_save",
    "marketing_spend_save",
    "period_member_figures_keep",
    "period_stats_prefill",
    "reward_categories_set",
    "rfm_refresh",
    "rfm_segment_to_campaign_segment",
    "snapshots_refresh_incremental",
    "snapshots_refresh_range",
    "store_sales_bulk_save",
    "store_sales_save",
]
