"""Monitoring: indicator definitions (DOMAIN.md §6), their set-based computation per region and period,
stored results, drill-down, dashboards and supervision reports (规划 二(三), 三(五), 五)."""
