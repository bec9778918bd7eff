using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ServerlessDb.Benchmarks;

/// <summary>
/// A moto_server this benchmark starts on 127.0.0.1 and a free port, through tools/atomic_moto_server.py (copied beside this
/// program, so that S3's conditional writes are atomic as S3's are), and stops (by its own process id) when disposed.
/// </summary>
internal sealed class MotoProcess : IAsyncDisposable
{
    private readonly Process _process;

    private MotoProcess(Process process, Uri endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public static async Task<MotoProcess> StartAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var process = Process.Start(new ProcessStartInfo("python3", [Path.Combine(AppContext.BaseDirectory, "atomic_moto_server.py"), "-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("moto_server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var moto = new MotoProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await http.GetAsync(moto.Endpoint);
                return moto;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
        }

        await moto.DisposeAsync();
        throw new InvalidOperationException($"moto_server did not answer on {moto.Endpoint} within 30 s.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
