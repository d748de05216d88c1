"""Ogg Opus files from Opus packets as they came (RFC 3533 pages, RFC 7845 encapsulation), without decoding.

A small writer of our own rather than PyAV or libogg: the recorder (server/events/recording.py) only ever appends
already-encoded packets of one mono stream to a file as they arrive, which is a page header, a lacing table and
the Ogg CRC; FFmpeg through PyAV would add a native dependency of ~60 MB to the server for that, and its muxer
wants timestamps it then rewrites. Reading files back (tests, tools) is `read_pages`.

Invariants of what `OggOpusWriter` writes:
- page 0 holds OpusHead alone (beginning of stream), page 1 OpusTags alone, both with granule position 0;
- every audio page's granule position is `pre_skip` + the samples (48 kHz) of every packet finished on it or
  before (RFC 7845 §4), packets never span pages (an Opus packet here is at most 400 bytes), and the last page
  carries the end-of-stream flag;
- page sequence numbers run 0, 1, 2 … under one serial number, and every page's CRC is the Ogg CRC-32.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

SAMPLE_RATE = 48000
PRE_SKIP = 312  # libopus's look-ahead at 48 kHz, what browsers' encoders (libopus) put in their own OpusHead
SILENCE = b"\xf8\xff\xfe"  # one 20 ms CELT frame of digital silence (TOC 0xF8: fullband, 20 ms, mono, 1 frame)
MAX_SEGMENTS = 255
PAGE_BYTES = 4096  # a page is closed once its packets reach this size (or 255 lacing values)
BOS, EOS, CONTINUED = 0x02, 0x04, 0x01
_HEADER = struct.Struct("<4sBBqIIIB")


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg CRC-32 (polynomial 0x04C11DB7, not reflected, initial value and final XOR 0)."""
    crc = 0
    table = _TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


_FRAME_SAMPLES = ([480, 960, 1920, 2880] * 3  # SILK-only NB, MB, WB: 10, 20, 40, 60 ms
                  + [480, 960] * 2  # hybrid SWB, FB: 10, 20 ms
                  + [120, 240, 480, 960] * 4)  # CELT-only NB, WB, SWB, FB: 2.5, 5, 10, 20 ms


def packet_samples(packet: bytes) -> int:
    """The duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 §3.1); 0 if malformed."""
    if not packet:
        return 0
    toc = packet[0]
    per_frame = _FRAME_SAMPLES[toc >> 3]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    elif len(packet) < 2:
        return 0
    else:
        frames = packet[1] & 0x3F
    samples = per_frame * frames
    return samples if 0 < samples <= 5760 else 0  # at most 120 ms a packet


def opus_head(pre_skip: int = PRE_SKIP, channels: int = 1) -> bytes:
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, SAMPLE_RATE, 0, 0)


def opus_tags(vendor: str, comments: list[str]) -> bytes:
    out = [b"OpusTags", struct.pack("<I", len(vendor.encode())), vendor.encode(), struct.pack("<I", len(comments))]
    for comment in comments:
        encoded = comment.encode()
        out += [struct.pack("<I", len(encoded)), encoded]
    return b"".join(out)


def page(packets: list[bytes], granule: int, serial: int, sequence: int, flags: int) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes((len(packet) % 255,))
    if len(lacing) > MAX_SEGMENTS:
        raise ValueError("too many segments for one page")
    header = _HEADER.pack(b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing)) + bytes(lacing)
    body = b"".join(packets)
    crc = ogg_crc(header + body)
    return header[:22] + struct.pack("<I", crc) + header[26:] + body


class OggOpusWriter:
    """Appends Opus packets (mono, 48 kHz) to an open binary file, a page at a time (see the invariants)."""

    def __init__(self, out: BinaryIO, serial: int, comments: list[str], pre_skip: int = PRE_SKIP) -> None:
        self.out, self.serial, self.pre_skip = out, serial, pre_skip
        self.sequence = 0
        self.samples = 0  # of every packet given so far
        self.packets = 0
        self.bytes = 0  # written to the file
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._segments = 0
        self._write([opus_head(pre_skip)], 0, BOS)
        self._write([opus_tags("Civic Space (Opus packets as the speakers' browsers encoded them)", comments)], 0, 0)

    def _write(self, packets: list[bytes], granule: int, flags: int) -> None:
        data = page(packets, granule, self.serial, self.sequence, flags)
        self.sequence += 1
        self.bytes += len(data)
        self.out.write(data)

    def add(self, packet: bytes, samples: int) -> None:
        """One packet of `samples` 48 kHz samples (a page is written when full)."""
        segments = len(packet) // 255 + 1
        if self._segments + segments > MAX_SEGMENTS:
            self.flush()
        self._pending.append(packet)
        self._pending_bytes += len(packet)
        self._segments += segments
        self.samples += samples
        self.packets += 1
        if self._pending_bytes >= PAGE_BYTES:
            self.flush()

    def flush(self, last: bool = False) -> None:
        """Write the packets given since the last page as one page (the last one: end of stream)."""
        if not self._pending and not last:
            return
        if not self._pending:  # the end-of-stream page must finish a packet: a frame of silence
            self.add(SILENCE, packet_samples(SILENCE))
        self._write(self._pending, self.pre_skip + self.samples, EOS if last else 0)
        self._pending, self._pending_bytes, self._segments = [], 0, 0

    def close(self) -> None:
        self.flush(last=True)
        self.out.flush()


@dataclass
class Page:
    flags: int
    granule: int
    serial: int
    sequence: int
    crc_ok: bool
    packets: list[bytes]
    continued_last: bool  # its last packet goes on in the next page


def read_pages(data: bytes) -> Iterator[Page]:
    """The pages of an Ogg file (ValueError where it is not one), each with its packets and whether its CRC holds."""
    at = 0
    while at < len(data):
        if data[at:at + 4] != b"OggS" or len(data) < at + 27:
            raise ValueError(f"no Ogg page at byte {at}")
        _, version, flags, granule, serial, sequence, crc, count = _HEADER.unpack_from(data, at)
        lacing = data[at + 27:at + 27 + count]
        size = 27 + count + sum(lacing)
        raw = data[at:at + size]
        if len(raw) < size or version != 0:
            raise ValueError(f"a truncated or unknown page at byte {at}")
        zeroed = raw[:22] + b"\0\0\0\0" + raw[26:]
        packets, current, start = [], 0, 27 + count
        for value in lacing:
            current += value
            if value < 255:
                packets.append(raw[start:start + current])
                start += current
                current = 0
        tail = current > 0 or (count > 0 and lacing[-1] == 255)
        if tail:
            packets.append(raw[start:start + current])
        yield Page(flags, granule, serial, sequence, ogg_crc(zeroed) == crc, packets, tail)
        at += size
