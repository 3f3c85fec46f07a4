"""Build the sample course package `ky-nang-so-co-ban.zip` from `examples/ky-nang-so-co-ban/`.

Run from the repository root:  .venv/bin/python examples/make_sample_package.py

No ffmpeg needed: the video is written by hand. It is a real H.264 (Constrained Baseline) stream in an MP4
container — each second starts with an IDR picture made of I_PCM macroblocks (raw samples, no transform
coding) followed by P pictures that skip every macroblock — so browsers play it and mutagen reads its
duration. `write_mp4` is also used by the test suite to build a 200 MB video of the same kind.
"""

import struct
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "ky-nang-so-co-ban"
ZIP = HERE / "ky-nang-so-co-ban.zip"
WIDTH, HEIGHT, FPS = 96, 64, 10
MBS_WIDE, MBS_HIGH = WIDTH // 16, HEIGHT // 16


class Bits:
    """An RBSP bit writer with the Exp-Golomb codes of H.264 (ue/se)."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, count: int, value: int) -> None:
        self.bits.extend((value >> i) & 1 for i in range(count - 1, -1, -1))

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(code.bit_length() * 2 - 1, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align(self) -> None:
        while len(self.bits) % 8:
            self.bits.append(0)

    def trailing(self) -> bytes:
        self.bits.append(1)
        self.align()
        return bytes(int("".join(map(str, self.bits[i:i + 8])), 2) for i in range(0, len(self.bits), 8))


def nal(ref_idc: int, kind: int, rbsp: bytes) -> bytes:
    """A NAL unit with emulation prevention (no 00 00 0x inside the payload)."""
    out, zeros = bytearray([(ref_idc << 5) | kind]), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def sps() -> bytes:
    b = Bits()
    b.u(8, 66)      # profile_idc: Baseline
    b.u(8, 0xC0)    # constraint_set0 and set1: Constrained Baseline
    b.u(8, 10)      # level 1.0
    b.ue(0)         # seq_parameter_set_id
    b.ue(0)         # log2_max_frame_num_minus4
    b.ue(2)         # pic_order_cnt_type 2: output order is decoding order
    b.ue(1)         # max_num_ref_frames
    b.u(1, 0)       # gaps_in_frame_num_value_allowed_flag
    b.ue(MBS_WIDE - 1)
    b.ue(MBS_HIGH - 1)
    b.u(1, 1)       # frame_mbs_only_flag
    b.u(1, 1)       # direct_8x8_inference_flag
    b.u(1, 0)       # frame_cropping_flag
    b.u(1, 0)       # vui_parameters_present_flag
    return nal(3, 7, b.trailing())


def pps() -> bytes:
    b = Bits()
    b.ue(0)
    b.ue(0)
    b.u(1, 0)       # CAVLC
    b.u(1, 0)       # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)         # num_slice_groups_minus1
    b.ue(0)
    b.ue(0)         # num_ref_idx_l0/l1_default_active_minus1
    b.u(1, 0)
    b.u(2, 0)       # no weighted prediction
    b.se(0)
    b.se(0)
    b.se(0)         # pic_init_qp/qs_minus26, chroma_qp_index_offset
    b.u(1, 1)       # deblocking_filter_control_present_flag
    b.u(1, 0)       # constrained_intra_pred_flag
    b.u(1, 0)       # redundant_pic_cnt_present_flag
    return nal(3, 8, b.trailing())


def idr_picture(idr_id: int, colour: tuple[int, int, int]) -> bytes:
    """One IDR slice of I_PCM macroblocks: a horizontal brightness ramp tinted by `colour` (Y, Cb, Cr)."""
    y, cb, cr = colour
    b = Bits()
    b.ue(0)         # first_mb_in_slice
    b.ue(7)         # slice_type: I (all slices of the picture)
    b.ue(0)         # pic_parameter_set_id
    b.u(4, 0)       # frame_num
    b.ue(idr_id)    # idr_pic_id: differs between consecutive IDR pictures
    b.u(1, 0)
    b.u(1, 0)       # dec_ref_pic_marking: no_output_of_prior_pics, long_term_reference
    b.se(0)         # slice_qp_delta
    b.ue(1)         # disable_deblocking_filter_idc
    for mb in range(MBS_WIDE * MBS_HIGH):
        b.ue(25)    # mb_type I_PCM
        b.align()
        x0 = (mb % MBS_WIDE) * 16
        for row in range(16):
            for col in range(16):
                b.u(8, max(16, min(235, y + (x0 + col) - WIDTH // 2 + row // 4)))
        for value in (cb, cr):
            for _ in range(64):
                b.u(8, value)
    return nal(3, 5, b.trailing())


def skipped_picture(frame_num: int) -> bytes:
    """A P slice whose every macroblock is skipped: the previous picture shown again (a few bytes)."""
    b = Bits()
    b.ue(0)
    b.ue(5)         # slice_type: P (all slices)
    b.ue(0)
    b.u(4, frame_num % 16)
    b.u(1, 0)       # num_ref_idx_active_override_flag
    b.u(1, 0)       # ref_pic_list_modification_flag_l0
    b.u(1, 0)       # adaptive_ref_pic_marking_mode_flag
    b.se(0)
    b.ue(1)
    b.ue(MBS_WIDE * MBS_HIGH)  # mb_skip_run: the whole picture
    return nal(2, 1, b.trailing())


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def moov(sizes: list[int], sync: list[int], mdat_offset: int, sps_nal: bytes, pps_nal: bytes) -> bytes:
    count, duration_ms = len(sizes), len(sizes) * 1000 // FPS
    avcc = box(b"avcC", bytes([1, sps_nal[1], sps_nal[2], sps_nal[3], 0xFF, 0xE1]),
               struct.pack(">H", len(sps_nal)), sps_nal, b"\x01", struct.pack(">H", len(pps_nal)), pps_nal)
    avc1 = box(b"avc1", b"\0" * 6, struct.pack(">H", 1), b"\0" * 16, struct.pack(">HH", WIDTH, HEIGHT),
               struct.pack(">II", 0x480000, 0x480000), b"\0" * 4, struct.pack(">H", 1), b"\0" * 32,
               struct.pack(">Hh", 0x18, -1), avcc)
    stbl = box(b"stbl",
               full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
               full_box(b"stts", 0, 0, struct.pack(">III", 1, count, 1)),
               full_box(b"stss", 0, 0, struct.pack(">I", len(sync)), *(struct.pack(">I", s) for s in sync)),
               full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, count, 1)),
               full_box(b"stsz", 0, 0, struct.pack(">II", 0, count), *(struct.pack(">I", s) for s in sizes)),
               full_box(b"stco", 0, 0, struct.pack(">II", 1, mdat_offset)))
    minf = box(b"minf", full_box(b"vmhd", 0, 1, b"\0" * 8),
               box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1))), stbl)
    mdia = box(b"mdia", full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, FPS, count, 0x55C4, 0)),
               full_box(b"hdlr", 0, 0, b"\0" * 4, b"vide", b"\0" * 12, b"VideoHandler\0"), minf)
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, duration_ms), b"\0" * 8,
                    struct.pack(">hhhH", 0, 0, 0, 0), MATRIX, struct.pack(">II", WIDTH << 16, HEIGHT << 16))
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, duration_ms), struct.pack(">IH", 0x10000,
                    0x100), b"\0" * 10, MATRIX, b"\0" * 24, struct.pack(">I", 2))
    return box(b"moov", mvhd, box(b"trak", tkhd, mdia))


def _avcc_sample(*nals: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(n)) + n for n in nals)


def sample_frames(seconds: int) -> Iterator[tuple[bytes, bool]]:
    """(sample, is_sync) for `seconds` of video: an IDR picture each second, skipped pictures between."""
    colours = [(110, 150, 110), (120, 110, 160), (120, 160, 150), (130, 100, 120)]
    for second in range(seconds):
        yield _avcc_sample(idr_picture(second % 65536, colours[second % len(colours)])), True
        for frame in range(1, FPS):
            yield _avcc_sample(skipped_picture(frame)), False


def write_mp4(path: Path, frames: Iterator[tuple[bytes, bool]] | list[tuple[bytes, bool]]) -> float:
    """Write a fast-start MP4 (moov before mdat) streaming the samples; returns the duration in seconds."""
    frames = list(frames) if not isinstance(frames, list) else frames
    sizes = [len(sample) for sample, _ in frames]
    sync = [n for n, (_, is_sync) in enumerate(frames, 1) if is_sync]
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
    sps_nal, pps_nal = sps(), pps()
    head = moov(sizes, sync, 0, sps_nal, pps_nal)
    offset = len(ftyp) + len(head) + 8
    head = moov(sizes, sync, offset, sps_nal, pps_nal)
    with path.open("wb") as out:
        out.write(ftyp)
        out.write(head)
        out.write(struct.pack(">I", 8 + sum(sizes)) + b"mdat")
        for sample, _ in frames:
            out.write(sample)
    return len(frames) / FPS


def write_pdf(path: Path) -> None:
    from fpdf import FPDF

    font = next((p for p in (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                             HERE.parent / "app/data/fonts/DejaVuSans.ttf") if p.exists()), None)
    if font is None:
        sys.exit("DejaVuSans.ttf not found (apt-get install fonts-dejavu-core)")
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))  # reproducible bytes
    pdf.add_font("DejaVu", fname=str(font))
    pdf.add_page()
    pdf.set_font("DejaVu", size=16)
    pdf.multi_cell(0, 9, "Sổ tay kỹ năng số cơ bản", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=11)
    for line in ("1. Đặt mật khẩu dài, có chữ hoa, chữ thường, số và ký hiệu.",
                 "2. Không chia sẻ mã OTP với bất kỳ ai, kể cả người xưng là cán bộ.",
                 "3. Kiểm tra kỹ đường link trước khi bấm; cơ quan nhà nước dùng tên miền .gov.vn.",
                 "4. Dùng ứng dụng VNeID để định danh điện tử và làm thủ tục trực tuyến."):
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def build_zip(source: Path, target: Path) -> None:
    """Zip `source` with fixed timestamps, so rebuilding an unchanged package gives the same bytes."""
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(file.relative_to(source).as_posix(), date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            stored = file.suffix in (".mp4", ".pdf")  # already compressed
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())


def main() -> None:
    (PACKAGE / "media").mkdir(parents=True, exist_ok=True)
    (PACKAGE / "docs").mkdir(parents=True, exist_ok=True)
    seconds = write_mp4(PACKAGE / "media/gioi-thieu.mp4", sample_frames(4))
    write_pdf(PACKAGE / "docs/so-tay-ky-nang-so.pdf")
    build_zip(PACKAGE, ZIP)
    print(f"video {seconds:.1f} s, {(PACKAGE / 'media/gioi-thieu.mp4').stat().st_size} bytes; "
          f"{ZIP.relative_to(HERE.parent)} {ZIP.stat().st_size} bytes")


if __name__ == "__main__":
    main()
