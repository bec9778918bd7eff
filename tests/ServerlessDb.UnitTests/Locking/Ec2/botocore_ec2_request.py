"""Serializes and signs one EC2 request exactly as botocore does, for Ec2QueryClientFidelityTests.

Reads a JSON object on stdin:
  operation, params (botocore API parameters), endpoint, region, access_key, secret_key, token,
  timestamp ("YYYYMMDDTHHMMSSZ"), extra_headers (headers present on the request before signing).
Writes a JSON object on stdout: botocore_version, url, body, headers (as sent, after signing).
Exits 2 with a message on stderr when botocore cannot be imported.
"""
import datetime
import json
import sys
from unittest import mock

try:
    import botocore
    import botocore.auth
    import botocore.credentials
    import botocore.serialize
    import botocore.session
    from botocore.awsrequest import create_request_object, prepare_request_dict
except ImportError as e:  # the test turns this into a failure with this message
    print(f"botocore is not importable by {sys.executable}: {e}", file=sys.stderr)
    sys.exit(2)


def main():
    req = json.load(sys.stdin)
    model = botocore.session.get_session().get_service_model("ec2")
    operation = model.operation_model(req["operation"])
    serializer = botocore.serialize.create_serializer(model.metadata["protocol"], include_validation=True)
    request_dict = serializer.serialize_to_request(req["params"], operation)
    prepare_request_dict(request_dict, endpoint_url=req["endpoint"])
    request = create_request_object(request_dict)
    for name, value in req.get("extra_headers", {}).items():
        request.headers[name] = value

    credentials = botocore.credentials.Credentials(req["access_key"], req["secret_key"], req.get("token"))
    signed_at = datetime.datetime.strptime(req["timestamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        signer = botocore.auth.SigV4Auth(credentials, "ec2", req["region"])
        signer.add_auth(request)

    prepared = request.prepare()
    body = prepared.body.decode("utf-8") if isinstance(prepared.body, bytes) else prepared.body
    json.dump(
        {
            "botocore_version": botocore.__version__,
            "url": prepared.url,
            "body": body,
            "headers": {k: (v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()},
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
