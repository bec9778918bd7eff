using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cli.Output;

namespace Cli.Api;

/// <summary>
/// The operations of the shell and the commands on one database: statements, backups, loads and the history.
/// It carries what the shell can change between statements: the database, a past version to read (time
/// travel), and the consistency level of reads.
/// </summary>
internal sealed class DatabaseSession(ApiClient api, string database)
{
    /// <summary>Past this size a SQLite file goes through the two-step staged load: an API Gateway request body holds about 4.4 MB of file.</summary>
    public const long InlineLoadLimit = 4 * 1024 * 1024;

    private static readonly byte[] SqliteHeader = "SQLite format 3\0"u8.ToArray();

    public ApiClient Api => api;

    public string Database { get; set; } = database;

    /// <summary>The past version reads go to (<c>.at</c>), or null for the current one.</summary>
    public PointInTime? At { get; set; }

    /// <summary>rqlite's <c>level</c> for reads, or null for the API's default (weak).</summary>
    public string? Consistency { get; set; }

    /// <summary>A script of one or more statements (<c>POST /sql</c>): the API splits it where SQLite says a statement ends and decides read or write.</summary>
    public Task<JsonDocument> RunScriptAsync(string sql, CancellationToken cancellationToken) =>
        api.SendForJsonAsync(
            HttpMethod.Post,
            QueryString.Of("/sql", ReadFlags()),
            RequestBody.FromBytes(Encoding.UTF8.GetBytes(sql), "text/plain; charset=utf-8"),
            $"run the statements on database '{Database}'",
            cancellationToken);

    /// <summary>One statement with parameters on <c>/db/query</c> (reads; a write is refused per statement) or <c>/db/execute</c>.</summary>
    public Task<JsonDocument> RunStatementAsync(
        string sql, IReadOnlyList<JsonNode?> parameters, bool write, bool transaction, CancellationToken cancellationToken)
    {
        var statement = new JsonArray { sql };
        foreach (var parameter in parameters)
        {
            statement.Add(parameter?.DeepClone());
        }

        var body = Encoding.UTF8.GetBytes(new JsonArray { parameters.Count == 0 ? sql : statement }.ToJsonString());
        var flags = write
            ? [("db", Database), ("transaction", transaction ? null : "")]
            : ReadFlags();
        return api.SendForJsonAsync(
            HttpMethod.Post,
            QueryString.Of(write ? "/db/execute" : "/db/query", flags),
            RequestBody.FromBytes(body, "application/json"),
            write ? $"execute on database '{Database}'" : $"query database '{Database}'",
            cancellationToken);
    }

    /// <summary>Streams a backup (the SQLite file, or with <paramref name="sql"/> rqlite's dump) of the current version or of <see cref="At"/>.</summary>
    public Task<long> BackupAsync(Stream destination, bool sql, PointInTime? at, CancellationToken cancellationToken)
    {
        var point = at ?? At;
        return api.DownloadAsync(
            QueryString.Of("/db/backup", ("db", Database), ("fmt", sql ? "sql" : ""), (point?.Parameter ?? "", point?.Value)),
            destination,
            $"back up database '{Database}'",
            "backing up",
            cancellationToken);
    }

    /// <summary>
    /// Replaces the database with a SQLite file or an SQL dump (decided by the file's first bytes, as the API
    /// decides). A SQLite file past <see cref="InlineLoadLimit"/> is staged: uploaded to the presigned link
    /// <c>/db/load/upload</c> gives, then loaded from there; where the store has no staging area (the local
    /// server's folder) it is sent inline.
    /// </summary>
    public async Task<JsonDocument> LoadAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"load: no file '{path}'.");
        }

        var isSqlite = await StartsWithSqliteHeaderAsync(path, cancellationToken);
        var body = RequestBody.FromFile(path, isSqlite ? "application/octet-stream" : "text/plain; charset=utf-8");
        var operation = $"load '{path}' into database '{Database}'";
        if (isSqlite && body.Length > InlineLoadLimit)
        {
            using var upload = await api.SendAsync(HttpMethod.Post, QueryString.Of("/db/load/upload", ("db", Database)), null, cancellationToken);
            var uploadText = await upload.Content.ReadAsStringAsync(cancellationToken);
            if (upload.IsSuccessStatusCode)
            {
                using var staged = JsonDocument.Parse(uploadText);
                var link = new Uri(staged.RootElement.GetProperty("url").GetString()!);
                await api.PutToLinkAsync(link, body, operation, cancellationToken);
                return await api.SendForJsonAsync(HttpMethod.Post, staged.RootElement.GetProperty("load").GetString()!, null, operation, cancellationToken);
            }

            if (upload.StatusCode != System.Net.HttpStatusCode.BadRequest)
            {
                api.ThrowIfError(upload, uploadText, operation);
            }
        }

        using var progress = Progress.Start("loading", body.Length);
        using var response = await api.SendAsync(HttpMethod.Post, QueryString.Of("/db/load", ("db", Database)), body, cancellationToken, progress);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        api.ThrowIfError(response, text, operation);
        return JsonDocument.Parse(text);
    }

    /// <summary>The kept versions, newest first, every page (up to <paramref name="max"/>).</summary>
    public Task<IReadOnlyList<JsonElement>> VersionsAsync(int max, CancellationToken cancellationToken) =>
        PagesAsync("/db/versions", "versions", [("db", Database)], max, $"list the versions of database '{Database}'", cancellationToken);

    public Task<IReadOnlyList<JsonElement>> DatabasesAsync(int max, CancellationToken cancellationToken) =>
        PagesAsync("/db/databases", "databases", [], max, "list the databases", cancellationToken);

    /// <summary>Makes a past version's content current, as a new version; the answer names both.</summary>
    public Task<JsonDocument> RestoreAsync(PointInTime point, CancellationToken cancellationToken) =>
        api.SendForJsonAsync(
            HttpMethod.Post,
            QueryString.Of("/db/restore", ("db", Database), (point.Parameter, point.Value)),
            null,
            $"restore database '{Database}' {point}",
            cancellationToken);

    private (string, string?)[] ReadFlags() =>
    [
        ("db", Database),
        (At?.Parameter ?? "", At?.Value),
        ("level", At is null ? Consistency ?? "" : ""),
    ];

    private async Task<IReadOnlyList<JsonElement>> PagesAsync(
        string path, string property, (string, string?)[] flags, int max, string operation, CancellationToken cancellationToken)
    {
        var all = new List<JsonElement>();
        string? next = null;
        do
        {
            using var page = await api.SendForJsonAsync(
                HttpMethod.Get, QueryString.Of(path, [.. flags, ("limit", Math.Min(1000, max - all.Count).ToString(System.Globalization.CultureInfo.InvariantCulture)), ("next", next ?? "")]), null, operation, cancellationToken);
            all.AddRange(page.RootElement.GetProperty(property).EnumerateArray().Select(e => e.Clone()));
            next = page.RootElement.TryGetProperty("next", out var token) ? token.GetString() : null;
        }
        while (next is not null && all.Count < max);

        return all;
    }

    private static async Task<bool> StartsWithSqliteHeaderAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        var start = new byte[SqliteHeader.Length];
        var read = await file.ReadAtLeastAsync(start, start.Length, throwOnEndOfStream: false, cancellationToken);
        return read == start.Length && start.AsSpan().SequenceEqual(SqliteHeader);
    }
}
