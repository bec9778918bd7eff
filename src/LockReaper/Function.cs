using System.Text.Json;
using LockReaper.Events;
using ServerlessDb.Configuration;
using ServerlessDb.Hosting;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Logging;

namespace LockReaper;

/// <summary>
/// The LockReaper Lambda entry point (handler <c>LockReaper::LockReaper.Function::HandleAsync</c>),
/// invoked by an EventBridge schedule: runs one pass of the <see cref="StaleLockReaper"/> and
/// returns its summary as JSON. Takes and returns raw streams, so the managed runtime needs no
/// Lambda serializer package.
/// </summary>
public sealed class Function
{
    private readonly Lazy<StaleLockReaper> _reaper;

    /// <summary>Used by the Lambda runtime: reads the process environment, once per container.</summary>
    public Function()
        : this(ProcessEnvironment.Instance, TimeProvider.System, ConsoleLogSink.Instance)
    {
    }

    /// <summary>
    /// Builds the options, the EC2 client and the reaper from <paramref name="environment"/> at the
    /// first invocation. Invalid configuration fails that invocation, and every later one, with the
    /// <see cref="OptionsException"/> listing each problem, so the schedule's failures say what to fix.
    /// </summary>
    /// <param name="time">the clock that judges staleness and signs the EC2 requests.</param>
    public Function(IEnvironment environment, TimeProvider time, ILogSink log)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(log);
        _reaper = new Lazy<StaleLockReaper>(
            () => CompositionRoot.CreateLockReaper(environment, time, log),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public Function(StaleLockReaper reaper)
    {
        ArgumentNullException.ThrowIfNull(reaper);
        _reaper = new Lazy<StaleLockReaper>(reaper);
    }

    /// <summary>
    /// Runs one pass for a scheduled event (or an empty input or <c>{}</c>, as a manual invoke sends)
    /// and returns the <see cref="ReapSummary"/> as camel-case JSON. Fails, so that Lambda's error
    /// metrics and retries see it, when the configuration is invalid, the input is not a JSON object,
    /// or the lock groups cannot be listed; a group that cannot be deleted only counts as failed.
    /// </summary>
    /// <exception cref="OptionsException">the configuration is invalid.</exception>
    /// <exception cref="InvalidEventException">the input is not a JSON object.</exception>
    /// <exception cref="Ec2Exception">listing the lock groups failed.</exception>
    public async Task<Stream> HandleAsync(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var scheduled = await ScheduledEventReader.ReadAsync(input, CancellationToken.None);
        var summary = await _reaper.Value.ReapOnceAsync(scheduled.Id, CancellationToken.None);
        var output = new MemoryStream();
        await JsonSerializer.SerializeAsync(output, summary, ReaperJsonContext.Default.ReapSummary);
        output.Position = 0;
        return output;
    }
}
