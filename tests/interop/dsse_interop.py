"""DSSE interoperability with an implementation we did not write (securesystemslib).

    python dsse_interop.py verify ENVELOPE.json PUBLIC_KEY_B64
        exit 0 when securesystemslib verifies the envelope with the key, 1 otherwise
    python dsse_interop.py sign PAYLOAD_FILE PAYLOAD_TYPE SEED_HEX
        print an envelope over the payload, signed by securesystemslib with the ed25519 seed
"""

import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey


def key_for(public_raw: bytes) -> SSlibKey:
    keyid = hashlib.sha256(public_raw).hexdigest()
    return SSlibKey(keyid, "ed25519", "ed25519", {"public": public_raw.hex()})


def verify(envelope_path: str, public_b64: str) -> int:
    with open(envelope_path, "rb") as f:
        envelope = Envelope.from_dict(json.load(f))
    key = key_for(base64.b64decode(public_b64))
    try:
        envelope.verify([key], 1)
    except Exception as e:  # securesystemslib raises VerificationError
        print(f"rejected: {e}")
        return 1
    print("verified")
    return 0


def sign(payload_path: str, payload_type: str, seed_hex: str) -> int:
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signer = CryptoSigner(private, key_for(public_raw))
    with open(payload_path, "rb") as f:
        envelope = Envelope(payload=f.read(), payload_type=payload_type, signatures={})
    envelope.sign(signer)
    print(json.dumps(envelope.to_dict()))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3]))
    if sys.argv[1] == "sign":
        sys.exit(sign(sys.argv[2], sys.argv[3], sys.argv[4]))
    sys.exit(f"unknown mode {sys.argv[1]}")
