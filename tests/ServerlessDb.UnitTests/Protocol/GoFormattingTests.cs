using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessDb.Domain;
using ServerlessDb.Protocol;

namespace ServerlessDb.UnitTests.Protocol;

/// <summary>Numbers, durations and /status as rqlite (Go) prints them.</summary>
public sealed class GoFormattingTests
{
    [Theory]
    [InlineData(2.29e-05, "0.0000229")]
    [InlineData(0.000041, "0.000041")]
    [InlineData(0.0021, "0.0021")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(9.99e-07, "9.99e-7")]
    [InlineData(1e-07, "1e-7")]
    [InlineData(1.5e-10, "1.5e-10")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(0.0, "0")]
    [InlineData(-0.0, "-0")]
    [InlineData(1.0, "1")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(123456789.123, "123456789.123")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(12345678901234567890.0, "12345678901234567000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(-1.5e21, "-1.5e+21")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    public void Floats_print_as_go_encoding_json_prints_them(double value, string expected) =>
        Assert.Equal(expected, GoJsonNumber.Format(value));

    [Property]
    public Property Every_finite_float_reads_back_exactly_and_uses_an_exponent_only_where_go_does() => Prop.ForAll(
        Gen.Choose(int.MinValue, int.MaxValue).Two().Select(p => BitConverter.Int64BitsToDouble(((long)p.Item1 << 32) | (uint)p.Item2)).Where(double.IsFinite).ToArbitrary(),
        value =>
        {
            var text = GoJsonNumber.Format(value);
            var exponent = Math.Abs(value) is not 0 and (< 1e-6 or >= 1e21);
            return double.Parse(text, CultureInfo.InvariantCulture).Equals(value)
                && text.Contains('e', StringComparison.Ordinal) == exponent
                && !text.Contains('E', StringComparison.Ordinal)
                && !text.Contains("e-0", StringComparison.Ordinal)
                && JsonDocument.Parse(text).RootElement.ValueKind == JsonValueKind.Number;
        });

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "100ns")]
    [InlineData(12_345L, "1.2345ms")]
    [InlineData(5_123_000L, "512.3ms")]
    [InlineData(10L, "1µs")]
    [InlineData(15L, "1.5µs")]
    [InlineData(10_000_000L, "1s")]
    [InlineData(600_000_000L, "1m0s")]
    [InlineData(2_327_000_000L, "3m52.7s")]
    [InlineData(36_000_000_000L, "1h0m0s")]
    [InlineData(37_234_567_890L, "1h2m3.456789s")]
    [InlineData(-15_000_000L, "-1.5s")]
    [InlineData(864_000_000_000L * 400, "9600h0m0s")]
    public void Durations_print_as_go_duration_string(long ticks, string expected) =>
        Assert.Equal(expected, GoDuration.Format(TimeSpan.FromTicks(ticks)));

    [Property]
    public Property A_printed_duration_parses_back() => Prop.ForAll(
        Gen.Choose(0, int.MaxValue).Select(i => TimeSpan.FromTicks(i * 977L)).ToArbitrary(),
        duration => GoDuration.TryParse(GoDuration.Format(duration), out var back) && back == duration);

    [Fact]
    public void Status_has_rqlites_fields_and_types_in_gos_key_order()
    {
        var started = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1_234_567);
        var process = new ProcessFacts("arm64", "linux", 2, 7, ".NET 10.0.0", 4242, "/var/task/bootstrap", "host-1", 4096);
        var status = StatusDocuments.Status("db.example.com", started, started + TimeSpan.FromSeconds(232.7), process);
        Assert.Equal(
            """{"build":{"service":"ServerlessDb","version":"v8.0.0"},"http":{"bind_addr":"db.example.com"},"node":{"current_time":"2024-05-06T07:12:01.8234567Z","start_time":"2024-05-06T07:08:09.1234567Z","uptime":"3m52.7s"},"os":{"executable":"/var/task/bootstrap","hostname":"host-1","page_size":4096,"pid":4242},"runtime":{"GOARCH":"arm64","GOMAXPROCS":2,"GOOS":"linux","num_cpu":2,"num_goroutine":7,"version":".NET 10.0.0"},"store":{"addr":"db.example.com","leader":{"addr":"db.example.com","node_id":"serverlessdb"},"node_id":"serverlessdb","raft":{"state":"Leader"},"ready":true}}""",
            status);
    }

    [Fact]
    public void Status_describes_this_process_under_gos_names()
    {
        using var status = JsonDocument.Parse(StatusDocuments.Status("a", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch));
        var runtime = status.RootElement.GetProperty("runtime");
        Assert.Equal(RuntimeInformation.ProcessArchitecture == Architecture.X64 ? "amd64" : "arm64", runtime.GetProperty("GOARCH").GetString());
        Assert.Equal(OperatingSystem.IsLinux() ? "linux" : "darwin", runtime.GetProperty("GOOS").GetString());
        Assert.Equal(Environment.ProcessorCount, runtime.GetProperty("num_cpu").GetInt32());
        Assert.Equal(Environment.ProcessId, status.RootElement.GetProperty("os").GetProperty("pid").GetInt32());
    }

    [Fact]
    public void A_start_time_with_an_offset_keeps_it_as_go_does() =>
        Assert.Contains("\"start_time\":\"2024-05-06T09:08:09+02:00\"", StatusDocuments.Status("a", new DateTimeOffset(2024, 5, 6, 9, 8, 9, TimeSpan.FromHours(2)), DateTimeOffset.UnixEpoch.AddYears(60)));
}
