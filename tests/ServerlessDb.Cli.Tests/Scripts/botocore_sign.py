"""Signs one HTTP request for execute-api exactly as botocore does, for RequestSignerFidelityTests.

Reads a JSON object on stdin: method, url, headers (present before signing), body_base64, region,
access_key, secret_key, token, timestamp ("YYYYMMDDTHHMMSSZ").
Writes a JSON object on stdout: botocore_version, headers (after signing).
Exits 2 with a message on stderr when botocore cannot be imported.
"""
import base64
import datetime
import json
import sys
from unittest import mock

try:
    import botocore
    import botocore.auth
    import botocore.credentials
    from botocore.awsrequest import AWSRequest
except ImportError as e:  # the test turns this into a failure with this message
    print(f"botocore is not importable by {sys.executable}: {e}", file=sys.stderr)
    sys.exit(2)


def main():
    req = json.load(sys.stdin)
    request = AWSRequest(method=req["method"], url=req["url"], data=base64.b64decode(req["body_base64"]), headers=req["headers"])
    credentials = botocore.credentials.Credentials(req["access_key"], req["secret_key"], req.get("token"))
    signed_at = datetime.datetime.strptime(req["timestamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        botocore.auth.SigV4Auth(credentials, "execute-api", req["region"]).add_auth(request)
    json.dump({"botocore_version": botocore.__version__, "headers": dict(request.headers.items())}, sys.stdout)


if __name__ == "__main__":
    main()
