"""Observability derived from the spec: metric catalogue, PromQL helpers, Grafana dashboards and
Prometheus rules. The monitoring component (components/monitoring.py) packages them."""
