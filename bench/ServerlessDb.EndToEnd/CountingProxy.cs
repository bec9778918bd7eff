using System.Net;
using System.Net.Sockets;

namespace ServerlessDb.EndToEnd;

/// <summary>
/// A TCP relay in front of moto_server for one client: it counts the bytes each way, so the bytes a request
/// moved are measured on the wire, the same way for the seed and for ServerlessDb, and the HTTP requests the
/// client sent, by method (GET, HEAD, PUT, ...), read from the request heads on the way up.
/// </summary>
internal sealed class CountingProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private long _sent;
    private long _received;
    private readonly Dictionary<string, int> _requests = new(StringComparer.Ordinal);

    public CountingProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _ = AcceptAsync();
    }

    public Uri Url { get; }

    /// <summary>Bytes the client sent to moto (uploads) and received from it (downloads), since the start.</summary>
    public (long Sent, long Received) Bytes => (Interlocked.Read(ref _sent), Interlocked.Read(ref _received));

    /// <summary>The requests the client sent since the start, by HTTP method.</summary>
    public int Requests(string method)
    {
        lock (_requests)
        {
            return _requests.GetValueOrDefault(method);
        }
    }

    private void CountRequest(string method)
    {
        lock (_requests)
        {
            _requests[method] = _requests.GetValueOrDefault(method) + 1;
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_target, _stop.Token);
                client.NoDelay = server.NoDelay = true;
                var up = CopyAsync(client.GetStream(), server.GetStream(), isUpload: true);
                var down = CopyAsync(server.GetStream(), client.GetStream(), isUpload: false);
                await Task.WhenAll(up, down);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // A closed connection ends the relay.
            }
        }
    }

    private async Task CopyAsync(NetworkStream from, NetworkStream to, bool isUpload)
    {
        var buffer = new byte[81920];
        var heads = isUpload ? new RequestHeads(CountRequest) : null;
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                heads?.Feed(buffer.AsSpan(0, read));
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                Interlocked.Add(ref isUpload ? ref _sent : ref _received, read);
            }
        }
        finally
        {
            to.Socket.Shutdown(SocketShutdown.Send);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}

/// <summary>
/// Finds the HTTP/1.1 request heads in the bytes one connection sends: a head, then a body of its Content-Length
/// (or chunked), then the next head. Enough for the SDKs' requests to S3; it only counts, it never changes a byte.
/// </summary>
internal sealed class RequestHeads(Action<string> onRequest)
{
    private readonly List<byte> _line = [];
    private readonly List<string> _head = [];
    private long _bodyLeft;
    private bool _chunked;
    private int _state; // 0: head, 1: body by length, 2: chunk size line, 3: chunk data, 4: CRLF after a chunk, 5: trailer

    public void Feed(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            if (_state is 1 or 3)
            {
                var take = (int)Math.Min(_bodyLeft, bytes.Length - i);
                i += take;
                _bodyLeft -= take;
                if (_bodyLeft == 0)
                {
                    _state = _state == 1 ? 0 : 4;
                }

                continue;
            }

            var b = bytes[i++];
            if (b != (byte)'\n')
            {
                if (b != (byte)'\r' && _line.Count < 8192)
                {
                    _line.Add(b);
                }

                continue;
            }

            var line = System.Text.Encoding.ASCII.GetString([.. _line]);
            _line.Clear();
            switch (_state)
            {
                case 0 when line.Length > 0:
                    _head.Add(line);
                    break;
                case 0 when _head.Count > 0:
                    EndOfHead();
                    break;
                case 2:
                    var size = long.Parse(line.Split(';')[0].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                    (_bodyLeft, _state) = size == 0 ? (0L, 5) : (size, 3);
                    break;
                case 4:
                    _state = 2;
                    break;
                case 5 when line.Length == 0:
                    _state = 0;
                    break;
            }
        }
    }

    private void EndOfHead()
    {
        onRequest(_head[0].Split(' ')[0]);
        _bodyLeft = 0;
        _chunked = false;
        foreach (var header in _head.Skip(1))
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var name = header[..colon].Trim();
            var value = header[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                _bodyLeft = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                _chunked = true;
            }
        }

        _head.Clear();
        _state = _chunked ? 2 : _bodyLeft > 0 ? 1 : 0;
    }
}
