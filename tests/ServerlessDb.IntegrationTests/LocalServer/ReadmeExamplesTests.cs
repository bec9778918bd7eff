using System.Text.Json;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>
/// README.md's curl examples, run in the page's order with bash and curl against one fresh local server: each
/// must answer the JSON the page shows for it. Values that differ from run to run (timings, times) are
/// compared by kind only.
/// </summary>
public sealed class ReadmeExamplesTests
{
    private static readonly HashSet<string> VaryingKeys = new(StringComparer.Ordinal) { "time", "last_modified", "current_time", "start_time", "uptime", "size" };
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(30);

    private static string ReadmePath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var readme = Path.Combine(directory.FullName, "README.md");
            if (File.Exists(readme) && File.Exists(Path.Combine(directory.FullName, "ServerlessDb.sln")))
            {
                return readme;
            }
        }

        throw new Xunit.Sdk.XunitException($"no directory above {AppContext.BaseDirectory} holds README.md and ServerlessDb.sln.");
    }

    [Fact]
    public void The_readme_has_examples_with_outputs_to_check()
    {
        var examples = ReadmeExample.ReadAll(File.ReadAllText(ReadmePath()));
        Assert.True(examples.Count(e => e.ExpectedJson is not null) >= 5, string.Join("\n", examples));
    }

    [Fact]
    public void A_multi_line_command_is_read_whole_and_signed_or_foreign_commands_are_left_out()
    {
        const string page = "```sh\ncurl -s -XPOST \"$URL/db/execute\" -d '[\n  \"CREATE TABLE t (a)\"\n]'\n# {\"results\":[{}]}\n" +
            "curl -s \"${SIGN[@]}\" \"$URL/status\"\n# {}\ncurl -s http://example.com\n```\n```json\ncurl -s \"$URL/x\"\n```\n";

        var example = Assert.Single(ReadmeExample.ReadAll(page));

        Assert.Equal("curl -s -XPOST \"$URL/db/execute\" -d '[\n  \"CREATE TABLE t (a)\"\n]'", example.Command);
        Assert.Equal("{\"results\":[{}]}", example.ExpectedJson);
        Assert.Equal(2, example.Line);
    }

    [Theory]
    [InlineData("""{"a":1,"time":0.5}""", """{"a":1,"time":0.0001}""", true)]
    [InlineData("""{"a":1}""", """{"a":2}""", false)]
    [InlineData("""{"a":1,"b":2}""", """{"b":2,"a":1}""", false)]
    [InlineData("""{"time":"x"}""", """{"time":1}""", false)]
    [InlineData("""[1,2]""", """[1,2,3]""", false)]
    public void Outputs_match_exactly_except_the_values_of_varying_keys(string expected, string actual, bool match) =>
        Assert.Equal(match, Matches(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(actual).RootElement, key: null));

    [Fact]
    public async Task Every_example_answers_what_the_readme_shows()
    {
        var examples = ReadmeExample.ReadAll(await File.ReadAllTextAsync(ReadmePath()));
        await using var server = await LocalServerHandle.StartAsync();
        var workDirectory = Directory.CreateTempSubdirectory("serverlessdb-readme-").FullName;
        var failures = new List<string>();
        try
        {
            foreach (var example in examples)
            {
                string output, errors;
                int exitCode;
                try
                {
                    (exitCode, output, errors) = await RunAsync(example.Command, server.App.Url.ToString().TrimEnd('/'), workDirectory);
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    failures.Add($"{example}\n  {e.Message}");
                    continue;
                }

                if (exitCode != 0)
                {
                    failures.Add($"{example}\n  exit {exitCode}: {errors}");
                }
                else if (example.ExpectedJson is { } expected && !Matches(expected, output))
                {
                    failures.Add($"{example}\n  README: {expected}\n  answer: {output.Trim()}");
                }
            }
        }
        finally
        {
            Directory.Delete(workDirectory, recursive: true);
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static bool Matches(string expected, string actual)
    {
        try
        {
            using var want = JsonDocument.Parse(expected);
            using var got = JsonDocument.Parse(actual);
            return Matches(want.RootElement, got.RootElement, key: null);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool Matches(JsonElement expected, JsonElement actual, string? key)
    {
        if (expected.ValueKind != actual.ValueKind)
        {
            return false;
        }

        if (key is not null && VaryingKeys.Contains(key))
        {
            return true;
        }

        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var wanted = expected.EnumerateObject().ToList();
                var got = actual.EnumerateObject().ToList();
                return wanted.Count == got.Count
                    && wanted.Zip(got).All(pair => pair.First.Name == pair.Second.Name && Matches(pair.First.Value, pair.Second.Value, pair.First.Name));
            case JsonValueKind.Array:
                return expected.GetArrayLength() == actual.GetArrayLength()
                    && expected.EnumerateArray().Zip(actual.EnumerateArray()).All(pair => Matches(pair.First, pair.Second, key: null));
            default:
                return expected.GetRawText() == actual.GetRawText();
        }
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string command, string url, string workDirectory) =>
        ExternalTool.RunAsync("bash", ["-c", command], CommandDeadline, "bash and curl on PATH", new Dictionary<string, string> { ["URL"] = url }, workDirectory);
}
