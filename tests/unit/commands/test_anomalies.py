"""`kafka-detective anomalies`: happy path and malformed input."""

from __future__ import annotations

import csv
import random

from kafka_detective.cli import main


def test_anomalies_cli_scores_a_step(tmp_path):
    rng = random.Random(1)
    src = tmp_path / "in.csv"
    rows = ["timestamp,value"]
    for i in range(600):
        value = 100 + rng.gauss(0, 3) + (60 if i >= 500 else 0)
        rows.append(f"{1790000000 + 30 * i},{value:.3f}")
    src.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out.csv"
    assert main(["anomalies", "--csv", str(src), "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        got = list(csv.DictReader(handle))
    assert list(got[0]) == ["timestamp", "value", "anomaly_score"]
    assert len(got) == 600
    scores = [float(r["anomaly_score"]) for r in got]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert max(scores[:500]) < 0.8 and max(scores[500:510]) >= 0.95


def test_anomalies_cli_malformed_line(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("timestamp,value\n1790000000,1\n1790000030,2\n1790000060,abc\n")
    assert main(["anomalies", "--csv", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "in.csv:4" in err and "Traceback" not in err
    src.write_text("1790000000,1\n1790000030\n")
    assert main(["anomalies", "--csv", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    assert "in.csv:2" in capsys.readouterr().err
    assert main(["anomalies", "--csv", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.csv")]) == 2
