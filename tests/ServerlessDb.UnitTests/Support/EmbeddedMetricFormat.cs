using System.Text.Json.Nodes;
using ServerlessDb.Logging;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// Checks a log line against CloudWatch's Embedded Metric Format specification: an <c>_aws</c> object with a
/// millisecond <c>Timestamp</c> and <c>CloudWatchMetrics</c> directives, each with a namespace, dimension sets
/// of at most 30 keys that are string fields of the line, and at most 100 metrics, each with a number value
/// at the top level.
/// </summary>
public static class EmbeddedMetricFormat
{
    private static readonly HashSet<string> Units =
    [
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
        "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
        "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
        "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
    ];

    /// <summary>Parses <paramref name="line"/>, asserts it is valid EMF, and returns the line with its metric values by name and its dimension sets.</summary>
    public static (JsonObject Line, IReadOnlyDictionary<string, double> Values, IReadOnlyList<IReadOnlyList<string>> DimensionSets) Parse(string line)
    {
        var root = Assert.IsType<JsonObject>(JsonNode.Parse(line));
        var aws = Assert.IsType<JsonObject>(root["_aws"]);
        var timestamp = aws["Timestamp"]!.GetValue<long>();
        Assert.Equal(DateTimeOffset.Parse(root["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), timestamp);
        var directives = Assert.IsType<JsonArray>(aws["CloudWatchMetrics"]);
        var directive = Assert.IsType<JsonObject>(Assert.Single(directives));
        Assert.Equal(Metrics.Namespace, directive["Namespace"]!.GetValue<string>());
        Assert.InRange(directive["Namespace"]!.GetValue<string>().Length, 1, 255);

        var sets = new List<IReadOnlyList<string>>();
        foreach (var set in Assert.IsType<JsonArray>(directive["Dimensions"]))
        {
            var keys = Assert.IsType<JsonArray>(set).Select(k => k!.GetValue<string>()).ToList();
            Assert.True(keys.Count <= 30, $"{keys.Count} dimensions in one set");
            foreach (var key in keys)
            {
                Assert.False(string.IsNullOrEmpty(root[key]?.GetValue<string>()), $"dimension {key} is not a string field of {line}");
            }

            sets.Add(keys);
        }

        var metrics = Assert.IsType<JsonArray>(directive["Metrics"]);
        Assert.InRange(metrics.Count, 1, 100);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in metrics.Cast<JsonObject>())
        {
            var name = metric["Name"]!.GetValue<string>();
            Assert.InRange(name.Length, 1, 255);
            Assert.Contains(metric["Unit"]!.GetValue<string>(), Units);
            var value = Assert.IsType<JsonValue>(root[name], exactMatch: false);
            Assert.Equal(System.Text.Json.JsonValueKind.Number, value.GetValueKind());
            Assert.True(values.TryAdd(name, value.GetValue<double>()), $"metric {name} named twice");
        }

        return (root, values, sets);
    }
}
