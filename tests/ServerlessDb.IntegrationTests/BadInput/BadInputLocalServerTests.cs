using System.Net.Http.Headers;
using System.Security.Cryptography;
using ServerlessDb.IntegrationTests.LocalServer;

namespace ServerlessDb.IntegrationTests.BadInput;

/// <summary>The HTTP cases of the bad-input catalogue through the local server over real HTTP, with a local data folder.</summary>
public sealed class BadInputLocalServerTests(BadInputLocalServerTests.Server server) : IClassFixture<BadInputLocalServerTests.Server>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Theory]
    [MemberData(nameof(BadInputCatalogue.HttpCaseNames), MemberType = typeof(BadInputCatalogue))]
    public async Task Each_bad_input_gets_its_documented_answer_in_time_and_leaves_the_data_folder_byte_identical(string name)
    {
        var badInput = BadInputCatalogue.Named(name);
        var before = Files(server.Handle.DataDirectory);

        var (status, body) = await SendAsync(server.Handle.Http, badInput).WaitAsync(Bound);

        Assert.True(status == badInput.Status, $"{name}: expected {badInput.Status}, got {status}: {(body.Length <= 300 ? body : body[..300])}");
        Assert.Contains(badInput.Expected, body, StringComparison.Ordinal);
        Assert.Equal(before, Files(server.Handle.DataDirectory));
    }

    private static async Task<(int Status, string Body)> SendAsync(HttpClient http, BadInputCase badInput)
    {
        var target = badInput.Path + (badInput.Query is null ? "" : "?" + badInput.Query);
        using var request = new HttpRequestMessage(new HttpMethod(badInput.Method), target);
        if (badInput.Body is { } body)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(badInput.ContentType);
        }

        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    // Every file, so a request that made a new one (a database named "sneaky\n") shows as well as a changed one.
    private static List<string> Files(string folder)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(path => $"{Path.GetRelativePath(folder, path)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))}")
            .ToList();
        Assert.Contains(files, f => f.StartsWith(BadInputCatalogue.Database + ".sqlite ", StringComparison.Ordinal));
        return files;
    }

    /// <summary>One local server for the catalogue, its database set up once; each case checks the folder before and after.</summary>
    public sealed class Server : IAsyncLifetime
    {
        public LocalServerHandle Handle { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Handle = await LocalServerHandle.StartAsync();
            await Handle.PostAsync("/db/execute", System.Text.Json.JsonSerializer.Serialize(BadInputCatalogue.Setup));
        }

        public async Task DisposeAsync() => await Handle.DisposeAsync();
    }
}
