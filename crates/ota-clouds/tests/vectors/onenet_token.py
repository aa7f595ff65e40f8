#!/usr/bin/env python3
"""Independent OneNET token implementation, for the test vectors in src/onenet/token.rs.

Rerun with `python3 crates/ota-clouds/tests/vectors/onenet_token.py` and paste its output over the
constants in `onenet::token::tests` (VECTORS). Uses only the standard library (hmac, hashlib, base64,
urllib.parse), following the shared README: string to sign = et\nmethod\nres\nversion,
sign = base64(HMAC_method(base64_decode(access_key), string)), res and sign URL-encoded with quote(v, safe='').
"""
import base64
import hashlib
import hmac
from urllib.parse import quote

VERSION = "2018-10-31"
# A made-up access key (base64 of 32 fixed bytes); no real product uses it.
ACCESS_KEY = base64.b64encode(bytes(range(7, 39))).decode()
ET = 1893456000  # 2030-01-01T00:00:00Z

CASES = [
    ("products/245528", "md5"),
    ("products/245528", "sha1"),
    ("products/245528", "sha256"),
    ("products/245528/devices/pump-01", "sha256"),
]


def token(res: str, et: int, method: str, key: str) -> str:
    string_to_sign = f"{et}\n{method}\n{res}\n{VERSION}"
    digest = hmac.new(base64.b64decode(key), string_to_sign.encode(), getattr(hashlib, method)).digest()
    sign = base64.b64encode(digest).decode()
    return f"version={VERSION}&res={quote(res, safe='')}&et={et}&method={method}&sign={quote(sign, safe='')}"


if __name__ == "__main__":
    print(f'const ACCESS_KEY: &str = "{ACCESS_KEY}";')
    print(f"const ET: u64 = {ET};")
    print("const VECTORS: &[(&str, &str, &str)] = &[")
    for res, method in CASES:
        print(f'    ("{res}", "{method}", "{token(res, ET, method, ACCESS_KEY)}"),')
    print("];")
