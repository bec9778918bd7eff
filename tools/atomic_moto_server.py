#!/usr/bin/env python3
"""moto_server, with S3's conditional writes made atomic.

Takes moto_server's own arguments (-H HOST, -p PORT, ...) and runs moto's own server, with one
change: the S3 requests that name an object (PUT, GET, HEAD, DELETE, POST on bucket/key) are
serialized per object. Everything else (bucket requests, EC2, the other services) is moto's
unchanged.

Why: moto 5.2 handles a PUT by checking If-Match / If-None-Match, then storing the object, then
setting its metadata, with no lock between. Two PUTs with the same If-Match that overlap can both
succeed (a lost update S3 never allows: its conditional writes are atomic, one of them gets 412, or
409 for a conflicting concurrent request), and a HEAD in between can see the new object without its
metadata. With this launcher each request on an object runs whole before the next one on the same
object starts, as S3 behaves. See docs/fault-model.md ("A test S3 that keeps S3's promises").

And one change for speed, not semantics: a GET of one byte range of an object reads only that range. moto
answers it by reading the whole object into memory and slicing it, so a ranged GET of a 1 GB object cost a
read of 1 GB (boto3's download of such an object, in 8 MiB parts, took over an hour), where S3 reads the range.
"""

import io
import re
import sys
import threading
import zlib
from urllib.parse import parse_qsl

try:
    import moto.server as moto_server
    from moto.s3.models import FakeKey
    from werkzeug.wsgi import get_input_stream
except ImportError as error:  # the message the test fixtures pass on when it cannot start
    sys.stderr.write(
        f"atomic_moto_server: cannot import moto ({error}); install it with: pip install 'moto[server]'\n"
    )
    sys.exit(2)

# A request on an object takes the lock its object's name hashes to. Different objects may share a
# lock (that only serializes them too); an object never has two, so it is never handled twice at once.
_STRIPES = [threading.Lock() for _ in range(256)]


def _is_path_style(host):
    """Whether moto reads the bucket from the path (it does for IPs, localhost and dotless hosts)."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    if not name or name.startswith("[") or name.startswith("localhost") or "." not in name:
        return True
    return all(part.isdigit() for part in name.split("."))


def object_name(environ):
    """bucket/key for a request that names an object, None for anything else (a bucket, the service)."""
    path = environ.get("PATH_INFO", "")
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    host = environ.get("HTTP_HOST", "")
    if _is_path_style(host):
        bucket, _, key = path.lstrip("/").partition("/")
    else:
        bucket, key = host.split(".", 1)[0], path.lstrip("/")
    return f"{bucket}/{key}" if bucket and key else None


# "bytes=A-B", "bytes=A-" or "bytes=-N": the one range moto slices out of an object's whole value.
_ONE_RANGE = re.compile(r"bytes=(\d+-\d*|-\d+)")
# The query parameters of a plain GetObject (the SDKs add x-id); with any other, moto may answer the value whole.
_PLAIN_GET_PARAMETERS = {"versionId", "x-id"}
_ranged_get = threading.local()


def is_plain_ranged_get(environ):
    """Whether a request is a GetObject of one byte range, which moto answers by slicing the object's value (a
    range that ends before it starts moto answers with the whole object, so it is not one)."""
    one_range = _ONE_RANGE.fullmatch(environ.get("HTTP_RANGE", ""))
    if environ.get("REQUEST_METHOD") != "GET" or not one_range:
        return False
    first, _, last = one_range.group(1).partition("-")
    if first and last and int(first) > int(last):
        return False
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return all(name in _PLAIN_GET_PARAMETERS for name, _ in query)


class _ValueRange:
    """An object's value as moto's range handling uses it (its length, one slice, its truth), read from the key's
    buffer a slice at a time instead of whole."""

    def __init__(self, key):
        self._key = key

    def __len__(self):
        return self._key.size

    def __bool__(self):
        return self._key.size > 0

    def __getitem__(self, item):
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("only a slice of an object's value is read")
        start, stop, _ = item.indices(self._key.size)
        with self._key.lock:
            self._key._value_buffer.seek(start)
            return self._key._value_buffer.read(max(0, stop - start))


_whole_value = FakeKey.value


def _value(key):
    return _ValueRange(key) if getattr(_ranged_get, "active", False) else _whole_value.fget(key)


FakeKey.value = property(_value, _whole_value.fset)


class ObjectSerializer:
    """WSGI middleware for moto's S3 app: one request at a time per object, answer built inside the lock."""

    def __init__(self, app):
        self._app = app

    def __call__(self, environ, start_response):
        name = object_name(environ)
        if name is None:
            return self._app(environ, start_response)
        _buffer_body(environ)
        lock = _STRIPES[zlib.crc32(name.encode("utf-8", "surrogateescape")) % len(_STRIPES)]
        with lock:
            _ranged_get.active = is_plain_ranged_get(environ)
            try:
                answer = self._app(environ, start_response)
            finally:
                _ranged_get.active = False
            try:
                # moto builds its answers in memory; reading them here keeps the object's state as of
                # this request, whatever the next request on it does once the lock is released.
                return [b"".join(answer)]
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()


def _buffer_body(environ):
    """Reads a request's body before its object's lock is taken: a slow upload, or one whose client died
    halfway, then holds up only itself, never the other requests on its object."""
    if "CONTENT_LENGTH" not in environ and "wsgi.input_terminated" not in environ:
        return
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)


def create_backend_app(service):
    app = _create_moto_backend_app(service)
    if service == "s3":
        app.wsgi_app = ObjectSerializer(app.wsgi_app)
    return app


_create_moto_backend_app = moto_server.create_backend_app

if __name__ == "__main__":
    # moto's own main, with its own arguments; it builds each service's app through this module name.
    moto_server.create_backend_app = create_backend_app
    moto_server.main(sys.argv[1:])
