"""The lag-spike investigation playbook as PromQL over the exporter's metrics.

Four steps, as in the original playbook: 1 confirm the lag spike, 2 producer rate, 3 consumer performance,
4 infrastructure correlation. Every query comes with a Grafana Explore link and, when a Prometheus URL is
given, is executed (instant query) and its answer printed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from urllib.parse import quote

from kafka_detective.prometheus_api import selector
from kafka_detective_tools.investigation.sources import CPU_RECORDING_RULE


@dataclass
class Query:
    title: str
    expr: str
    unit: str = ""
    look_for: str = ""                  # what the answer means / what to look for
    answer: list[tuple[dict, float]] | None = None
    error: str | None = None


@dataclass
class PlaybookStep:
    number: int
    title: str
    goal: str
    queries: list[Query] = field(default_factory=list)


def lag_spike_playbook(topic: str, group: str, cluster: str | None = None, since: str = "6h",
                       cpu_query: str | None = None, memory_query: str | None = None) -> list[PlaybookStep]:
    gt = selector(cluster=cluster, consumergroup=group, topic=topic)
    g = selector(cluster=cluster, consumergroup=group)
    tp = selector(cluster=cluster, topic=topic)
    c = selector(cluster=cluster)
    r = since
    produce = f"sum(kafka_topic_produce_rate_messages_per_second{tp})"
    consume = f"sum(kafka_consumergroup_consume_rate_messages_per_second{gt})"
    return [
        PlaybookStep(1, "Confirm the lag spike", "How big is it, is it still there, how old is the oldest message?", [
            Query("Peak lag", f"max(max_over_time(kafka_consumergroup_lag_sum{gt}[{r}]))", "messages"),
            Query("Average lag", f"avg(avg_over_time(kafka_consumergroup_lag_sum{gt}[{r}]))", "messages"),
            Query("Current lag", f"sum(kafka_consumergroup_lag_sum{gt})", "messages",
                  "current close to peak: the spike is ongoing; close to average: it has drained"),
            Query("Peak lag seconds", f"max(max_over_time(kafka_consumergroup_max_lag_seconds{gt}[{r}]))", "s"),
            Query("Current lag seconds", f"max(kafka_consumergroup_max_lag_seconds{gt})", "s",
                  "compare with the topic's retention: messages older than retention are deleted"),
            Query("Retention", f"max(kafka_topic_retention_seconds{tp})", "s"),
            Query("Lost messages in range", f"sum(increase(kafka_consumergroup_lost_messages_total{gt}[{r}]))",
                  "messages", "> 0 means data loss: retention deleted unconsumed messages"),
        ]),
        PlaybookStep(2, "Producer rate", "Did producers write more than usual (producer spike)?", [
            Query("Produce rate now", produce, "msg/s"),
            Query("Produce rate from offsets (5m)", f"sum(deriv(kafka_topic_partition_current_offset{tp}[5m]))",
                  "msg/s"),
            Query("Peak produce rate", f"max_over_time({produce}[{r}:1m])", "msg/s"),
            Query("Produce rate vs its average", f"{produce} / avg_over_time({produce}[{r}:5m])", "x",
                  "> 2 during the spike points to a producer spike"),
        ]),
        PlaybookStep(3, "Consumer performance", "Did the consumers slow down, stop, stall or rebalance?", [
            Query("Consume rate now", consume, "msg/s"),
            Query("Consume rate vs its average", f"{consume} / avg_over_time({consume}[{r}:5m])", "x",
                  "< 0.5 points to a consumer slowdown"),
            Query("Consume / produce", f"{consume} / {produce}", "x",
                  "< 1 while lag grows: consumers are outpaced"),
            Query("Rebalances in range", f"sum(increase(kafka_consumergroup_rebalances_total{g}[{r}]))", "",
                  "several per 10 minutes is a rebalance storm"),
            Query("Members", f"sum(kafka_consumergroup_members{g})", "",
                  "0 while messages arrive: consumers are down"),
            Query("State", f"kafka_consumergroup_state{g} == 1", "", "Stable is healthy; Empty has no members"),
            Query("Predicted catch-up", f"max(kafka_consumergroup_catch_up_seconds{gt})", "s"),
            Query("Detective diagnosis", f"kafka_detective_diagnosis{gt}", "confidence",
                  "the exporter's online root-cause ranking"),
        ]),
        PlaybookStep(4, "Infrastructure correlation", "Is the cause below the consumers: CPU, memory, disk, brokers?", [
            Query("Consumer CPU", cpu_query or f"max({CPU_RECORDING_RULE}{g})", "0-1",
                  "> 0.8 with a lower consume rate: CPU saturation (needs node_exporter/cAdvisor)"),
            Query("Consumer memory", memory_query or
                  "max(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)", "0-1",
                  "pass --memory-query to restrict it to the consumers' pods or hosts"),
            Query("Broker disk used", f"max by (broker_id) (1 - kafka_broker_log_dir_usable_bytes{c} "
                  f"/ kafka_broker_log_dir_total_bytes{c})", "0-1", "> 0.85 is disk pressure"),
            Query("Brokers", f"kafka_brokers{c}", ""),
            Query("Exporter reaches the cluster", f"kafka_detective_cluster_up{c}", "", "0: Kafka unreachable"),
            Query("Under-replicated partitions", f"sum(kafka_topic_partition_under_replicated_partition{c})", "",
                  "> 0: a broker is down or slow"),
            Query("Offline partitions", f"sum(kafka_topic_partition_offline{c})", "", "> 0: broker failure"),
            Query("Leader changes on the topic", f"sum(increase(kafka_topic_partition_leader_changes_total{tp}"
                  f"[{r}]))", "", "> 0 around the onset: leader election"),
            Query("Leadership skew", f"max(kafka_broker_leader_partitions{c}) / "
                  f"avg(kafka_broker_leader_partitions{c})", "x", "> 1.5: one broker leads too many partitions"),
        ]),
    ]


def explore_url(grafana_url: str, expr: str, since: str = "6h", datasource: str = "prometheus",
                until: float | None = None) -> str:
    """Grafana Explore link (the `left` URL state, accepted by Grafana 7-11) showing `expr` over the range
    (relative to now, or absolute epoch milliseconds ending at `until`)."""
    if until is None:
        time_range = {"from": f"now-{since}", "to": "now"}
    else:
        from kafka_detective.durations import parse_duration

        time_range = {"from": str(int((until - parse_duration(since)) * 1000)), "to": str(int(until * 1000))}
    state = {"datasource": datasource, "queries": [{"refId": "A", "expr": expr}], "range": time_range}
    return f"{grafana_url.rstrip('/')}/explore?orgId=1&left=" + quote(json.dumps(state, separators=(",", ":")),
                                                                       safe="")


def execute(steps: list[PlaybookStep], prometheus_url: str, at: float | None = None, timeout: float = 30.0) -> None:
    """Run every query as an instant query and store its answer (or the error) on the Query."""
    from kafka_detective.errors import UserError
    from kafka_detective.prometheus_api import Prometheus

    prom = Prometheus(prometheus_url, timeout=timeout)
    prom.query("vector(1)", at=at)          # fails fast with one clear message when unreachable
    for step in steps:
        for q in step.queries:
            try:
                result = prom.query(q.expr, at=at)
            except UserError as error:
                q.error = str(error)
                continue
            q.answer = [(item.get("metric", {}), float(item["value"][1])) for item in result]


def _format_value(v: float, unit: str) -> str:
    if math.isnan(v):
        return "NaN"
    if unit in ("0-1",):
        return f"{v:.1%}"
    if unit == "s":
        return f"{v:.0f}s" if v < 3600 else f"{v:.0f}s ({v / 3600:.1f}h)"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}" if v != int(v) else f"{int(v)}"


def _short_labels(labels: dict) -> str:
    keep = {k: v for k, v in labels.items() if k not in ("__name__", "cluster", "consumergroup", "topic")}
    return ",".join(f"{k}={v}" for k, v in keep.items())


def render(steps: list[PlaybookStep], grafana_url: str | None = None, since: str = "6h", markdown: bool = False,
           datasource: str = "prometheus", header: str = "", until: float | None = None) -> str:
    lines = [header] if header else []
    for step in steps:
        lines.append(f"{'## ' if markdown else ''}Step {step.number}: {step.title}")
        lines.append(f"{'' if markdown else '  '}{step.goal}")
        for q in step.queries:
            lines.append(f"{'- **' if markdown else '  * '}{q.title}{'**' if markdown else ''}"
                         + (f" ({q.unit})" if q.unit else ""))
            lines.append(f"    {'`' if markdown else ''}{q.expr}{'`' if markdown else ''}")
            if q.look_for:
                lines.append(f"    look for: {q.look_for}")
            if grafana_url:
                url = explore_url(grafana_url, q.expr, since, datasource, until)
                lines.append(f"    [Explore]({url})" if markdown else f"    explore: {url}")
            if q.error is not None:
                lines.append(f"    answer: error: {q.error}")
            elif q.answer is not None:
                if not q.answer:
                    lines.append("    answer: no data (metric not scraped, or nothing matched)")
                for labels, value in q.answer[:10]:
                    lab = _short_labels(labels)
                    lines.append(f"    answer: {_format_value(value, q.unit)}" + (f"  {{{lab}}}" if lab else ""))
        lines.append("")
    return "\n".join(lines)


def rule_file(steps: list[PlaybookStep]) -> str:
    """A Prometheus rule file with every playbook query as a recording rule (for `promtool check rules`)."""
    import yaml

    rules = [{"record": f"playbook:step{s.number}_q{i}", "expr": q.expr}
             for s in steps for i, q in enumerate(s.queries, 1)]
    return yaml.safe_dump({"groups": [{"name": "playbook", "rules": rules}]}, sort_keys=False)
