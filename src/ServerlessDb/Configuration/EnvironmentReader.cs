using System.Globalization;

namespace ServerlessDb.Configuration;

/// <summary>Reads typed values from an <see cref="IEnvironment"/>, collecting every problem instead of stopping at the first.</summary>
internal sealed class EnvironmentReader(IEnvironment environment)
{
    private readonly List<string> _problems = [];

    public IReadOnlyList<string> Problems => _problems;

    public string? Optional(string name) => environment.Get(name);

    public string Required(string name, string purpose)
    {
        var value = environment.Get(name);
        if (value is null)
        {
            _problems.Add($"{name} is required: {purpose}.");
            return string.Empty;
        }

        return value;
    }

    public string Text(string name, string defaultValue) => environment.Get(name) ?? defaultValue;

    public long Integer(string name, long defaultValue, long min, long max)
    {
        var raw = environment.Get(name);
        if (raw is null)
        {
            return defaultValue;
        }

        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            _problems.Add($"{name} must be a whole number from {min} to {max}; got '{raw}'.");
            return defaultValue;
        }

        return value;
    }

    public bool Boolean(string name, bool defaultValue)
    {
        var raw = environment.Get(name);
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
        var raw = environment.Get(name);
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
}
