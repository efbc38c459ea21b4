"""The XDF writer's files read back with pyxdf: headers, samples, clock offsets, boundaries, footers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyxdf

from cpmlab.lsl.xdf_writer import XdfWriter, chunk, footer_xml, header_xml, varlen_int


def test_varlen_int_uses_1_4_or_8_bytes() -> None:
    """Lengths up to 255 take 1 byte, up to 2**32-1 four, above that eight (after the size byte)."""
    assert varlen_int(7) == b"\x01\x07"
    assert varlen_int(300) == b"\x04" + (300).to_bytes(4, "little")
    assert varlen_int(2**33) == b"\x08" + (2**33).to_bytes(8, "little")
    assert chunk(5, b"x") == b"\x01\x03\x05\x00x"


def test_pyxdf_reads_every_stream_kind_with_clock_offsets_applied(tmp_path: Path) -> None:
    """String and numeric streams round-trip; pyxdf adds the recorded offset to a stream's time stamps."""
    path = tmp_path / "rec.xdf"
    w = XdfWriter(path)
    w.add_stream(1, header_xml("m", "Markers", 1, 0.0, "string", source_id="s1"), "string", 1)
    w.add_stream(2, header_xml("temp", "Temperature", 6, 100.0, "float32"), "float32", 6)
    w.add_stream(3, header_xml("counts", "Misc", 2, 10.0, "int16"), "int16", 2)
    w.add_stream(4, header_xml("d", "Misc", 1, 0.0, "double64"), "double64", 1)
    long_text = 'note {"text":"' + "é" * 400 + '"}'
    w.write_samples(1, [100.0, 101.5], [['ts_ramp_start {"target_c":46.0}'], [long_text]])
    temps = np.arange(6000, dtype=np.float32).reshape(1000, 6)
    stamps = 100.0 + np.arange(1000) / 100.0
    w.write_samples(2, stamps[:500], temps[:500])
    w.write_boundary()
    w.write_samples(2, stamps[500:], temps[500:])
    w.write_samples(3, [100.0, 100.1], [[1, -2], [3, 4]])
    w.write_samples(4, [], [])
    w.write_samples(4, [100.0], [[1e300]])
    for sid, offset_s in ((1, 0.0), (2, 0.25), (3, 0.0), (4, 0.0)):
        w.write_clock_offset(sid, 100.0 - offset_s, offset_s)
        w.write_clock_offset(sid, 120.0 - offset_s, offset_s)
    w.write_footer(1, footer_xml(100.0, 101.5, 2, [(100.0, 0.0), (120.0, 0.0)]))
    w.close()

    streams, header = pyxdf.load_xdf(str(path))
    by = {s["info"]["name"][0]: s for s in streams}
    assert header["info"]["version"] == ["1.0"]
    assert by["m"]["time_series"] == [['ts_ramp_start {"target_c":46.0}'], [long_text]]
    np.testing.assert_array_equal(by["m"]["time_stamps"], [100.0, 101.5])
    np.testing.assert_array_equal(by["temp"]["time_series"], temps)
    np.testing.assert_allclose(by["temp"]["time_stamps"], stamps + 0.25, atol=1e-9)
    np.testing.assert_array_equal(by["counts"]["time_series"], [[1, -2], [3, 4]])
    assert by["d"]["time_series"][0, 0] == 1e300
    assert by["m"]["footer"]["info"]["sample_count"] == ["2"]
    assert by["m"]["info"]["source_id"] == ["s1"]
    raw, _ = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
    np.testing.assert_array_equal({s["info"]["name"][0]: s for s in raw}["temp"]["time_stamps"], stamps)


def test_writer_never_overwrites_and_checks_formats(tmp_path: Path) -> None:
    """An existing file is refused; unknown formats, reused stream ids and wrong widths raise."""
    path = tmp_path / "a.xdf"
    w = XdfWriter(path)
    with pytest.raises(FileExistsError):
        XdfWriter(path)
    with pytest.raises(ValueError):
        w.add_stream(1, header_xml("x", "y", 1, 0, "float16"), "float16", 1)
    w.add_stream(1, header_xml("x", "y", 2, 0, "string"), "string", 2)
    with pytest.raises(ValueError):
        w.add_stream(1, header_xml("x", "y", 1, 0, "string"), "string", 1)
    with pytest.raises(ValueError):
        w.write_samples(1, [1.0], [["only one"]])
    w.close()
