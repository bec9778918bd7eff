using System.Globalization;
using System.Text.RegularExpressions;
using ServerlessDb.Configuration;
using Row = ServerlessDb.UnitTests.Configuration.ReadmeConfiguration.Row;

namespace ServerlessDb.UnitTests.Configuration;

/// <summary>
/// README's configuration tables against the readers: every variable the code reads is documented and
/// every documented variable is read, and each default in README is the one the code uses.
/// </summary>
public sealed partial class ReadmeConfigurationTests
{
    // The staleness threshold's default follows the QueryRunner's timeout; any valid timeout will do.
    private const long QueryRunnerTimeoutSeconds = 30;

    private static readonly ReadmeConfiguration Readme = ReadmeConfiguration.Load();

    private static IReadOnlyList<Row> QueryRunnerTable => Readme.Tables[0];

    private static IReadOnlyList<Row> ReaperTable => Readme.Tables[1];

    private static Dictionary<string, string?> QueryRunnerReads => ByName(ServerlessDbOptions.Variables());

    private static Dictionary<string, string?> ReaperReads => ByName(ReaperOptions.Variables(new DictionaryEnvironment(new Dictionary<string, string?>
    {
        ["QUERY_RUNNER_TIMEOUT_SECONDS"] = QueryRunnerTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
    })));

    [Fact]
    public void The_QueryRunner_table_lists_exactly_the_variables_the_QueryRunner_reads() =>
        Assert.Equal(QueryRunnerReads.Keys.Order(), ByName(QueryRunnerTable).Keys.Order());

    [Fact]
    public void Each_default_in_the_QueryRunner_table_is_the_one_the_QueryRunner_uses()
    {
        var reads = QueryRunnerReads;

        var mismatches = ByName(QueryRunnerTable)
            .Where(v => reads.ContainsKey(v.Key) && Documented(v.Value.Default) != reads[v.Key])
            .Select(v => $"{v.Key}: README says '{v.Value.Default}', the code uses '{reads[v.Key] ?? "no default"}'");

        Assert.Empty(mismatches);
    }

    [Fact]
    public void README_names_exactly_the_variables_the_LockReaper_reads()
    {
        Assert.Contains("the endpoint variables as above", Readme.ReaperSentence, StringComparison.Ordinal);
        var endpointVariables = ByName(QueryRunnerTable).Keys.Where(n => n.StartsWith("AWS_ENDPOINT_URL", StringComparison.Ordinal));

        var documented = ReadmeConfiguration.NamesIn(Readme.ReaperSentence).Concat(endpointVariables).Concat(ByName(ReaperTable).Keys);

        Assert.Equal(ReaperReads.Keys.Order(), documented.Distinct().Order());
    }

    [Fact]
    public void Each_LockReaper_default_is_the_one_README_gives()
    {
        var reads = ReaperReads;
        var own = ByName(ReaperTable);
        var shared = ByName(QueryRunnerTable).Where(v => reads.ContainsKey(v.Key) && !own.ContainsKey(v.Key));

        var mismatches = own.Concat(shared)
            .Where(v => reads.ContainsKey(v.Key))
            .Select(v => (v.Key, v.Value.Default, Expected: v.Key == "LOCK_STALE_SECONDS" ? StaleDefault(v.Value.Default) : Documented(v.Value.Default)))
            .Where(v => v.Expected != reads[v.Key])
            .Select(v => $"{v.Key}: README says '{v.Default}', the code uses '{reads[v.Key] ?? "no default"}'");

        Assert.Empty(mismatches);
    }

    [Theory]
    [InlineData("required", null)]
    [InlineData("unset", null)]
    [InlineData("", null)]
    [InlineData("`25`", "25")]
    [InlineData("`268435456` (256 MiB)", "268435456")]
    [InlineData("`databases/`", "databases/")]
    public void A_default_cell_is_a_value_in_backticks_or_says_there_is_none(string cell, string? expected) =>
        Assert.Equal(expected, Documented(cell));

    /// <summary>The default a README cell gives: null for <c>required</c>, <c>unset</c> or an empty cell.</summary>
    private static string? Documented(string cell)
    {
        if (cell is "" or "required" or "unset")
        {
            return null;
        }

        var value = BacktickedValue().Match(cell);
        Assert.True(value.Success, $"README default '{cell}' is neither a `value` (with an optional note in parentheses), 'required', 'unset' nor empty.");

        // README documents Lambda's /tmp; the code uses the platform's temporary folder.
        var text = value.Groups[1].Value;
        return text.StartsWith("/tmp/", StringComparison.Ordinal) ? Path.Combine(Path.GetTempPath(), text["/tmp/".Length..]) : text;
    }

    /// <summary>LOCK_STALE_SECONDS's default is a sentence: the QueryRunner's timeout plus a margin in seconds.</summary>
    private static string StaleDefault(string cell)
    {
        var margin = TimeoutPlus().Match(cell);
        Assert.True(margin.Success, $"LOCK_STALE_SECONDS's default '{cell}' no longer reads 'that timeout plus N'.");
        return (QueryRunnerTimeoutSeconds + long.Parse(margin.Groups[1].Value, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, string?> ByName(IReadOnlyList<VariableDescriptor> variables)
    {
        Assert.Equal(variables.Select(v => v.Name).Distinct(), variables.Select(v => v.Name));
        return variables.ToDictionary(v => v.Name, v => v.Default);
    }

    private static Dictionary<string, Row> ByName(IReadOnlyList<Row> table) =>
        table.SelectMany(row => row.Names.Select(name => (name, row))).ToDictionary(v => v.name, v => v.row);

    [GeneratedRegex(@"\A`([^`]*)`( \([^)]*\))?\z")]
    private static partial Regex BacktickedValue();

    [GeneratedRegex(@"\Athat timeout plus (\d+)\b")]
    private static partial Regex TimeoutPlus();
}
