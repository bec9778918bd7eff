using System.Buffers;
using System.Text;
using System.Text.Json;

namespace ServerlessDb.Logging;

/// <summary>
/// Builds one structured JSON log line: <c>{"time":..,"level":..,"message":.., ...fields}</c>. A line given
/// metrics also carries them in CloudWatch Embedded Metric Format: an <c>_aws</c> directive in the
/// <see cref="Metrics.Namespace"/> naming the line's dimensions and metrics, whose values are top-level
/// fields, so CloudWatch Logs turns the line into metrics with no agent. Each metric is published once per
/// the line's dimensions and once with none, so an alarm can watch a total.
/// </summary>
public sealed class LogLine : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private readonly Utf8JsonWriter _json;
    private readonly DateTimeOffset _time;
    private readonly List<KeyValuePair<string, string>> _dimensions = [];
    private readonly List<(string Name, MetricUnit Unit, double Value)> _metrics = [];

    public LogLine(TimeProvider time, string level, string message)
    {
        _time = time.GetUtcNow();
        _json = new Utf8JsonWriter(_buffer);
        _json.WriteStartObject();
        _json.WriteString("time", _time);
        _json.WriteString("level", level);
        _json.WriteString("message", message);
    }

    public LogLine Add(string name, string? value)
    {
        if (value is not null)
        {
            _json.WriteString(name, value);
        }

        return this;
    }

    public LogLine Add(string name, long value)
    {
        _json.WriteNumber(name, value);
        return this;
    }

    public LogLine Add(string name, bool value)
    {
        _json.WriteBoolean(name, value);
        return this;
    }

    public LogLine Add(string name, IReadOnlyList<string> values)
    {
        _json.WriteStartArray(name);
        foreach (var value in values)
        {
            _json.WriteStringValue(value);
        }

        _json.WriteEndArray();
        return this;
    }

    public LogLine Add(string name, IReadOnlyDictionary<string, double> milliseconds)
    {
        _json.WriteStartObject(name);
        foreach (var (key, value) in milliseconds)
        {
            _json.WriteNumber(key, Math.Round(value, 3));
        }

        _json.WriteEndObject();
        return this;
    }

    public LogLine Add(string name, Exception? exception)
    {
        if (exception is not null)
        {
            _json.WriteString(name, exception.ToString());
        }

        return this;
    }

    /// <summary>Sets a metric dimension of the line (written as a top-level string field), replacing an earlier value in its place.</summary>
    public LogLine Dimension(string name, string value)
    {
        var at = _dimensions.FindIndex(d => d.Key == name);
        if (at >= 0)
        {
            _dimensions[at] = new(name, value);
        }
        else
        {
            _dimensions.Add(new(name, value));
        }

        return this;
    }

    /// <summary>Adds a metric (written as a top-level number field), replacing an earlier value of the same name.</summary>
    public LogLine Metric(string name, MetricUnit unit, double value)
    {
        _metrics.RemoveAll(m => m.Name == name);
        _metrics.Add((name, unit, value));
        return this;
    }

    public void WriteTo(ILogSink sink)
    {
        WriteMetrics();
        _json.WriteEndObject();
        _json.Flush();
        sink.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
    }

    public void Dispose() => _json.Dispose();

    private void WriteMetrics()
    {
        if (_metrics.Count == 0)
        {
            return;
        }

        foreach (var (name, value) in _dimensions)
        {
            _json.WriteString(name, value);
        }

        foreach (var (name, _, value) in _metrics)
        {
            _json.WriteNumber(name, Math.Round(value, 3));
        }

        _json.WriteStartObject("_aws");
        _json.WriteNumber("Timestamp", _time.ToUnixTimeMilliseconds());
        _json.WriteStartArray("CloudWatchMetrics");
        _json.WriteStartObject();
        _json.WriteString("Namespace", Metrics.Namespace);
        _json.WriteStartArray("Dimensions");
        _json.WriteStartArray();
        foreach (var (name, _) in _dimensions)
        {
            _json.WriteStringValue(name);
        }

        _json.WriteEndArray();
        if (_dimensions.Count > 0)
        {
            _json.WriteStartArray();
            _json.WriteEndArray();
        }

        _json.WriteEndArray();
        _json.WriteStartArray("Metrics");
        foreach (var (name, unit, _) in _metrics)
        {
            _json.WriteStartObject();
            _json.WriteString("Name", name);
            _json.WriteString("Unit", unit.ToString());
            _json.WriteEndObject();
        }

        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.WriteEndArray();
        _json.WriteEndObject();
    }
}
