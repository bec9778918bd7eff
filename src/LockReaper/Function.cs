using System.Text.Json;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Hosting;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Logging;

namespace LockReaper;

/// <summary>
/// The LockReaper Lambda entry point (handler <c>LockReaper::LockReaper.Function::HandleAsync</c>),
/// invoked by an EventBridge schedule: runs one pass of the <see cref="ILockReaper"/> LOCK_BACKEND names and
/// returns its summary as JSON. Takes and returns raw streams, so the managed runtime needs no
/// Lambda serializer package.
/// </summary>
public sealed class Function
{
    private readonly Lazy<ILockReaper> _reaper;
    private readonly TimeProvider _time;
    private readonly ILogSink _log;

    /// <summary>Used by the Lambda runtime: reads the process environment, once per container.</summary>
    public Function()
        : this(ProcessEnvironment.Instance, TimeProvider.System, ConsoleLogSink.Instance)
    {
    }

    /// <summary>
    /// Builds the options, the EC2 or S3 client and the reaper from <paramref name="environment"/> at the
    /// first invocation. Invalid configuration fails that invocation, and every later one, with the
    /// <see cref="OptionsException"/> listing each problem, so the schedule's failures say what to fix.
    /// </summary>
    /// <param name="time">the clock that judges staleness and signs the EC2 requests.</param>
    internal Function(IEnvironment environment, TimeProvider time, ILogSink log)
        : this(() => CompositionRoot.CreateLockReaper(environment, time, log), time, log)
    {
        ArgumentNullException.ThrowIfNull(environment);
    }

    /// <param name="createReaper">builds the reaper at the first invocation; what it throws fails every invocation.</param>
    /// <param name="time">stamps the log line of a failed invocation.</param>
    /// <param name="log">where a failed invocation is logged.</param>
    internal Function(Func<ILockReaper> createReaper, TimeProvider time, ILogSink log)
    {
        ArgumentNullException.ThrowIfNull(createReaper);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(log);
        _reaper = new Lazy<ILockReaper>(createReaper, LazyThreadSafetyMode.ExecutionAndPublication);
        _time = time;
        _log = log;
    }

    /// <summary>
    /// Runs one pass for a scheduled event (or an empty input or <c>{}</c>, as a manual invoke sends)
    /// and returns the <see cref="ReapSummary"/> as camel-case JSON. Fails, so that Lambda's error
    /// metrics and retries see it, when the configuration is invalid, the input is not a JSON object,
    /// or the locks (groups, leases) cannot be listed; a group that cannot be deleted only counts as failed. A failed
    /// invocation is logged first, in the line <see cref="ErrorResponses"/> writes for every error answer.
    /// </summary>
    /// <exception cref="OptionsException">the configuration is invalid.</exception>
    /// <exception cref="InvalidEventException">the input is not a JSON object.</exception>
    /// <exception cref="Ec2Exception">listing the lock groups failed.</exception>
    /// <exception cref="Amazon.Runtime.AmazonServiceException">listing the lease objects failed.</exception>
    public async Task<Stream> HandleAsync(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            var scheduled = await ScheduledEvent.ReadAsync(input, CancellationToken.None);
            var summary = await _reaper.Value.ReapOnceAsync(scheduled.Id, CancellationToken.None);
            var output = new MemoryStream();
            await JsonSerializer.SerializeAsync(output, summary, ReaperJsonContext.Default.ReapSummary);
            output.Position = 0;
            return output;
        }
        catch (Exception e)
        {
            ErrorResponses.Log(_log, _time, "lock reaper invocation failed", request: null, status: null, e);
            throw;
        }
    }
}
