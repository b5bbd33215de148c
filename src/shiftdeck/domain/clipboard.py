"""Copying to the clipboard of the terminal the engineer sits at: OSC 52.

The sequence travels as ordinary output, so it works over SSH. Inside tmux it is wrapped in a
DCS passthrough (tmux needs ``set -g allow-passthrough on``, or ``set -g set-clipboard on``
for tmux to forward OSC 52 itself). Terminals cap its size (xterm ~100 kB, some 74 kB of
base64): a handoff report fits; callers may want to say so when a text is much larger.
"""

from __future__ import annotations

import base64


def osc52_copy(text: str, in_tmux: bool) -> str:
    """``ESC ] 52 ; c ; <base64 of the UTF-8 text> BEL``, DCS-wrapped for tmux.

    The payload is base64, so no text can end or alter the sequence.
    """
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if in_tmux:
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence
