"""WebVTT caption files checked on import: the syntax players rely on, and cue times inside the video.

A small reader of the W3C WebVTT format (header, cue blocks, NOTE/STYLE/REGION blocks, timings) rather than a
library, because every problem must name its line, in the reader's language. Cue text is not HTML: players
render it through their own WebVTT parser, so it needs no sanitising.
"""

import re
from dataclasses import dataclass

from app.core.errors import FieldError
from app.core.i18n import messages

messages({
    "caption_not_utf8": ("Tệp phụ đề phải được lưu bằng UTF-8.", "The caption file must be saved as UTF-8."),
    "caption_too_large": ("Tệp phụ đề lớn hơn {limit} byte.", "The caption file is larger than {limit} bytes."),
    "caption_header": ("Tệp phụ đề WebVTT phải bắt đầu bằng dòng “WEBVTT”.",
                       "A WebVTT caption file must start with the line “WEBVTT”."),
    "caption_header_end": ("Cần một dòng trống sau phần đầu “WEBVTT”.",
                           "A blank line must follow the “WEBVTT” header."),
    "caption_timing": ("Dòng thời gian không hợp lệ: “{text}” (dạng 00:01.000 --> 00:04.000).",
                       "Invalid timing line: “{text}” (expected like 00:01.000 --> 00:04.000)."),
    "caption_no_timing": ("Khối phụ đề không có dòng thời gian (“-->”).",
                          "The caption block has no timing line (“-->”)."),
    "caption_end_before_start": ("Thời điểm kết thúc phải sau thời điểm bắt đầu.",
                                 "The end time must come after the start time."),
    "caption_order": ("Câu phụ đề bắt đầu trước câu liền trước; hãy xếp theo thời gian bắt đầu.",
                      "This cue starts before the one above it; order cues by start time."),
    "caption_outside_video": ("Câu phụ đề kết thúc lúc {end} s, sau khi video kết thúc ({duration} s).",
                              "The cue ends at {end} s, after the video ends ({duration} s)."),
    "caption_arrow_in_text": ("Nội dung phụ đề không được chứa “-->”.", "Caption text must not contain “-->”."),
    "caption_no_cues": ("Tệp phụ đề không có câu phụ đề nào.", "The caption file holds no cues."),
})

MAX_BYTES = 1024 * 1024
MAX_ERRORS = 20  # a broken file says enough in its first twenty problems
END_TOLERANCE_S = 0.5  # durations are read to the millisecond, captions are often rounded up
_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t].*)?$")
_LINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Cue:
    line: int
    start_s: float
    end_s: float


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _blocks(lines: list[str], first: int) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines (with their 1-based numbers), from line index `first`."""
    blocks, current = [], []
    for index in range(first, len(lines)):
        if lines[index].strip():
            current.append((index + 1, lines[index]))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def check_webvtt(data: bytes, file: str, duration_s: float | None) -> tuple[list[Cue], list[FieldError]]:
    """Every cue of a WebVTT file, and every problem with its line (at most MAX_ERRORS)."""
    if len(data) > MAX_BYTES:
        return [], [FieldError("caption_too_large", file=file, limit=MAX_BYTES)]
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return [], [FieldError("caption_not_utf8", file=file)]
    lines = _LINES.split(text)
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        return [], [FieldError("caption_header", file=file, line=1)]
    errors: list[FieldError] = []
    header_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    for index in range(1, header_end):
        if "-->" in lines[index]:
            errors.append(FieldError("caption_header_end", file=file, line=index + 1))
            break
    cues: list[Cue] = []
    for block in _blocks(lines, header_end):
        number, head = block[0]
        if re.match(r"^(NOTE|STYLE|REGION)(?:[ \t]|$)", head):
            continue
        timing = block[0] if "-->" in head else block[1] if len(block) > 1 and "-->" in block[1][1] else None
        if timing is None:
            errors.append(FieldError("caption_no_timing", file=file, line=number))
            continue
        number, line = timing
        match = _TIMING.match(line.strip())
        if match is None:
            errors.append(FieldError("caption_timing", file=file, line=number, text=line.strip()[:80]))
            continue
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        if end <= start:
            errors.append(FieldError("caption_end_before_start", file=file, line=number))
        elif cues and start < cues[-1].start_s:
            errors.append(FieldError("caption_order", file=file, line=number))
        elif duration_s is not None and end > duration_s + END_TOLERANCE_S:
            errors.append(FieldError("caption_outside_video", file=file, line=number, end=f"{end:.3f}",
                                     duration=f"{duration_s:.3f}"))
        else:
            cues.append(Cue(number, start, end))
        errors += [FieldError("caption_arrow_in_text", file=file, line=n) for n, text_line in block
                   if n > number and "-->" in text_line]
        if len(errors) >= MAX_ERRORS:
            break
    if not cues and not errors:
        errors.append(FieldError("caption_no_cues", file=file))
    return cues, errors[:MAX_ERRORS]
