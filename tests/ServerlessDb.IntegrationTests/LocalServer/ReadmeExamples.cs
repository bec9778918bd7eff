using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>
/// The curl examples of README.md that run against <c>$URL</c> unsigned, in the order the page gives them, each
/// with the output the page shows for it: a comment line right after the command whose text is JSON.
/// </summary>
internal sealed partial record ReadmeExample(int Line, string Command, string? ExpectedJson)
{
    public override string ToString() => $"README.md line {Line}: {Command.Split('\n')[0]}";

    public static IReadOnlyList<ReadmeExample> ReadAll(string readme)
    {
        var examples = new List<ReadmeExample>();
        var lines = readme.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var inShell = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                inShell = !inShell && lines[i] == "```sh";
                continue;
            }

            if (!inShell || !lines[i].StartsWith("curl ", StringComparison.Ordinal))
            {
                continue;
            }

            var start = i;
            var command = new StringBuilder(lines[i]);
            while (!IsComplete(command.ToString()) && i + 1 < lines.Length)
            {
                command.Append('\n').Append(lines[++i]);
            }

            var text = command.ToString();
            if (!text.Contains("\"$URL", StringComparison.Ordinal) || text.Contains("${SIGN", StringComparison.Ordinal))
            {
                continue;
            }

            string? expected = null;
            if (i + 1 < lines.Length && ExpectedOutput().Match(lines[i + 1]) is { Success: true } output)
            {
                expected = output.Groups["json"].Value;
            }

            examples.Add(new ReadmeExample(start + 1, text, expected));
        }

        return examples;
    }

    /// <summary>True when the text ends outside quotes and not with a line continuation, as the shell reads it.</summary>
    private static bool IsComplete(string command)
    {
        char? quote = null;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (quote == '\'')
            {
                quote = c == '\'' ? null : quote;
            }
            else if (c == '\\')
            {
                i++;
            }
            else if (quote == '"')
            {
                quote = c == '"' ? null : quote;
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
        }

        return quote is null && !command.EndsWith('\\');
    }

    [GeneratedRegex(@"^# (?<json>[\[{].*)$")]
    private static partial Regex ExpectedOutput();
}
