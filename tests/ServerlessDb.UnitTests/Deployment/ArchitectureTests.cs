using System.Text.RegularExpressions;

using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Deployment;

/// <summary>
/// The arrows of docs/ARCHITECTURE.md against the code: its table "part | may use" is read from the page,
/// and every <c>using ServerlessDb...</c>, fully qualified name and qualified cref in src/ must follow it,
/// so the page cannot drift from the code and a new arrow is a decision someone writes down.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, IReadOnlySet<string>>> Allowed = new(ReadAllowedArrows);

    [Fact]
    public void Every_part_of_the_source_tree_is_in_the_table_and_every_row_names_a_real_folder()
    {
        var parts = SourceFiles().Select(f => f.Part).ToHashSet();

        Assert.Empty(parts.Except(Allowed.Value.Keys));
        Assert.Empty(Allowed.Value.Keys.Except(parts));
        Assert.Empty(Allowed.Value.Values.SelectMany(uses => uses).Except(parts));
    }

    [Fact]
    public void Every_reference_from_one_part_to_another_is_an_arrow_the_table_allows()
    {
        var forbidden = new List<string>();
        foreach (var (path, part, text) in SourceFiles())
        {
            foreach (var used in ReferencedParts(text).Where(used => used != part && !IsInside(part, used)))
            {
                if (!Allowed.Value[part].Contains(used))
                {
                    forbidden.Add($"{path}: {part} -> {used}");
                }
            }
        }

        Assert.True(forbidden.Count == 0, "arrows docs/ARCHITECTURE.md does not allow:\n" + string.Join("\n", forbidden));
    }

    [Fact]
    public void The_table_has_no_cycles()
    {
        var visiting = new HashSet<string>();
        var done = new HashSet<string>();
        foreach (var part in Allowed.Value.Keys)
        {
            Visit(part, []);
        }

        void Visit(string part, List<string> path)
        {
            if (done.Contains(part))
            {
                return;
            }

            Assert.True(visiting.Add(part), "cycle: " + string.Join(" -> ", path.Append(part)));
            foreach (var used in Allowed.Value[part])
            {
                Visit(used, [.. path, part]);
            }

            visiting.Remove(part);
            done.Add(part);
        }
    }

    // A backend folder sees its parent's port without an arrow: Storage/S3 uses Storage as C# lets it.
    private static bool IsInside(string part, string used) => part.StartsWith(used + "/", StringComparison.Ordinal);

    private static IEnumerable<string> ReferencedParts(string text)
    {
        foreach (Match match in UsingDirective().Matches(text))
        {
            yield return PartOf(match.Groups["ns"].Value);
        }

        foreach (Match match in QualifiedName().Matches(text))
        {
            yield return PartOf("ServerlessDb." + match.Groups["ns"].Value);
        }
    }

    /// <summary><c>ServerlessDb.Storage.S3</c> is the part <c>Storage/S3</c>; an entry point's folders are the entry point.</summary>
    private static string PartOf(string ns)
    {
        var segments = ns.Split('.');
        return segments[0] == "ServerlessDb" ? string.Join('/', segments.Skip(1)) : segments[0];
    }

    private static IEnumerable<(string Path, string Part, string Text)> SourceFiles()
    {
        var src = Path.Combine(Repository.Root(), "src");
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(src, file).Replace('\\', '/');
            if (relative.Split('/').Any(segment => segment is "bin" or "obj"))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            var ns = NamespaceDeclaration().Match(text);
            yield return (relative, ns.Success ? PartOf(ns.Groups["ns"].Value) : relative.Split('/')[0], text);
        }
    }

    private static IReadOnlyDictionary<string, IReadOnlySet<string>> ReadAllowedArrows()
    {
        var page = File.ReadAllLines(Path.Combine(Repository.Root(), "docs", "ARCHITECTURE.md"));
        var header = Array.FindIndex(page, line => line.Replace(" ", "", StringComparison.Ordinal) == "|part|mayuse|");
        Assert.True(header >= 0, "docs/ARCHITECTURE.md has no table with the header | part | may use |");
        var arrows = new Dictionary<string, IReadOnlySet<string>>();
        foreach (var row in page.Skip(header + 2).TakeWhile(line => line.StartsWith('|')))
        {
            var cells = row.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray();
            var uses = Backticked().Matches(cells[1]).Select(m => m.Groups[1].Value).ToHashSet();
            Assert.True(arrows.TryAdd(Backticked().Match(cells[0]).Groups[1].Value, uses), "a part has two rows: " + row);
        }

        return arrows;
    }

    [GeneratedRegex(@"^namespace (?<ns>[\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"^using (?<ns>ServerlessDb(?:\.[A-Z]\w*)*);", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    // ServerlessDb.Storage.S3.S3DatabaseStore in code, or cref="Errors.LockUnavailableException" in a comment.
    [GeneratedRegex(@"(?:(?<!(?:using|namespace) )\bServerlessDb\.|cref=""(?!ServerlessDb\.))(?<ns>(?:Api|Configuration|Domain|Engine|Errors|Hosting|Locking|Logging|Protocol|Resilience|Storage)(?:\.(?:Ec2|Local|LocalFolder|S3))?)\.[A-Z]")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();
}
