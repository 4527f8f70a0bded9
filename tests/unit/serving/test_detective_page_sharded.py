"""On a sharded exporter, a case link that reaches a pod of another shard says which shard has the case."""

from __future__ import annotations

from urllib.parse import urlencode

from kafka_detective.gathering.sharding import Shard, shard_of
from kafka_detective.serving import detective_page as dp

from ..html_support import parse


def case(group: str, shard: Shard) -> tuple[int, str]:
    target = "/detective/case?" + urlencode({"cluster": "prod", "group": group, "topic": "orders"})
    response = dp.respond(target, dp.StaticSource([], {}), now=0.0, shard=shard)
    return response.status, " ".join(parse(response.body.decode()).text)


def test_another_shards_group_is_a_404_naming_its_shard() -> None:
    groups = [f"group-{i}" for i in range(30)]
    here = Shard(1, 3)
    elsewhere = next(g for g in groups if shard_of(g, 3) == 2)
    status, text = case(elsewhere, here)
    assert status == 404
    assert f"this exporter is shard 1 of 3, and group {elsewhere} is collected by shard 2" in text
    assert "ends in -2" in text


def test_an_unknown_group_of_this_shard_or_of_an_unsharded_exporter_is_the_usual_404() -> None:
    mine = next(g for g in (f"group-{i}" for i in range(30)) if shard_of(g, 3) == 1)
    for group, shard in ((mine, Shard(1, 3)), ("any", Shard())):
        status, text = case(group, shard)
        assert status == 404 and "not known to the analytics" in text and "shard" not in text
