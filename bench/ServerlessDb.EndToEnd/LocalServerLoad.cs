using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ServerlessDb.EndToEnd;

/// <summary>
/// One client against one local server (folder storage): point reads, then point writes, for a fixed time each;
/// requests per second and the server's CPU per request (from /proc), with the thread pool's spin-wait off
/// (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0) and at the runtime's default, as shipped.
/// </summary>
internal static class LocalServerLoad
{
    public static async Task<string> RunAsync(string localServerDll, TimeSpan duration)
    {
        var text = new StringBuilder("| thread-pool spinning | reads/s | server CPU per read | writes/s | server CPU per write |\n| --- | ---: | ---: | ---: | ---: |\n");
        foreach (var (label, spinLimit) in new[] { ("off (spin limit 0)", (string?)"0"), ("on (runtime default, as shipped)", null), ("off (spin limit 0)", "0"), ("on (runtime default, as shipped)", null) })
        {
            var data = Directory.CreateTempSubdirectory("serverlessdb-load-").FullName;
            var port = FreePort();
            var environment = new Dictionary<string, string?> { ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = spinLimit, ["CACHE_DIR"] = Path.Combine(data, "cache") };
            using (var server = ChildProcess.Start("dotnet", [localServerDll, "--port", port.ToString(CultureInfo.InvariantCulture), "--data", Path.Combine(data, "db")], environment))
            using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") })
            {
                await WaitUntilUpAsync(http, server);
                await SendAsync(http, HttpMethod.Post, "/db/execute", """["CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER)", "INSERT INTO kv VALUES (7, 0)"]""");
                var read = await LoopAsync(server, duration, () => SendAsync(http, HttpMethod.Get, "/db/query?q=SELECT%20v%20FROM%20kv%20WHERE%20k%20%3D%207", null));
                var write = await LoopAsync(server, duration, () => SendAsync(http, HttpMethod.Post, "/db/execute", """["UPDATE kv SET v = v + 1 WHERE k = 7"]"""));
                text.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {read.PerSecond:0} | {read.CpuMicroseconds:0} µs | {write.PerSecond:0} | {write.CpuMicroseconds:0} µs |");
            }

            Directory.Delete(data, recursive: true);
        }

        return text.ToString();
    }

    private static async Task<(double PerSecond, double CpuMicroseconds)> LoopAsync(ChildProcess server, TimeSpan duration, Func<Task> request)
    {
        for (var i = 0; i < 200; i++)
        {
            await request();
        }

        var cpuBefore = CpuTime(server);
        var clock = Stopwatch.StartNew();
        var count = 0;
        while (clock.Elapsed < duration)
        {
            await request();
            count++;
        }

        var cpu = CpuTime(server) - cpuBefore;
        return (count / clock.Elapsed.TotalSeconds, cpu.TotalMicroseconds / count);
    }

    private static TimeSpan CpuTime(ChildProcess server)
    {
        server.Process.Refresh();
        return server.Process.TotalProcessorTime;
    }

    private static async Task SendAsync(HttpClient http, HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK || body.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {body}");
        }
    }

    private static async Task WaitUntilUpAsync(HttpClient http, ChildProcess server)
    {
        while (true)
        {
            try
            {
                (await http.GetAsync("/readyz")).Dispose();
                return;
            }
            catch (HttpRequestException) when (!server.Process.HasExited)
            {
                await Task.Delay(20);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
