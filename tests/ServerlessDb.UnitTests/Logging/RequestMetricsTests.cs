using ServerlessDb.Errors;
using ServerlessDb.Logging;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Logging;

/// <summary>The request log line is valid Embedded Metric Format, with the metrics README's "Metrics and alarms" names.</summary>
public sealed class RequestMetricsTests : IDisposable
{
    private readonly ApiHarness _api = new();

    public void Dispose() => _api.Dispose();

    private (System.Text.Json.Nodes.JsonObject Line, IReadOnlyDictionary<string, double> Values, IReadOnlyList<IReadOnlyList<string>> Sets) LastLine() =>
        EmbeddedMetricFormat.Parse(_api.Log.Lines.Last());

    [Fact]
    public async Task A_read_counts_one_2xx_request_by_route_with_its_phase_latencies_and_how_it_got_its_snapshot()
    {
        var response = await _api.SendAsync("POST", "/db/query", """["SELECT 1"]""");
        Assert.Equal(200, response.StatusCode);

        var (line, values, sets) = LastLine();
        Assert.Equal("read", line[Metrics.RouteDimension]!.GetValue<string>());
        Assert.Equal("2xx", line[Metrics.StatusClassDimension]!.GetValue<string>());
        Assert.Equal([[Metrics.RouteDimension, Metrics.StatusClassDimension], []], sets);
        Assert.Equal(1, values[Metrics.Requests]);
        Assert.Equal(0, values[Metrics.ServerErrors]);
        Assert.True(values[Metrics.TotalLatency] >= 0);
        Assert.Contains(Metrics.PhaseLatency("fetch"), values.Keys);
        Assert.Contains(Metrics.PhaseLatency("execute"), values.Keys);
        Assert.Equal(1, values[Metrics.CacheHits] + values[Metrics.CacheRevalidations] + values[Metrics.CacheDownloads]);
        Assert.Equal(0, values[Metrics.BytesUploaded]);
        Assert.DoesNotContain(Metrics.WriteAttempts, values.Keys);
    }

    [Fact]
    public async Task A_write_counts_its_attempts_conflicts_lock_wait_and_uploaded_bytes()
    {
        var conflicts = 1;
        _api.Store.BeforeCommit = _ =>
        {
            if (conflicts-- > 0)
            {
                throw new WriteConflictException("someone else committed first");
            }
        };

        var response = await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        Assert.Equal(200, response.StatusCode);

        var (line, values, _) = LastLine();
        Assert.Equal("write", line[Metrics.RouteDimension]!.GetValue<string>());
        Assert.Equal(2, values[Metrics.WriteAttempts]);
        Assert.Equal(1, values[Metrics.WriteConflicts]);
        Assert.Contains(Metrics.PhaseLatency("lock"), values.Keys);
        Assert.Contains(Metrics.PhaseLatency("upload"), values.Keys);
        Assert.True(values[Metrics.BytesUploaded] > 0);
        Assert.Equal(values[Metrics.WriteAttempts] + 1, values[Metrics.CacheHits] + values[Metrics.CacheRevalidations] + values[Metrics.CacheDownloads]);
    }

    [Fact]
    public async Task A_second_read_downloads_nothing_the_first_downloaded()
    {
        await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        await _api.SendAsync("POST", "/db/query", """["SELECT 1"]""");
        var (_, values, _) = LastLine();
        Assert.Equal(0, values[Metrics.BytesDownloaded]);
        Assert.Equal(0, values[Metrics.CacheDownloads]);
    }

    [Fact]
    public async Task A_bug_is_a_5xx_server_error_and_an_unknown_path_a_4xx_with_no_route()
    {
        _api.Store.BeforeCommit = _ => throw new InvalidOperationException("boom");
        Assert.Equal(500, (await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""")).StatusCode);
        var (bug, bugValues, _) = LastLine();
        Assert.Equal("5xx", bug[Metrics.StatusClassDimension]!.GetValue<string>());
        Assert.Equal(1, bugValues[Metrics.ServerErrors]);

        Assert.Equal(404, (await _api.SendAsync("GET", "/nowhere")).StatusCode);
        var (missing, missingValues, _) = LastLine();
        Assert.Equal(Metrics.NoRoute, missing[Metrics.RouteDimension]!.GetValue<string>());
        Assert.Equal("4xx", missing[Metrics.StatusClassDimension]!.GetValue<string>());
        Assert.Equal(1, missingValues[Metrics.Requests]);
        Assert.Equal(0, missingValues[Metrics.ServerErrors]);
    }

    [Fact]
    public void A_line_without_metrics_has_no_directive()
    {
        var sink = new RecordingLogSink();
        using (var line = new LogLine(TimeProvider.System, "info", "started"))
        {
            line.Add("a", 1).WriteTo(sink);
        }

        Assert.DoesNotContain("_aws", Assert.Single(sink.Lines));
    }

    [Fact]
    public void Phase_latency_names_are_the_phase_capitalised()
    {
        Assert.Equal("FetchLatency", Metrics.PhaseLatency("fetch"));
        Assert.Equal("5xx", Metrics.StatusClass(503));
    }
}
