using System.Net;
using System.Net.Sockets;
using System.Text;
using ServerlessDb.Configuration;
using LocalServerApp = global::LocalServer.LocalServerApp;
using LocalServerSettings = global::LocalServer.LocalServerSettings;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>A local server started in this process on a free port with a fresh data folder, stopped and removed on dispose.</summary>
public sealed class LocalServerHandle : IAsyncDisposable
{
    private readonly StringWriter _output;

    private LocalServerHandle(LocalServerApp app, string dataDirectory, StringWriter output)
    {
        App = app;
        DataDirectory = dataDirectory;
        _output = output;
        Http = new HttpClient { BaseAddress = app.Url, Timeout = TimeSpan.FromSeconds(30) };
    }

    internal LocalServerApp App { get; }

    public string DataDirectory { get; }

    public HttpClient Http { get; }

    /// <summary>What the server printed: the start banner and the request log lines.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    internal static async Task<LocalServerHandle> StartAsync(IReadOnlyDictionary<string, string?>? environment = null, LocalServerSettings? settings = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("serverlessdb-local-data-").FullName;
        var output = new StringWriter(new StringBuilder());
        var app = await LocalServerApp.StartAsync(
            (settings ?? new LocalServerSettings()) with { Port = 0, DataDirectory = dataDirectory },
            new DictionaryEnvironment(environment ?? new Dictionary<string, string?>()),
            TextWriter.Synchronized(output),
            TextWriter.Synchronized(output));
        return new LocalServerHandle(app, dataDirectory, output);
    }

    /// <summary>A port nothing listens on when asked (another process may take it before it is used).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task<string> PostAsync(string path, string json)
    {
        using var response = await Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}
