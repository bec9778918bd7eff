using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ServerlessDb.Domain;
using ServerlessDb.Protocol;

namespace ServerlessDb.Benchmarks;

/// <summary>Parsing request bodies and writing results: the per-request JSON cost.</summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    private byte[] _body = [];
    private RowsResult _rows = null!;

    [Params(1, 100)]
    public int Statements { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var statements = Enumerable.Range(0, Statements)
            .Select(i => new object[] { "INSERT INTO users(name, age, score) VALUES(?, ?, ?)", $"user-{i}", i, i * 0.5 });
        _body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(statements));
        _rows = new RowsResult(
            ["id", "name", "age", "score"],
            ["integer", "text", "integer", "real"],
            Enumerable.Range(0, Statements * 10).Select(i => new object?[] { (long)i, $"user-{i}", (long)(i % 90), i * 0.5 }).ToList());
    }

    [Benchmark]
    public int ParseParameterizedBody() => StatementParser.ParseJson(_body, 10_000).Count;

    /// <summary>Writing ten rows per statement count (10 or 1,000 rows).</summary>
    [Benchmark]
    public int WriteRows() => ResultsJsonWriter.Write([_rows], new ResponseFormat(false, false, false, false), null, 64 << 20).Length;

    [Benchmark]
    public int WriteRowsAssociative() => ResultsJsonWriter.Write([_rows], new ResponseFormat(true, false, false, false), null, 64 << 20).Length;
}
