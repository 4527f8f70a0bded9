"""The incident runbook: the steps an on-call engineer takes for a diagnosis, with the PromQL and shell commands
filled in for the subject, and the number/time formatting the case file and the reports share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kafka_detective.analysis import rootcause as rc
from kafka_detective.analysis.model import Diagnosis, Evidence
from kafka_detective.prometheus_api import selector


def ts(t: float | None) -> str:
    if t is None or not math.isfinite(t):
        return "-"
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def num(v: float | None) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10 or v == int(v):
        return f"{v:.0f}" if v == int(v) else f"{v:.1f}"
    return f"{v:.3g}"


# --- runbook ----------------------------------------------------------------------------------------------


@dataclass
class RunbookStep:
    description: str
    command: str
    expected: str


@dataclass
class Runbook:
    title: str
    cause: str
    severity: str
    steps: list[RunbookStep] = field(default_factory=list)
    validation: list[tuple[str, str]] = field(default_factory=list)   # (check, PromQL)
    escalation: str = ""


def build_runbook(d: Diagnosis, cluster: str, group: str, topic: str) -> Runbook:
    """The incident runbook for the diagnosed cause, its commands and expected results filled with evidence."""
    ev: dict[str, Evidence] = {}
    for e in d.evidence:
        ev.setdefault(e.metric, e)
    gt = selector(cluster=cluster, consumergroup=group, topic=topic)
    g = selector(cluster=cluster, consumergroup=group)
    tp = selector(cluster=cluster, topic=topic)
    c = selector(cluster=cluster)
    produce = f"sum(kafka_topic_produce_rate_messages_per_second{tp})"
    consume = f"sum(kafka_consumergroup_consume_rate_messages_per_second{gt})"
    describe = f'kafka-consumer-groups.sh --bootstrap-server "$BOOTSTRAP" --describe --group {group} --members ' \
               "--verbose"
    offsets = f'kafka-consumer-groups.sh --bootstrap-server "$BOOTSTRAP" --describe --group {group}'
    pe, ce = ev.get(rc.PRODUCE_RATE), ev.get(rc.CONSUME_RATE)
    lag = ev.get(rc.LAG)
    S = RunbookStep
    steps: list[RunbookStep] = [
        S("Confirm the lag and whether it is still growing",
          f"promql: deriv(kafka_consumergroup_lag_sum{gt}[10m])",
          f"Positive while the lag still grows (it peaked at {num(lag.value) if lag else '?'} messages against a "
          f"baseline of {num(lag.baseline) if lag else '?'})"),
    ]
    cause = d.cause
    if cause == "producer_spike":
        steps += [
            S("Verify the producer spike", f"promql: {produce}",
              f"About {num(pe.value) if pe else '?'} msg/s against a baseline of {num(pe.baseline) if pe else '?'}"
              " msg/s"),
            S("Check consumer capacity: members against partitions",
              f"promql: sum(kafka_consumergroup_members{g}) / sum(kafka_topic_partitions{tp})",
              "Below 1: there is room to scale out"),
            S("Check the autoscaler", 'kubectl -n "$NAMESPACE" get hpa "$DEPLOYMENT"',
              "Current replicas < max replicas (otherwise raise the maximum)"),
            S("Scale the consumers out (up to the partition count)",
              'kubectl -n "$NAMESPACE" scale deployment "$DEPLOYMENT" --replicas=<partitions>',
              "deployment scaled; members rise after one rebalance"),
            S("Find the producer and whether the spike is expected",
              f"promql: topk(5, sum by (topic) (kafka_topic_produce_rate_messages_per_second{c}))",
              f"{topic} at the top; ask its producing team (batch job, replay, retry storm?)"),
            S("Monitor lag reduction", f"promql: {consume} - {produce}",
              "Positive: consumers now outpace producers and the lag drains"),
        ]
    elif cause == "consumer_down":
        steps += [
            S("Confirm the group has no members", describe, f"'Consumer group {group} has no active members.'"),
            S("Find the consumers' pods / processes", 'kubectl -n "$NAMESPACE" get pods -l app="$APP" -o wide',
              "Pods missing, CrashLoopBackOff, or scaled to 0"),
            S("Check why they stopped", 'kubectl -n "$NAMESPACE" get events --sort-by=.lastTimestamp | tail -30',
              "OOMKilled, failed probes, a failed rollout or a scale-down"),
            S("Restart or roll back the consumers", 'kubectl -n "$NAMESPACE" rollout undo deployment "$DEPLOYMENT"'
              '  # or: rollout restart', "Pods Running; members > 0 within a minute"),
            S("Watch the group come back", f"promql: kafka_consumergroup_members{g} > 0 and on (cluster, "
              f"consumergroup) kafka_consumergroup_state{{state=\"Stable\",{g[1:-1]}}} == 1",
              "A result: members > 0 and state Stable"),
            S("Check retention headroom", f"promql: kafka_consumergroup_retention_breach_seconds{gt}",
              "Well above the expected catch-up time; otherwise extend retention.ms now"),
        ]
    elif cause == "consumer_stalled":
        steps += [
            S("Confirm commits are frozen while members are present",
              f"promql: changes(kafka_consumergroup_current_offset_sum{gt}[10m]) == 0 and on (cluster, "
              f"consumergroup) kafka_consumergroup_members{g} > 0", "A result: no commit in 10 minutes, members > 0"),
            S("Find the stuck partitions", offsets,
              "CURRENT-OFFSET unchanged on some/all partitions; note the offsets"),
            S("Read the application logs at the stuck offset",
              'kubectl -n "$NAMESPACE" logs deployment/"$DEPLOYMENT" --since=30m | grep -iE '
              "'exception|error|retry|timeout' | tail -50",
              "A repeated exception on one record (poison message) or a hanging downstream call"),
            S("Take a thread dump of one consumer", 'kubectl -n "$NAMESPACE" exec <pod> -- jcmd 1 Thread.print',
              "The poll loop blocked in a downstream call or a lock"),
            S("Skip or dead-letter the poison message (if that is the cause)",
              f'kafka-consumer-groups.sh --bootstrap-server "$BOOTSTRAP" --group {group} --topic {topic}:<partition>'
              " --reset-offsets --to-offset <offset+1> --execute  # with the group stopped",
              "The committed offset moves again"),
        ]
    elif cause == "rebalance_storm":
        re_ = ev.get(rc.REBALANCES)
        steps += [
            S("Count the rebalances", f"promql: increase(kafka_consumergroup_rebalances_total{g}[10m])",
              f"{num(re_.value) if re_ else 'Several'} rebalances around the onset "
              f"(baseline expectation {num(re_.baseline) if re_ else '0'})"),
            S("Check consumer logs for rebalance causes",
              'kubectl -n "$NAMESPACE" logs -l app="$APP" --tail=200 | grep -iE "rebalanc|revok|max.poll|heartbeat"',
              "'max.poll.interval.ms exceeded' or members leaving/joining"),
            S("Check for OOM kills and restarts",
              'kubectl -n "$NAMESPACE" get events --field-selector reason=OOMKilling; '
              'kubectl -n "$NAMESPACE" get pods -l app="$APP"', "Restart counts rising identify crashing members"),
            S("Give processing more time or make batches smaller",
              'kubectl -n "$NAMESPACE" set env deployment/"$DEPLOYMENT" MAX_POLL_RECORDS=100 '
              "MAX_POLL_INTERVAL_MS=600000", "Environment updated; rebalances stop after the rollout"),
            S("Make rebalances cheap", "consumer config: group.instance.id=<pod name> (static membership), "
              "partition.assignment.strategy=CooperativeStickyAssignor, or group.protocol=consumer (KIP-848)",
              "Restarts no longer stop the whole group"),
        ]
    elif cause in ("consumer_cpu_saturation", "consumer_slowdown"):
        steps += [
            S("Confirm the consume rate dropped", f"promql: {consume}",
              f"About {num(ce.value) if ce else '?'} msg/s against a baseline of {num(ce.baseline) if ce else '?'}"
              " msg/s"),
        ]
        if cause == "consumer_cpu_saturation":
            cpu = ev.get(rc.CPU)
            steps += [
                S("Check the consumers' CPU", 'kubectl -n "$NAMESPACE" top pods -l app="$APP"',
                  f"CPU at its limit (analysis saw {cpu.value:.0%})" if cpu else "CPU at its limit"),
                S("Check CPU throttling",
                  'promql: sum(rate(container_cpu_cfs_throttled_periods_total{pod=~"$APP-.*"}[5m])) / '
                  'sum(rate(container_cpu_cfs_periods_total{pod=~"$APP-.*"}[5m]))', "> 0.25: throttled"),
                S("Scale out or raise the CPU limit",
                  'kubectl -n "$NAMESPACE" scale deployment "$DEPLOYMENT" --replicas=<n>  # up to the partitions',
                  "Consume rate back above the produce rate"),
            ]
        else:
            steps += [
                S("Check application errors and latency of dependencies",
                  'kubectl -n "$NAMESPACE" logs deployment/"$DEPLOYMENT" --since=30m | grep -iE '
                  "'timeout|slow|retry|error' | tail -50", "A slow or failing dependency (database, HTTP API)"),
                S("Check recent deployments", 'kubectl -n "$NAMESPACE" rollout history deployment "$DEPLOYMENT"',
                  "A rollout right before the onset: roll it back"),
                S("Check GC pauses / memory", 'kubectl -n "$NAMESPACE" top pods -l app="$APP"',
                  "Memory near the limit suggests GC pressure"),
            ]
    elif cause in ("leader_election", "broker_failure"):
        lc = ev.get(rc.LEADER_CHANGES)
        steps += [
            S("Leader changes on the topic",
              f"promql: sum(increase(kafka_topic_partition_leader_changes_total{tp}[30m]))",
              f"{num(lc.value) if lc else 'Some'} leader changes around {ts(lc.timestamp) if lc else 'the onset'}"),
            S("Broker health", f"promql: sum(kafka_topic_partition_offline{c}) + "
              f"sum(kafka_topic_partition_under_replicated_partition{c})",
              "0 offline and under-replicated partitions once the broker is back"),
            S("Describe the topic", f'kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --describe --topic {topic} '
              "--under-replicated-partitions", "Empty output once the ISR has recovered"),
            S("Check the controller and the failed broker's logs",
              'kubectl -n "$KAFKA_NAMESPACE" logs <broker-pod> --since=1h | grep -iE "error|shutdown|fenced"',
              "The reason the broker left or leadership moved (restart, network, disk)"),
            S("Restore preferred leaders once stable",
              f'kafka-leader-election.sh --bootstrap-server "$BOOTSTRAP" --election-type PREFERRED --topic {topic}'
              " --all-topic-partitions", "Successfully completed leader election"),
        ]
    elif cause == "broker_skew":
        steps += [
            S("Leadership per broker", f"promql: kafka_broker_leader_partitions{c}",
              "One broker far above the others"),
            S("Preferred-replica election",
              'kafka-leader-election.sh --bootstrap-server "$BOOTSTRAP" --election-type PREFERRED '
              "--all-topic-partitions", "Leadership spread evenly again"),
            S("Rebalance partitions if the preferred replicas are skewed",
              "kafka-reassign-partitions.sh --generate ... (or Cruise Control rebalance)",
              "kafka_broker_preferred_leader_partitions even across brokers"),
        ]
    elif cause == "disk_pressure":
        steps += [
            S("Disk use per broker", f"promql: 1 - kafka_broker_log_dir_usable_bytes{c} / "
              f"kafka_broker_log_dir_total_bytes{c}", "The broker(s) above 85 %"),
            S("Biggest topics", f"promql: topk(10, sum by (topic) (kafka_topic_retention_bytes{c}))",
              "Candidates for lower retention"),
            S("Lower retention of a large topic",
              'kafka-configs.sh --bootstrap-server "$BOOTSTRAP" --alter --entity-type topics --entity-name <topic> '
              "--add-config retention.ms=<ms>", "Disk usage falls after the next log cleanup"),
            S("Add capacity", "expand the volume / add brokers and reassign partitions",
              "Usable bytes rise"),
        ]
    elif cause == "retention_loss":
        lost = ev.get(rc.LOST)
        steps += [
            S("Quantify the loss", f"promql: increase(kafka_consumergroup_lost_messages_total{gt}[1h])",
              f"{num(lost.value) if lost else 'Some'} messages deleted before the group read them"),
            S("Compare the lag in seconds with the retention",
              f"promql: kafka_consumergroup_max_lag_seconds{gt} / on (cluster, topic) group_left "
              f"kafka_topic_retention_seconds{tp}", "1 or more: the oldest unconsumed message reached the retention"),
            S("Extend retention while the backlog drains",
              f'kafka-configs.sh --bootstrap-server "$BOOTSTRAP" --alter --entity-type topics --entity-name {topic} '
              "--add-config retention.ms=<2x the current lag seconds x 1000>", "Completed updating config"),
            S("Speed the consumers up (see the consumer-side cause in the ranking)",
              'kubectl -n "$NAMESPACE" scale deployment "$DEPLOYMENT" --replicas=<partitions>',
              "Lag seconds fall below the retention"),
            S("Replay the lost range from the source system", "(application specific)",
              "Downstream systems reconciled"),
        ]
    else:
        steps += [
            S("Run the lag-spike playbook", f"kafka-detective playbook lag-spike --topic {topic} --group {group}"
              + (f" --cluster {cluster}" if cluster else "") + " --prometheus $PROMETHEUS",
              "One of the steps shows the anomaly"),
            S("Check application logs", 'kubectl -n "$NAMESPACE" logs deployment/"$DEPLOYMENT" --since=1h | tail -100',
              "Errors or slow operations around the onset"),
        ]
    validation = [
        ("Lag decreasing", f"deriv(kafka_consumergroup_lag_sum{gt}[10m]) < 0"),
        ("Consume rate above the produce rate until caught up", f"{consume} > {produce}"),
        ("No new rebalances", f"increase(kafka_consumergroup_rebalances_total{g}[10m]) == 0"),
        ("Oldest unconsumed message younger than 5 minutes", f"kafka_consumergroup_max_lag_seconds{gt} < 300"),
        ("No messages lost", f"increase(kafka_consumergroup_lost_messages_total{gt}[30m]) == 0"),
        ("The diagnosis series is gone (no lag problem)", f"absent(kafka_detective_diagnosis{gt})"),
    ]
    owner = {"producer_spike": "the producing team and the consumer's owners",
             "broker_failure": "the Kafka platform team", "leader_election": "the Kafka platform team",
             "broker_skew": "the Kafka platform team", "disk_pressure": "the Kafka platform team"}.get(
        cause, "the team owning the consumer group")
    when = "15 minutes" if d.severity == "critical" else "30 minutes"
    escalation = (f"If the lag still grows {when} after mitigation, escalate to {owner}"
                  + ("; page the incident commander, data loss is ongoing." if cause == "retention_loss" else "."))
    return Runbook(title=f"Runbook: {rc.SUMMARY[cause]} on {group}/{topic}", cause=cause, severity=d.severity,
                   steps=steps, validation=validation, escalation=escalation)


def runbook_markdown(rb: Runbook, level: int = 2) -> str:
    h = "#" * level
    out = [f"{h} {rb.title}", "", f"Severity: **{rb.severity}**. Root cause: `{rb.cause}`.", ""]
    for i, step in enumerate(rb.steps, 1):
        lang = "promql" if step.command.startswith("promql: ") else "bash"
        cmd = step.command.removeprefix("promql: ")
        out += [f"{h}# Step {i}: {step.description}", "", f"```{lang}", cmd, "```",
                f"**Expected result**: {step.expected}", ""]
    out += [f"{h}# Validation", ""]
    out += [f"- [ ] {check}: `{q}`" for check, q in rb.validation]
    out += ["", f"{h}# Escalation", "", rb.escalation, ""]
    return "\n".join(out)
