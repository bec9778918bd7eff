using System.Net;
using System.Net.Sockets;

namespace ServerlessDb.EndToEnd;

/// <summary>
/// A TCP relay in front of moto_server for one client: it counts the bytes each way, so the bytes a request
/// moved are measured on the wire, the same way for the seed and for ServerlessDb.
/// </summary>
internal sealed class CountingProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private long _sent;
    private long _received;

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
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
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
