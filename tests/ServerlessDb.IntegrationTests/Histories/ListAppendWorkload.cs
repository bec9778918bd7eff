using System.Globalization;
using System.Text.Json;

namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>
/// The list-append workload: each client (one container) in a loop appends a value unique in the history to
/// one of a few keys (an INSERT; a key's list is its rows in rowid order, which is commit order since every
/// commit builds on the one before) or reads one key's list, at the default level or with
/// <c>level=none&amp;freshness</c>. Half the appends carry an Idempotency-Key, and one whose outcome is unknown
/// or that was refused for now is retried with the same key and value on the next container. Every attempt
/// is recorded with its start, end and answer.
/// </summary>
public sealed class ListAppendWorkload(int seed)
{
    public const string Database = "history";
    public const string Key = "databases/history.sqlite";
    private const string CreateTable = "CREATE TABLE appends(k INTEGER NOT NULL, v INTEGER NOT NULL)";
    public const int Keys = 3;
    public const double AppendShare = 0.5;
    public const double KeyedShare = 0.5;
    public const double StaleReadShare = 0.2;
    public const int MaxAttempts = 4;
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);

    private const string MayHaveCommitted = "may have been committed";
    private long _lastValue;

    public HistoryRecorder Recorder { get; } = new();

    /// <summary>The statements that create the workload's table, and with <paramref name="paddingMib"/> a table of that many MiB that makes every whole-file commit as large.</summary>
    public static string CreateJson(int paddingMib = 0) => paddingMib == 0
        ? $"""["{CreateTable}"]"""
        : $"""["{CreateTable}", "CREATE TABLE padding(b BLOB)", "INSERT INTO padding VALUES (zeroblob({paddingMib * 1024 * 1024}))"]""";

    /// <summary>Runs one client per container until <paramref name="duration"/> has passed; operations in flight then finish.</summary>
    public async Task RunAsync(IReadOnlyList<IHistoryClient> clients, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource(duration);
        await Task.WhenAll(clients.Select((_, c) => Task.Run(() => ClientAsync(clients, c, stop.Token))));
    }

    /// <summary>Each key's list, read at the default level through <paramref name="client"/> once the run is over.</summary>
    public static async Task<IReadOnlyDictionary<int, IReadOnlyList<long>>> ReadFinalAsync(IHistoryClient client)
    {
        var final = new Dictionary<int, IReadOnlyList<long>>();
        for (var key = 0; key < Keys; key++)
        {
            var answer = await client.PostAsync("/db/query", $"db={Database}", ReadJson(key), idempotencyKey: null);
            final[key] = answer.Status == 200 && TryReadList(answer.Body, out var values)
                ? values
                : throw new InvalidOperationException($"the final read of k{key} through {client.Name} answered {answer.Status}: {answer.Body}");
        }

        return final;
    }

    private static string ReadJson(int key) => $"""[["SELECT v FROM appends WHERE k = ? ORDER BY rowid", {key}]]""";

    private async Task ClientAsync(IReadOnlyList<IHistoryClient> clients, int client, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(seed, client));
        while (!stop.IsCancellationRequested)
        {
            var key = random.Next(Keys);
            if (random.NextDouble() < AppendShare)
            {
                var keyed = random.NextDouble() < KeyedShare;
                await AppendAsync(clients, client, key, keyed ? $"history-{seed}-{Guid.NewGuid():N}" : null);
            }
            else
            {
                await ReadAsync(clients[client], key, random.NextDouble() < StaleReadShare ? Freshness : null);
            }
        }
    }

    private async Task AppendAsync(IReadOnlyList<IHistoryClient> clients, int client, int key, string? idempotencyKey)
    {
        var value = Interlocked.Increment(ref _lastValue);
        var body = $"""[["INSERT INTO appends(k, v) VALUES (?, ?)", {key}, {value}]]""";
        for (var attempt = 0; attempt < (idempotencyKey is null ? 1 : MaxAttempts); attempt++)
        {
            var container = clients[(client + attempt) % clients.Count];
            var id = Recorder.NextId();
            var start = Recorder.Now;
            var answer = await container.PostAsync("/db/execute", $"db={Database}", body, idempotencyKey);
            var outcome = AppendOutcome(answer);
            Recorder.Add(new HistoryOperation
            {
                Id = id,
                Client = container.Name,
                Kind = OperationKind.Append,
                Key = key,
                Value = value,
                IdempotencyKey = idempotencyKey,
                Start = start,
                End = Recorder.Now,
                Outcome = outcome,
                Status = answer.Status,
                Answer = Shorten(answer.Body),
            });
            var refusedForNow = answer.Status is 503 or 409;
            if (outcome == OperationOutcome.Ok || !(outcome == OperationOutcome.Unknown || refusedForNow))
            {
                return;
            }
        }
    }

    private async Task ReadAsync(IHistoryClient client, int key, TimeSpan? freshness)
    {
        var query = $"db={Database}" + (freshness is { } window ? $"&level=none&freshness={window.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s" : "");
        var id = Recorder.NextId();
        var start = Recorder.Now;
        var answer = await client.PostAsync("/db/query", query, ReadJson(key), idempotencyKey: null);
        var ok = TryReadList(answer.Body, out var values) && answer.Status == 200;
        Recorder.Add(new HistoryOperation
        {
            Id = id,
            Client = client.Name,
            Kind = OperationKind.Read,
            Key = key,
            Freshness = freshness,
            Start = start,
            End = Recorder.Now,
            Outcome = ok ? OperationOutcome.Ok : answer.Status is null ? OperationOutcome.Unknown : OperationOutcome.Failed,
            Status = answer.Status,
            Values = ok ? values : null,
            Answer = Shorten(answer.Body),
        });
    }

    /// <summary>README's "Failure semantics", from the client's side.</summary>
    private static OperationOutcome AppendOutcome(HistoryAnswer answer) => answer switch
    {
        { Sent: false } => OperationOutcome.Failed,
        { Status: null } => OperationOutcome.Unknown,
        { Status: 200 } => WriteResult(answer.Body),
        { Status: 503 } when answer.Body.Contains(MayHaveCommitted, StringComparison.Ordinal) => OperationOutcome.Unknown,
        { Status: >= 400 and < 500 or 503 } => OperationOutcome.Failed,
        _ => OperationOutcome.Unknown,
    };

    private static OperationOutcome WriteResult(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var result = document.RootElement.GetProperty("results")[0];
            if (result.TryGetProperty("error", out _))
            {
                return OperationOutcome.Failed;
            }

            return result.TryGetProperty("rows_affected", out var rows) && rows.GetInt64() == 1 ? OperationOutcome.Ok : OperationOutcome.Unknown;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or IndexOutOfRangeException or InvalidOperationException)
        {
            return OperationOutcome.Unknown;
        }
    }

    private static bool TryReadList(string body, out IReadOnlyList<long> values)
    {
        values = [];
        try
        {
            using var document = JsonDocument.Parse(body);
            var result = document.RootElement.GetProperty("results")[0];
            if (result.TryGetProperty("error", out _))
            {
                return false;
            }

            values = result.TryGetProperty("values", out var rows) ? rows.EnumerateArray().Select(row => row[0].GetInt64()).ToList() : [];
            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or IndexOutOfRangeException or InvalidOperationException)
        {
            return false;
        }
    }

    private static string Shorten(string body)
    {
        var line = body.ReplaceLineEndings(" ").Trim();
        return line.Length > 200 ? line[..200] + "..." : line;
    }
}
