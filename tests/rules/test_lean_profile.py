"""Every alert and recording rule still works under the lean profile (`metrics.profile: lean`).

A rule may read a family the profile drops only if it also reads the family that stands in for it (`A or B`):
the per-topic sum that replaces a per-partition topic family, or the per-group/topic sum (or maximum) of a
per-partition group family. The promtool cases of each such pattern include one with the stand-in alone.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kafka_detective.metrics import budget
from kafka_detective.metrics.catalogue import BY_NAME, CATALOGUE
from kafka_detective.metrics.selection import keeps
from kafka_detective_tools.patterns.promql import metric_names

# What is left of the per-partition group families at groups granularity topic.
GROUP_STAND_INS = {
    "kafka_consumergroup_current_offset": "kafka_consumergroup_current_offset_sum",
    "kafka_consumergroup_lag": "kafka_consumergroup_lag_sum",
    "kafka_consumergroup_lag_seconds": "kafka_consumergroup_max_lag_seconds",
    "kafka_consumergroup_lost_messages": "kafka_consumergroup_lost_messages_total",
}
STAND_INS = {**GROUP_STAND_INS, **{r.name: s.name for s in CATALOGUE for r in s.replaces}}
# Rules that read a dropped family only as the fallback of a kept one (`kept or fallback`).
FALLBACKS = {("kafka:cluster_partitions:count", "kafka_topic_partition_leader_changes_total"): "kafka_topic_partitions"}


def rules(root: Path) -> list[dict[str, str]]:
    doc = yaml.safe_load((root / "alert-rules" / "prometheus-rules.yaml").read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_no_rule_depends_on_a_family_the_lean_profile_drops(root: Path) -> None:
    lean = budget.profile("lean")
    problems = []
    for rule in rules(root):
        names = {n for n in metric_names(rule["expr"]) if n in BY_NAME}
        for name in sorted(n for n in names if not keeps(BY_NAME[n], lean)):
            stand_in = FALLBACKS.get((rule.get("alert") or rule.get("record", ""), name)) or STAND_INS.get(name)
            if stand_in is None or stand_in not in names or not keeps(BY_NAME[stand_in], lean):
                problems.append(f"{rule.get('alert') or rule.get('record')}: reads {name}, which lean drops")
    assert not problems, problems


def test_the_group_stand_ins_are_the_same_subject_without_the_partition() -> None:
    for dropped, stand_in in GROUP_STAND_INS.items():
        assert BY_NAME[stand_in].labels == tuple(label for label in BY_NAME[dropped].labels if label != "partition")
