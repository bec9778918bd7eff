using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>A warm QueryRunner container (the real handler, API Gateway event JSON in and out), one invocation at a time as Lambda runs it.</summary>
public sealed class LambdaHistoryClient(string name, QueryRunnerInstance container) : IHistoryClient, IDisposable
{
    private static readonly TimeSpan InvocationDeadline = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public string Name { get; } = name;

    /// <summary>The commits this container made in place (a write that read its pages by range: <c>RangeReads</c> on a committed write's line).</summary>
    public int CommitsInPlace => container.LogLines.Count(line =>
    {
        if (!line.Contains("\"RangeReads\"", StringComparison.Ordinal))
        {
            return false;
        }

        using var document = System.Text.Json.JsonDocument.Parse(line);
        var root = document.RootElement;
        return root.TryGetProperty("route", out var route) && route.GetString() == "write"
            && root.TryGetProperty("committed", out var committed) && committed.GetBoolean()
            && root.GetProperty("RangeReads").GetInt64() > 0;
    });

    public async Task<HistoryAnswer> PostAsync(string path, string query, string body, string? idempotencyKey)
    {
        await _oneAtATime.WaitAsync();
        try
        {
            var headers = idempotencyKey is null ? null : new Dictionary<string, string> { ["idempotency-key"] = idempotencyKey };
            var answer = await container.PostAsync(path, body, query, headers: headers).WaitAsync(InvocationDeadline);
            return new HistoryAnswer(answer.StatusCode, answer.Body);
        }
        catch (TimeoutException)
        {
            // The invocation runs on and may still commit: its outcome is unknown.
            return new HistoryAnswer(null, $"no answer within {InvocationDeadline.TotalSeconds:0} s");
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose()
    {
        container.Dispose();
        _oneAtATime.Dispose();
    }
}
