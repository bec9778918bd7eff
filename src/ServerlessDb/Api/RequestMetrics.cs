using ServerlessDb.Engine;
using ServerlessDb.Logging;

namespace ServerlessDb.Api;

/// <summary>The request line's metrics from what the engine recorded (see README, "Metrics and alarms").</summary>
internal static class RequestMetrics
{
    /// <summary>Phase latencies, then what a request moved and how it got its snapshots; write counts on writes only.</summary>
    public static LogLine AddTraceMetrics(this LogLine line, RequestTrace trace)
    {
        foreach (var (phase, milliseconds) in trace.PhaseMilliseconds)
        {
            line.Metric(Metrics.PhaseLatency(phase), MetricUnit.Milliseconds, milliseconds);
        }

        if (trace.Attempts > 0)
        {
            line.Metric(Metrics.WriteAttempts, MetricUnit.Count, trace.Attempts)
                .Metric(Metrics.WriteConflicts, MetricUnit.Count, trace.Conflicts);
        }

        return line.Metric(Metrics.BytesDownloaded, MetricUnit.Bytes, trace.BytesDownloaded)
            .Metric(Metrics.BytesUploaded, MetricUnit.Bytes, trace.BytesUploaded)
            .Metric(Metrics.CacheHits, MetricUnit.Count, trace.CacheHits)
            .Metric(Metrics.CacheRevalidations, MetricUnit.Count, trace.Revalidations)
            .Metric(Metrics.CacheDownloads, MetricUnit.Count, trace.Downloads)
            .Metric(Metrics.RangeReads, MetricUnit.Count, trace.RangeReads)
            .Metric(Metrics.BlockCacheHits, MetricUnit.Count, trace.BlockCacheHits);
    }
}
