"""A stand-in for API Gateway's IAM authorization, for the proxy tests: every request must carry a SigV4
signature for execute-api that botocore, recomputing it from the request as received, finds equal; its
X-Amz-Content-SHA256 must be the SHA-256 of the body received; its date within 5 minutes. A request that
passes is forwarded to the upstream (the local server) and its answer streamed back as it is (redirects
included); one that fails gets 403 {"message": ...}, as API Gateway answers.

Usage: python3 apigw_iam_standin.py UPSTREAM_URL REGION ACCESS_KEY SECRET_KEY
Prints "listening on http://127.0.0.1:PORT" when ready.
"""
import datetime
import hashlib
import http.client
import http.server
import json
import re
import sys
import urllib.parse

try:
    import botocore.auth
    import botocore.credentials
    from botocore.awsrequest import AWSRequest
except ImportError as e:
    print(f"botocore is not importable by {sys.executable}: {e}", file=sys.stderr)
    sys.exit(2)

UPSTREAM, REGION, ACCESS_KEY, SECRET_KEY = sys.argv[1:5]
AUTH = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
                  r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("standin: " + (fmt % args) + "\n")

    def refuse(self, message):
        body = json.dumps({"message": message}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def verify(self, body):
        match = AUTH.match(self.headers.get("Authorization", ""))
        if not match:
            return "Missing Authentication Token"
        if match["key"] != ACCESS_KEY:
            return "The security token included in the request is invalid."
        if match["region"] != REGION or match["service"] != "execute-api":
            return f"Credential should be scoped to a valid region and service execute-api, not {match['region']}/{match['service']}."
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        if abs((datetime.datetime.now(datetime.timezone.utc) - signed_at).total_seconds()) > 300:
            return "Signature expired"
        declared = self.headers.get("X-Amz-Content-SHA256")
        if declared is not None and declared != hashlib.sha256(body).hexdigest():
            return "The provided x-amz-content-sha256 header does not match what was computed."
        signed = match["signed"].split(";")
        if "host" not in signed:
            return "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        headers = {name: self.headers.get(name, "") for name in signed}
        if "x-amz-content-sha256" in headers:
            # The hash of the body that arrived, not the one the client declared.
            headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        request = AWSRequest(method=self.command, url=f"http://{self.headers['Host']}{self.path}", data=body, headers=headers)
        credentials = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY, self.headers.get("X-Amz-Security-Token"))
        signer = botocore.auth.SigV4Auth(credentials, "execute-api", REGION)
        # Recomputed from what was received: the headers the client named, and the hash of the body that arrived.
        request.context["timestamp"] = amz_date
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != match["signature"]:
            return ("The request signature we calculated does not match the signature you provided. "
                    "Check your AWS Secret Access Key and signing method.")
        return None

    def handle_any(self):
        body = self.read_body()
        problem = self.verify(body)
        if problem:
            self.refuse(problem)
            return
        upstream = urllib.parse.urlsplit(UPSTREAM)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        # The Host stays the API's, as API Gateway passes it to the Lambda (whose /status names it).
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"}
        connection.request(self.command, self.path, body=body if body or self.command in ("POST", "PUT") else None, headers=headers)
        response = connection.getresponse()
        self.send_response(response.status, response.reason)
        length = response.getheader("Content-Length")
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            chunk = response.read(65536)
            if not chunk:
                break
            if length is None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                self.wfile.write(chunk)
        if length is None:
            self.wfile.write(b"0\r\n\r\n")
        connection.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_HEAD = handle_any


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
