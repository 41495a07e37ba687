"""Pinning a report on IPFS through a Pinata-compatible API, and reading it back through a
gateway, as Othentic's simple-price-oracle does: the CID Pinata answers is the proofOfTask.
Shared word for word by both services (the execution service pins, the validation service reads).

    PINATA_API_URL  base URL of the pinning API (default https://api.pinata.cloud)
    PINATA_GATEWAY  a gateway URL ending in /ipfs/ (default https://gateway.pinata.cloud/ipfs/)
    PINATA_JWT      optional; sent as "Authorization: Bearer <jwt>" when set
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any, Mapping

from httputil import env_value

DEFAULT_PINATA_API_URL = "https://api.pinata.cloud"
DEFAULT_PINATA_GATEWAY = "https://gateway.pinata.cloud/ipfs/"
# CIDv0 (base58btc sha2-256, "Qm...") or CIDv1 in base32 ("b..."), the forms Pinata answers.
CID_PATTERN = re.compile(r"Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{58,120}")
# A report is under 200 bytes; anything far larger is not one, and is not read whole.
MAX_CONTENT_BYTES = 64 * 1024
TIMEOUT_SECONDS = 15.0
# Gateway answers that say nothing about the content: 408 (it timed out) and 429 (rate limited)
# are 4xx, but mean "ask again later", like a 5xx.
UNDECIDED_4XX = (408, 429)


def looks_like_cid(value: Any) -> bool:
    return isinstance(value, str) and CID_PATTERN.fullmatch(value) is not None


def _headers(env: Mapping[str, str]) -> dict[str, str]:
    jwt = env_value(env, "PINATA_JWT")
    return {"Authorization": f"Bearer {jwt}"} if jwt else {}


def pin_json(env: Mapping[str, str], content: Any, name: str) -> str:
    """Pins `content` with pinJSONToIPFS and returns its CID; raises RuntimeError when the API is
    unreachable or answers anything but a CID."""
    url = (env_value(env, "PINATA_API_URL") or DEFAULT_PINATA_API_URL).rstrip("/") + "/pinning/pinJSONToIPFS"
    body = json.dumps({"pinataContent": content, "pinataMetadata": {"name": name}}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json", **_headers(env)})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", errors="replace").strip()
        hint = " (is PINATA_JWT set and valid?)" if error.code in (401, 403) else ""
        raise RuntimeError(f"pinning API {url} answered HTTP {error.code}{hint}{': ' + detail if detail else ''}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise RuntimeError(f"pinning API {url} unreachable or answered garbage: {error}") from None
    cid = answer.get("IpfsHash") if isinstance(answer, dict) else None
    if not looks_like_cid(cid):
        raise RuntimeError(f"pinning API {url} answered no CID in IpfsHash: {answer!r}"[:500])
    return cid


def fetch_content(env: Mapping[str, str], cid: str) -> bytes | None:
    """The bytes the gateway serves for `cid`, or None when it answers a 4xx other than 408 and
    429 (no such content, or none it will serve: a verdict). Raises RuntimeError when the gateway
    is unreachable or answers 5xx, 408 (timed out) or 429 (rate limited): that says nothing about
    the task, so the caller must not vote on it."""
    gateway = env_value(env, "PINATA_GATEWAY") or DEFAULT_PINATA_GATEWAY
    url = (gateway if gateway.endswith("/") else gateway + "/") + cid
    # No PINATA_JWT here: it is a pinning credential, and the gateway may be anyone's.
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            content = response.read(MAX_CONTENT_BYTES + 1)
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500 and error.code not in UNDECIDED_4XX:
            return None
        raise RuntimeError(f"IPFS gateway {url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise RuntimeError(f"IPFS gateway {url} unreachable: {error}") from None
    return content
