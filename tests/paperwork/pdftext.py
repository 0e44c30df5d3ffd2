"""Text of a WeasyPrint PDF, read from the bytes alone (no PDF library is installed).

WeasyPrint writes fonts as Type0/Identity-H with a ``/ToUnicode`` CMap and packs objects into
Flate-compressed object streams. This reader handles exactly that: it unpacks object streams,
maps each page's font names to their ToUnicode CMaps and decodes the hex strings of ``Tj``/``TJ``.
Enough to check that a rendered form carries its labels and values; not a general PDF parser.
"""

from __future__ import annotations

import re
import zlib

OBJ = re.compile(rb"(\d+)\s+0\s+obj\s*(.*?)\s*endobj", re.S)
STREAM = re.compile(rb"^(.*?)stream\r?\n(.*)\r?\nendstream\s*$", re.S)
REF = rb"(\d+)\s+0\s+R"


def _stream(body: bytes) -> tuple[bytes, bytes]:
    """(dictionary, decoded data) of a stream object; data is ``b""`` for a plain object."""
    match = STREAM.match(body)
    if not match:
        return body, b""
    head, data = match.group(1), match.group(2)
    length = re.search(rb"/Length\s+(\d+)", head)
    if length:
        data = data[: int(length.group(1))]
    if b"/FlateDecode" in head:
        data = zlib.decompress(data)
    return head, data


def objects(pdf: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number → (dictionary text, decoded stream), object streams unpacked."""
    out: dict[int, tuple[bytes, bytes]] = {}
    for match in OBJ.finditer(pdf):
        out[int(match.group(1))] = _stream(match.group(2))
    for head, data in list(out.values()):
        if b"/Type /ObjStm" not in head and b"/Type/ObjStm" not in head:
            continue
        count = int(re.search(rb"/N\s+(\d+)", head).group(1))  # type: ignore[union-attr]
        first = int(re.search(rb"/First\s+(\d+)", head).group(1))  # type: ignore[union-attr]
        numbers = [int(n) for n in data[:first].split()]
        pairs = list(zip(numbers[0::2], numbers[1::2], strict=True))[:count]
        for i, (num, offset) in enumerate(pairs):
            end = first + pairs[i + 1][1] if i + 1 < len(pairs) else len(data)
            out[num] = (data[first + offset: end].strip(), b"")
    return out


def _cmap(data: bytes) -> dict[int, str]:
    """Glyph id → text from a ToUnicode CMap (bfchar and bfrange)."""
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(dst, 16)
            for n, gid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[gid] = chr(start + n)
    return mapping


def _ref_dict(objs: dict[int, tuple[bytes, bytes]], text: bytes, key: bytes) -> bytes:
    """The dictionary under ``key`` in ``text``, following one indirect reference."""
    direct = re.search(key + rb"\s*<<(.*?)>>", text, re.S)
    if direct:
        return direct.group(1)
    ref = re.search(key + rb"\s*" + REF, text)
    return objs[int(ref.group(1))][0] if ref else b""


def _page_dicts(objs: dict[int, tuple[bytes, bytes]]) -> list[bytes]:
    """Page dictionaries in reading order (the page tree's ``/Kids``, depth first)."""
    root = next(h for h, _d in objs.values() if re.search(rb"/Type\s*/Pages", h) and b"/Parent" not in h)
    out: list[bytes] = []

    def walk(node: bytes) -> None:
        kids = re.search(rb"/Kids\s*\[(.*?)\]", node, re.S)
        for num in re.findall(REF, kids.group(1)) if kids else []:
            kid = objs[int(num)][0]
            if re.search(rb"/Type\s*/Pages", kid):
                walk(kid)
            else:
                out.append(kid)

    walk(root)
    return out


def pages_text(pdf: bytes) -> list[str]:
    """The text of each page, in content-stream order (one line per ``TJ``/``Tj``)."""
    objs = objects(pdf)
    pages: list[str] = []
    for head in _page_dicts(objs):
        resources = _ref_dict(objs, head, rb"/Resources")
        fonts_text = _ref_dict(objs, resources, rb"/Font")
        cmaps: dict[bytes, dict[int, str]] = {}
        for name, num in re.findall(rb"/([A-Za-z0-9+_-]+)\s+" + REF, fonts_text):
            to_unicode = re.search(rb"/ToUnicode\s+" + REF, objs[int(num)][0])
            if to_unicode:
                cmaps[name] = _cmap(objs[int(to_unicode.group(1))][1])
        contents = [int(n) for n in re.findall(rb"/Contents\s*\[?\s*((?:\d+\s+0\s+R\s*)+)", head)[0].split()[0::3]]
        lines: list[str] = []
        for num in contents:
            font: dict[int, str] = {}
            for token in re.finditer(rb"/([A-Za-z0-9+_-]+)\s+[\d.]+\s+Tf|\[(.*?)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj", objs[num][1], re.S):
                if token.group(1):
                    font = cmaps.get(token.group(1), {})
                    continue
                hexes = re.findall(rb"<([0-9a-fA-F]*)>", token.group(2)) if token.group(2) is not None else [token.group(3)]
                text = "".join(font.get(int(h[i:i + 4], 16), "") for h in hexes for i in range(0, len(h), 4))
                lines.append(text)
        pages.append("\n".join(lines))
    return pages


def pdf_text(pdf: bytes) -> str:
    """All pages' text, one line per text run."""
    return "\n".join(pages_text(pdf))
