"""HLS playlists as text (RFC 8216): the master with its variants and subtitle tracks, and media playlists.

Pure functions: the caller passes the URLs (signed, absolute). VOD playlists end with EXT-X-ENDLIST, so a
player loads each one once.
"""

import math
from dataclasses import dataclass
from typing import Any

SUBTITLE_GROUP = "subs"
FMP4_VERSION = 7  # EXT-X-MAP for fragmented-MP4 segments (RFC 8216 §7)
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "fr": "Français", "zh": "中文", "km": "ខ្មែរ",
                  "lo": "ລາວ"}


@dataclass(frozen=True)
class Variant:
    rendition: dict[str, Any]  # one entry of VideoEncoding.renditions
    url: str


@dataclass(frozen=True)
class SubtitleTrack:
    language: str
    url: str


def _quoted(value: str) -> str:
    return '"' + value.replace('"', "'").replace("\n", " ") + '"'


def master_playlist(variants: list[Variant], subtitles: list[SubtitleTrack]) -> str:
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{FMP4_VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for track in subtitles:
        name = LANGUAGE_NAMES.get(track.language.split("-")[0], track.language)
        lines.append(f"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID={_quoted(SUBTITLE_GROUP)},NAME={_quoted(name)},"
                     f"LANGUAGE={_quoted(track.language)},DEFAULT=NO,AUTOSELECT=YES,URI={_quoted(track.url)}")
    for variant in variants:  # lowest first: a player that starts on the first variant starts fast on 3G
        r = variant.rendition
        attributes = [f"BANDWIDTH={r['bandwidth']}", f"AVERAGE-BANDWIDTH={r['average_bandwidth']}",
                      f"RESOLUTION={r['width']}x{r['height']}", f"CODECS={_quoted(r['codecs'])}"]
        if subtitles:
            attributes.append(f"SUBTITLES={_quoted(SUBTITLE_GROUP)}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), variant.url]
    return "\n".join(lines) + "\n"


def media_playlist(segments: list[tuple[float, str]], *, init_url: str | None = None) -> str:
    """`segments` as (seconds, url) in play order; `init_url` the fMP4 initialisation segment (video), none
    for a subtitle playlist."""
    target = max((math.ceil(seconds) for seconds, _ in segments), default=1)
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{FMP4_VERSION if init_url else 3}", f"#EXT-X-TARGETDURATION:{target}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"]
    if init_url:
        lines += ["#EXT-X-INDEPENDENT-SEGMENTS", f"#EXT-X-MAP:URI={_quoted(init_url)}"]
    for seconds, url in segments:
        lines += [f"#EXTINF:{seconds:.6f},", url]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
