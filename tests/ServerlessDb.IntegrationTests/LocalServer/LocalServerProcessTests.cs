using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>The local server as a user starts it: a child process, its printed lines and its exit codes.</summary>
public sealed class LocalServerProcessTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-local-process-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task It_prints_the_url_and_the_data_folder_answers_status_and_exits_0_on_ctrl_c()
    {
        var port = LocalServerHandle.FreePort();
        var data = Path.Combine(_root, "data");
        using var server = LocalServerProcess.Start("--port", port.ToString(CultureInfo.InvariantCulture), "--data", data);

        var listening = await server.WaitForLineAsync("ServerlessDb local server listening on ", StartTimeout);
        Assert.Equal($"ServerlessDb local server listening on http://127.0.0.1:{port}", listening);
        Assert.Equal($"storage: folder {data} ({Path.Combine(data, "NAME.sqlite")})", await server.WaitForLineAsync("storage: ", StartTimeout));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var status = await http.GetStringAsync("/status");
        Assert.Contains("\"leader\"", status);
        Assert.Contains("\"results\":[{}]", await (await http.PostAsync("/sql", new StringContent("CREATE TABLE t(a)"))).Content.ReadAsStringAsync());
        Assert.True(File.Exists(Path.Combine(data, "default.sqlite")));

        server.Interrupt();

        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.Contains("Stopped.", server.Stdout);
        Assert.Equal("", server.Stderr);
    }

    [Fact]
    public async Task A_port_already_taken_exits_non_zero_with_one_line_saying_so()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        using var server = LocalServerProcess.Start("--port", port.ToString(CultureInfo.InvariantCulture), "--data", Path.Combine(_root, "data"));

        Assert.Equal(1, await server.WaitForExitAsync());
        Assert.Equal($"Port {port} on 127.0.0.1 is already in use: stop what is listening there or choose another port with --port.\n", server.Stderr);
        Assert.DoesNotContain("listening on", server.Stdout);
    }

    [Fact]
    public async Task A_data_folder_that_cannot_be_written_exits_non_zero_with_one_line_naming_it()
    {
        // A file where the folder should be: unwritable even for root, who ignores permission bits.
        var blocker = Path.Combine(_root, "blocker");
        await File.WriteAllTextAsync(blocker, "not a folder");
        var data = Path.Combine(blocker, "data");

        using var server = LocalServerProcess.Start("--port", "0", "--data", data);

        Assert.Equal(1, await server.WaitForExitAsync());
        var lines = server.Stderr.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.StartsWith($"The data folder {data} is not writable: ", lines[0]);
    }

    [Fact]
    public async Task Help_lists_the_options()
    {
        using var server = LocalServerProcess.Start("--help");

        Assert.Equal(0, await server.WaitForExitAsync());
        foreach (var option in new[] { "--port", "--host", "--data", "--s3-endpoint", "--bucket" })
        {
            Assert.Contains(option, server.Stdout);
        }
    }
}
