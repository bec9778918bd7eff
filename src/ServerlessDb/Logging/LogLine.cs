using System.Buffers;
using System.Text;
using System.Text.Json;

namespace ServerlessDb.Logging;

/// <summary>Builds one structured JSON log line: <c>{"time":..,"level":..,"message":.., ...fields}</c>.</summary>
public sealed class LogLine : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private readonly Utf8JsonWriter _json;

    public LogLine(TimeProvider time, string level, string message)
    {
        _json = new Utf8JsonWriter(_buffer);
        _json.WriteStartObject();
        _json.WriteString("time", time.GetUtcNow());
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

    public void WriteTo(ILogSink sink)
    {
        _json.WriteEndObject();
        _json.Flush();
        sink.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
    }

    public void Dispose() => _json.Dispose();
}
