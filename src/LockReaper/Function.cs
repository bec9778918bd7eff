using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Hosting;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Logging;
using ServerlessDb.Storage.Collection;

namespace LockReaper;

/// <summary>
/// The LockReaper Lambda entry point (handler <c>LockReaper::LockReaper.Function::HandleAsync</c>),
/// invoked by an EventBridge schedule: runs one pass of the <see cref="ILockReaper"/> LOCK_BACKEND names, then
/// (where DB_BUCKET is set and CHUNK_GC is on) one of the <see cref="IChunkCollector"/>, and returns their summary as JSON. Takes and returns raw streams, so the managed runtime needs no
/// Lambda serializer package.
/// </summary>
public sealed class Function
{
    private readonly Lazy<ReaperPass> _reaper;
    private readonly TimeProvider _time;
    private readonly ILogSink _log;

    /// <summary>Used by the Lambda runtime: reads the process environment, once per container.</summary>
    public Function()
        : this(ProcessEnvironment.Instance, TimeProvider.System, ConsoleLogSink.Instance)
    {
    }

    /// <summary>
    /// Builds the options, the EC2 or S3 client, the reaper and the chunk collector from <paramref name="environment"/> at the
    /// first invocation. Invalid configuration fails that invocation, and every later one, with the
    /// <see cref="OptionsException"/> listing each problem, so the schedule's failures say what to fix.
    /// </summary>
    /// <param name="time">the clock that judges staleness and signs the EC2 requests.</param>
    internal Function(IEnvironment environment, TimeProvider time, ILogSink log)
        : this(() => CompositionRoot.CreateReaperPass(environment, time, log), time, log)
    {
        ArgumentNullException.ThrowIfNull(environment);
    }

    /// <param name="createReaper">builds the reaper at the first invocation; what it throws fails every invocation.</param>
    /// <param name="time">stamps the log line of a failed invocation.</param>
    /// <param name="log">where a failed invocation is logged.</param>
    internal Function(Func<ILockReaper> createReaper, TimeProvider time, ILogSink log)
        : this(() => new ReaperPass(createReaper(), chunks: null), time, log)
    {
    }

    /// <param name="createPass">builds the lock reaper and the chunk collector at the first invocation; what it throws fails every invocation.</param>
    /// <param name="time">stamps the log line of a failed invocation.</param>
    /// <param name="log">where a failed invocation is logged.</param>
    internal Function(Func<ReaperPass> createPass, TimeProvider time, ILogSink log)
    {
        ArgumentNullException.ThrowIfNull(createPass);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(log);
        _reaper = new Lazy<ReaperPass>(createPass, LazyThreadSafetyMode.ExecutionAndPublication);
        _time = time;
        _log = log;
    }

    /// <summary>
    /// Runs one pass for a scheduled event (or an empty input or <c>{}</c>, as a manual invoke sends)
    /// and returns the <see cref="ReapSummary"/> as camel-case JSON, with the <see cref="ChunkCollectionSummary"/> as its
    /// <c>chunks</c> when the collector ran. Fails, so that Lambda's error metrics and retries see it, when the
    /// configuration is invalid, the input is not a JSON object, the locks (groups, leases) cannot be listed, or the
    /// chunk folders cannot be listed (after the other pass ran); a group that cannot be deleted only counts as
    /// failed, and a database whose chunks cannot be judged as skipped. A failed
    /// invocation is logged first, in the line <see cref="ErrorResponses"/> writes for every error answer.
    /// </summary>
    /// <exception cref="OptionsException">the configuration is invalid.</exception>
    /// <exception cref="InvalidEventException">the input is not a JSON object.</exception>
    /// <exception cref="Ec2Exception">listing the lock groups failed.</exception>
    /// <exception cref="Amazon.Runtime.AmazonServiceException">listing the chunk folders failed (the lease objects: the object backend's exception).</exception>
    /// <exception cref="AggregateException">both passes failed.</exception>
    public async Task<Stream> HandleAsync(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            var scheduled = await ScheduledEvent.ReadAsync(input, CancellationToken.None);
            var summary = await _reaper.Value.RunOnceAsync(scheduled.Id, CancellationToken.None);
            var output = new MemoryStream();
            await JsonSerializer.SerializeAsync(output, Answer(summary), ReaperJsonContext.Default.JsonNode);
            output.Position = 0;
            return output;
        }
        catch (Exception e)
        {
            ErrorResponses.Log(_log, _time, "lock reaper invocation failed", request: null, status: null, e);
            throw;
        }
    }

    // The lock summary's fields stay at the top, where schedules and alarms already read them; the chunks' join them.
    private static JsonNode Answer(ReaperPassSummary summary)
    {
        var answer = JsonSerializer.SerializeToNode(summary.Locks, ReaperJsonContext.Default.ReapSummary)!;
        if (summary.Chunks is { } chunks)
        {
            answer["chunks"] = JsonSerializer.SerializeToNode(chunks, ReaperJsonContext.Default.ChunkCollectionSummary);
        }

        return answer;
    }
}
