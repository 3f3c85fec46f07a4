"""The ladder's rules (no ffmpeg needed) and ffmpeg's limits."""

import pytest

from app.services.video import ffmpeg
from app.services.video.ladder import GOP_S, SEGMENT_S, Source, frame_rate, output_size, rungs_for


def names(width: int, height: int) -> list[str]:
    return [rung.name for rung in rungs_for(Source(width, height, 60, 25, True))]


def test_rungs_are_never_above_the_source():
    assert names(1920, 1080) == ["240p", "360p", "720p"]
    assert names(1280, 720) == ["240p", "360p", "720p"]
    assert names(854, 480) == ["240p", "360p"]
    assert names(640, 360) == ["240p", "360p"]
    assert names(320, 180) == ["180p"]  # smaller than the lowest rung: one rung at its own size


def test_portrait_video_is_laddered_on_its_shorter_side():
    source = Source(1080, 1920, 60, 30, True)
    assert [rung.name for rung in rungs_for(source)] == ["240p", "360p", "720p"]
    assert output_size(rungs_for(source)[1], source) == (360, 640)


def test_sizes_are_even_and_keep_the_aspect():
    source = Source(1440, 1080, 60, 25, True)  # 4:3
    assert [output_size(rung, source) for rung in rungs_for(source)] == [(320, 240), (480, 360), (960, 720)]


def test_frame_rate_is_capped_and_segments_are_whole_gops():
    assert frame_rate(Source(1920, 1080, 10, 59.94, True)) == 30
    assert frame_rate(Source(1920, 1080, 10, 23.976, True)) == 24
    assert SEGMENT_S % GOP_S == 0


def test_the_command_caps_threads_and_aligns_keyframes(tmp_path):
    source = Source(1920, 1080, 60, 25, True)
    args = ffmpeg.ladder_command("ffmpeg", tmp_path / "in.mp4", source, rungs_for(source), tmp_path / "out",
                                 threads=2, preset="veryfast")
    assert args.count("-threads") == 1 + 3 and all(args[i + 1] == "2" for i, a in enumerate(args) if a == "-threads")
    assert args.count("expr:gte(t,n_forced*2)") == 3 and args.count("50") >= 6  # -g and -keyint_min: 2 s at 25 fps
    assert args[args.index("-hls_time") + 1] == str(SEGMENT_S)


async def test_an_overrunning_ffmpeg_is_killed_and_reported():
    with pytest.raises(ffmpeg.TranscodeFailed, match="did not finish within"):
        await ffmpeg.run_ffmpeg(["sleep", "30"], timeout_s=0.5)


async def test_a_missing_ffmpeg_is_reported_by_name():
    with pytest.raises(ffmpeg.TranscodeFailed, match="not installed"):
        await ffmpeg.run_ffmpeg(["/nonexistent/ffmpeg"], timeout_s=5)
