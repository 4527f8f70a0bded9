"""`kafka-detective anomalies --benchmark`: NAB-style figures, JSON and plot; missing inputs fail clearly."""

from __future__ import annotations

import json

from kafka_detective.cli import main


def test_benchmark_prints_train_and_test_beside_the_baseline(tmp_path, capsys) -> None:
    out_json = tmp_path / "bench.json"
    png = tmp_path / "bench.png"
    assert main(["anomalies", "--benchmark", "--per-family", "1", "--json", str(out_json),
                 "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "test@train-thr" in text and "windowed-gaussian" in text and "kafka-detective" in text
    figures = json.loads(out_json.read_text())
    for name in ("kafka-detective", "windowed-gaussian", "signal-detector"):
        part = figures[name]
        assert set(part) >= {"train", "test_at_train_threshold", "test_swept", "test_families"}
        assert part["test_swept"]["score"] >= part["test_at_train_threshold"]["score"] - 1e-9
    assert png.stat().st_size > 10_000


def test_anomalies_without_inputs_names_the_missing_flag(tmp_path, capsys) -> None:
    assert main(["anomalies", "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "--csv" in err and "Traceback" not in err
    assert main(["anomalies", "--benchmark", "--per-family", "0"]) == 2
    assert "--per-family" in capsys.readouterr().err


def test_benchmark_over_several_seeds_prints_each_and_the_mean(capsys) -> None:
    assert main(["anomalies", "--benchmark", "--per-family", "1", "--seeds", "1,2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines[1:4]] == ["1", "2", "mean"]
    assert main(["anomalies", "--benchmark", "--seeds", "1,x"]) == 2
    assert "--seeds" in capsys.readouterr().err
