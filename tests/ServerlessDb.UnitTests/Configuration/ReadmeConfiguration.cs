using System.Text.RegularExpressions;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Configuration;

/// <summary>
/// README.md's "## Configuration" section as data: its two tables (name | meaning | default), one row
/// per variable, and the sentence before the second table that names what the LockReaper shares with
/// the QueryRunner.
/// </summary>
internal sealed partial class ReadmeConfiguration
{
    private ReadmeConfiguration(IReadOnlyList<IReadOnlyList<Row>> tables, string reaperSentence)
    {
        Tables = tables;
        ReaperSentence = reaperSentence;
    }

    /// <summary>The tables in order: the QueryRunner's, then the variables only the LockReaper reads.</summary>
    public IReadOnlyList<IReadOnlyList<Row>> Tables { get; }

    /// <summary>The paragraph that introduces the LockReaper's table.</summary>
    public string ReaperSentence { get; }

    public static ReadmeConfiguration Load()
    {
        var lines = File.ReadAllLines(RepositoryRoot.PathOf("README.md"));
        var start = Array.IndexOf(lines, "## Configuration");
        Assert.True(start >= 0, "README.md has no '## Configuration' section.");
        var section = lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)).ToList();

        List<IReadOnlyList<Row>> tables = [];
        List<Row>? table = null;
        string? reaperSentence = null;
        string? lastParagraph = null;
        foreach (var line in section)
        {
            if (!line.StartsWith('|'))
            {
                table = null;
                if (line.Length > 0)
                {
                    lastParagraph = line;
                }

                continue;
            }

            if (table is null)
            {
                // A new table: its header row; the separator row follows.
                Assert.Equal("| name | meaning | default |", line);
                table = [];
                tables.Add(table);
                reaperSentence = tables.Count == 2 ? lastParagraph : reaperSentence;
                continue;
            }

            if (!line.StartsWith("| ---", StringComparison.Ordinal))
            {
                table.Add(ParseRow(line));
            }
        }

        Assert.Equal(2, tables.Count);
        return new ReadmeConfiguration(tables, reaperSentence ?? throw new Xunit.Sdk.XunitException("no paragraph before the LockReaper's table."));
    }

    /// <summary>Every variable name written in backticks in <paramref name="text"/>.</summary>
    public static IEnumerable<string> NamesIn(string text) => VariableName().Matches(text).Select(m => m.Groups[1].Value);

    private static Row ParseRow(string line)
    {
        // | names | meaning | default | : the meaning may hold anything, so the ends decide.
        var cells = line.Trim().Trim('|');
        var names = cells[..cells.IndexOf('|')];
        var defaultCell = cells[(cells.LastIndexOf('|') + 1)..].Trim();
        return new Row([.. NamesIn(names)], defaultCell);
    }

    /// <summary>One row of a configuration table: the variables it names and its default cell as written.</summary>
    public sealed record Row(IReadOnlyList<string> Names, string Default);

    [GeneratedRegex("`([A-Z][A-Z0-9_]*)`")]
    private static partial Regex VariableName();
}
