"""Reads of the analytics app, one module per area; none of them writes.

Import from the area module (`from analytics.selectors.kpis import kpis`):

- periods: the dashboards' periods and the month and day arithmetic
- metrics: what each figure means (METRICS) and how a ratio is rounded
- aggregates: the SQL over the source rows that the snapshots are built from
- kpis, member_figures, acquisition, feedback: the KPI cards
- tables, cohorts, campaign_returns: the dashboards' series and tables
- churn_reasons: what churned members complained about
- rfm, clv: RFM scores and segments, customer value and churn risk
- recommend, recommend_eval: "Recommended for you" and its evaluation
- member360, timeline_campaigns: the Member 360 timeline and its sources
"""
