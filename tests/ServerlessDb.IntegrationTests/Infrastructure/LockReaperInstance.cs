using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ServerlessDb.Configuration;
using ServerlessDb.Logging;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// One LockReaper container: the real <see cref="LockReaper.Function"/> built from environment
/// variables as Lambda builds it, pointed at moto, invoked with the EventBridge sample scheduled event.
/// </summary>
public sealed class LockReaperInstance : ILogSink
{
    private static readonly TimeSpan ClockStep = TimeSpan.FromMilliseconds(50);

    private readonly ConcurrentQueue<string> _logLines = new();
    private readonly FakeTimeProvider? _fakeClock;

    /// <param name="clock">
    /// the reaper's clock; the system clock when null. A <see cref="FakeTimeProvider"/> moves with real time
    /// while the handler runs, so a backoff or retry window on it ends as it would on the system clock.
    /// </param>
    public LockReaperInstance(MotoServerFixture moto, string vpcId, IReadOnlyDictionary<string, string?>? overrides = null, TimeProvider? clock = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["LOCK_VPC_ID"] = vpcId,
            ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "900",
            ["AWS_ENDPOINT_URL"] = moto.EndpointUrl.ToString(),
            ["AWS_REGION"] = MotoServerFixture.Region,
        };
        foreach (var (name, value) in overrides ?? new Dictionary<string, string?>())
        {
            environment[name] = value;
        }

        _fakeClock = clock as FakeTimeProvider;
        Function = new LockReaper.Function(new DictionaryEnvironment(environment), clock ?? TimeProvider.System, this);
    }

    /// <summary>The example "Scheduled Event" of the EventBridge user guide, shared with the unit tests.</summary>
    public static string ScheduledEvent =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "LockReaper", "Events", "scheduled-event.json"));

    public LockReaper.Function Function { get; }

    public IReadOnlyList<string> LogLines => _logLines.ToArray();

    /// <summary>Invokes the handler with the scheduled event and returns the summary it answers.</summary>
    public async Task<JsonElement> InvokeAsync()
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(ScheduledEvent));
        var handling = Function.HandleAsync(input);
        while (_fakeClock is not null && !handling.IsCompleted)
        {
            await Task.WhenAny(handling, Task.Delay(ClockStep));
            _fakeClock.Advance(ClockStep);
        }

        await using var output = await handling;
        using var summary = await JsonDocument.ParseAsync(output);
        return summary.RootElement.Clone();
    }

    void ILogSink.Write(string jsonLine) => _logLines.Enqueue(jsonLine);
}
