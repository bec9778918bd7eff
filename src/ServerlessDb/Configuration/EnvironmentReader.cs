using System.Globalization;

namespace ServerlessDb.Configuration;

/// <summary>
/// Reads typed values from an <see cref="IEnvironment"/>, collecting every problem instead of stopping
/// at the first, and every variable it was asked for with its default, so a test can hold the
/// documentation to what the code reads.
/// </summary>
internal sealed class EnvironmentReader(IEnvironment environment)
{
    private readonly List<string> _problems = [];
    private readonly List<VariableDescriptor> _variables = [];

    public IReadOnlyList<string> Problems => _problems;

    /// <summary>The variables asked for so far, in order, each with the default it was asked with.</summary>
    public IReadOnlyList<VariableDescriptor> Variables => _variables;

    public string? Optional(string name) => Get(name, defaultValue: null);

    public string Required(string name, string purpose)
    {
        var value = Get(name, defaultValue: null);
        if (value is null)
        {
            _problems.Add($"{name} is required: {purpose}.");
            return string.Empty;
        }

        return value;
    }

    public string Text(string name, string defaultValue) => Get(name, defaultValue) ?? defaultValue;

    public long Integer(string name, long defaultValue, long min, long max) =>
        Parse(name, Get(name, defaultValue.ToString(CultureInfo.InvariantCulture)), min, max) ?? defaultValue;

    /// <summary>A whole number without a default: null when unset, or when invalid (which is reported).</summary>
    public long? Integer(string name, long min, long max) => Parse(name, Get(name, defaultValue: null), min, max);

    public bool Boolean(string name, bool defaultValue)
    {
        var raw = Get(name, defaultValue ? "true" : "false");
        switch (raw?.ToLowerInvariant())
        {
            case null:
                return defaultValue;
            case "true" or "1" or "yes":
                return true;
            case "false" or "0" or "no":
                return false;
            default:
                _problems.Add($"{name} must be true or false; got '{raw}'.");
                return defaultValue;
        }
    }

    public TimeSpan Seconds(string name, long defaultSeconds, long min, long max) =>
        TimeSpan.FromSeconds(Integer(name, defaultSeconds, min, max));

    public Uri? Url(string name)
    {
        var raw = Get(name, defaultValue: null);
        if (raw is null)
        {
            return null;
        }

        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            _problems.Add($"{name} must be an absolute http or https URL; got '{raw}'.");
            return null;
        }

        return uri;
    }

    /// <summary><c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>, as the AWS SDKs read them; null when neither is set.</summary>
    public string? Region() => Optional("AWS_REGION") ?? Optional("AWS_DEFAULT_REGION");

    /// <summary>The SDKs' standard endpoint overrides: <c>AWS_ENDPOINT_URL</c>, <c>AWS_ENDPOINT_URL_S3</c>, <c>AWS_ENDPOINT_URL_EC2</c>.</summary>
    public AwsEndpoints Endpoints() =>
        new(Url("AWS_ENDPOINT_URL"), Url("AWS_ENDPOINT_URL_S3"), Url("AWS_ENDPOINT_URL_EC2"));

    public void Check(bool condition, string problem)
    {
        if (!condition)
        {
            _problems.Add(problem);
        }
    }

    public void ThrowIfInvalid()
    {
        if (_problems.Count > 0)
        {
            throw new OptionsException(_problems);
        }
    }

    private string? Get(string name, string? defaultValue)
    {
        _variables.Add(new VariableDescriptor(name, defaultValue));
        return environment.Get(name);
    }

    private long? Parse(string name, string? raw, long min, long max)
    {
        if (raw is null)
        {
            return null;
        }

        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            _problems.Add($"{name} must be a whole number from {min} to {max}; got '{raw}'.");
            return null;
        }

        return value;
    }
}

/// <summary>A variable a reader looks up, and the value it takes when unset, as README writes it.</summary>
/// <param name="Default">null when there is none: the variable is required, or unset means off.</param>
internal sealed record VariableDescriptor(string Name, string? Default);

/// <summary>The configuration is invalid; the message lists every problem, one per line.</summary>
public sealed class OptionsException(IReadOnlyList<string> problems)
    : Exception("Invalid ServerlessDb configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
