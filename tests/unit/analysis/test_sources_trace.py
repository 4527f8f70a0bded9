"""History from a trace file: the --until / --since window the investigation commands apply."""

from __future__ import annotations

import pytest

from kafka_detective.errors import UserError
from kafka_detective_tools.investigation.sources import samples_from_trace_file
from synthetic import Synth, write_samples_trace

START, STEP = 1_760_000_000.0, 15.0


def _trace(tmp_path):
    path = tmp_path / "t.om"
    synth = Synth(n=40, step=STEP, start=START)
    write_samples_trace(path, synth.samples())
    return path, synth


def test_until_cuts_the_end_and_since_keeps_the_last_seconds_before_it(tmp_path):
    path, synth = _trace(tmp_path)
    until = START + 20 * STEP
    _, samples = samples_from_trace_file(str(path), synth.group, synth.topic, since=3 * STEP, until=until)
    assert [s.timestamp for s in samples] == [START + i * STEP for i in (17, 18, 19, 20)]


def test_a_window_with_fewer_than_two_samples_is_a_user_error_naming_the_range(tmp_path):
    path, synth = _trace(tmp_path)
    with pytest.raises(UserError, match=r"fewer than 2 samples .* in the selected range"):
        samples_from_trace_file(str(path), synth.group, synth.topic, until=START)
