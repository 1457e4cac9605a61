"""Sign a raw body the way GitHub does, with githubkit: prints the X-Hub-Signature-256 value.

python sign.py SECRET < body.json        ->  sha256=<64 hex digits>
"""

from __future__ import annotations

import sys

from githubkit.webhooks import sign

if __name__ == "__main__":
    print(sign(sys.argv[1], sys.stdin.buffer.read(), method="sha256"))
