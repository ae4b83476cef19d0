"""Run printd's native stack under the seccomp rule of MemoryDenyWriteExecute=yes.

systemd implements MemoryDenyWriteExecute= as a seccomp filter: mmap() asking for
PROT_WRITE|PROT_EXEC together, and mprotect()/pkey_mprotect() adding PROT_EXEC, fail with
EPERM. This script installs the same filter on itself (x86-64 only), proves it bites, then
loads and exercises what the daemon loads: printd's raster and panel codec (Pillow's point
tables, ImageChops, raw packers and unpackers, matrix conversion: the daemon no longer loads
numpy), Pillow's dithering, pyusb on libusb through ctypes (including a ctypes callback, i.e. a
libffi closure), sqlite3, asyncio, aiohttp, pysnmp. It prints one "ok NAME" line per step and
exits non-zero on the first failure.
"""

# The libraries are imported after the filter is in place, on purpose.

from __future__ import annotations

import ctypes
import mmap
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
NR_MMAP, NR_MPROTECT, NR_PKEY_MPROTECT = 9, 10, 329
PROT_WRITE, PROT_EXEC = 0x2, 0x4
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
RET_ALLOW, RET_EPERM = 0x7FFF0000, 0x00050000 | 1
LD_ABS_W, JEQ_K, AND_K, RET_K = 0x20, 0x15, 0x54, 0x06
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG2 = 0, 4, 32  # struct seccomp_data, little-endian

# (code, jump-if-true, jump-if-false, k); jumps count instructions after the next one.
PROGRAM = [
    (LD_ABS_W, 0, 0, OFFSET_ARCH),
    (JEQ_K, 0, 10, AUDIT_ARCH_X86_64),  # another ABI: not this rule's business
    (LD_ABS_W, 0, 0, OFFSET_NR),
    (JEQ_K, 2, 0, NR_MMAP),  # -> 6
    (JEQ_K, 4, 0, NR_MPROTECT),  # -> 9
    (JEQ_K, 3, 6, NR_PKEY_MPROTECT),  # -> 9, else allow
    (LD_ABS_W, 0, 0, OFFSET_ARG2),  # 6: mmap prot
    (AND_K, 0, 0, PROT_WRITE | PROT_EXEC),
    (JEQ_K, 4, 3, PROT_WRITE | PROT_EXEC),  # both -> deny
    (LD_ABS_W, 0, 0, OFFSET_ARG2),  # 9: mprotect prot
    (AND_K, 0, 0, PROT_EXEC),
    (JEQ_K, 1, 0, PROT_EXEC),  # adds exec -> deny
    (RET_K, 0, 0, RET_ALLOW),  # 12
    (RET_K, 0, 0, RET_EPERM),  # 13
]


def install_filter() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    code = b"".join(struct.pack("HBBI", *insn) for insn in PROGRAM)
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = struct.pack("HxxxxxxP", len(PROGRAM), ctypes.addressof(buffer))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_char_p(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")


def step(name: str) -> None:
    print("ok", name, flush=True)


def main() -> None:
    install_filter()
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except PermissionError:
        step("filter-active")
    else:
        sys.exit("a writable+executable mapping was allowed: the filter is not active")

    from PIL import Image, ImageOps

    from printd.drivers import raster
    from printd.drivers.evolis import codec

    photo = Image.effect_noise((1016, 648), 80).convert("RGB")
    panels = raster.colour_panels(photo)
    assert len(codec.pack_colour_panel(panels.y)) == codec.panel_bytes(32)
    assert codec.compress_mono_panel(panels.k)
    assert codec.compress_mono_panel(raster.mono_panel(photo, "dither"))
    step("raster")

    card = Image.new("RGB", (1016, 648), (200, 120, 40))
    mono = ImageOps.grayscale(card).convert("1")  # Floyd-Steinberg dither, as for a K panel
    assert mono.size == (1016, 648)
    step("pillow")

    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

    def compare(left: int, right: int) -> int:
        x = ctypes.cast(left, ctypes.POINTER(ctypes.c_int)).contents.value
        y = ctypes.cast(right, ctypes.POINTER(ctypes.c_int)).contents.value
        return (x > y) - (x < y)

    values = (ctypes.c_int * 5)(5, 1, 4, 2, 3)
    libc = ctypes.CDLL(None)
    libc.qsort(values, 5, ctypes.sizeof(ctypes.c_int), callback_type(compare))
    assert list(values) == [1, 2, 3, 4, 5]
    step("ctypes-callback")

    import usb.backend.libusb1
    import usb.core

    backend = usb.backend.libusb1.get_backend()
    if backend is None:
        sys.exit("libusb-1.0 did not load (apt-get install libusb-1.0-0)")
    list(usb.core.find(find_all=True, backend=backend))
    step("pyusb-libusb1")

    import asyncio
    import sqlite3

    import aiohttp  # noqa: F401
    import pysnmp.hlapi.v3arch.asyncio  # noqa: F401

    with sqlite3.connect(":memory:") as db:
        db.execute("create table t (x)")
    asyncio.run(asyncio.sleep(0))
    step("stdlib-and-network")


if __name__ == "__main__":
    main()
