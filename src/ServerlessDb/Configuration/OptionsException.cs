namespace ServerlessDb.Configuration;

/// <summary>The configuration is invalid; the message lists every problem, one per line.</summary>
public sealed class OptionsException(IReadOnlyList<string> problems)
    : Exception("Invalid ServerlessDb configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
