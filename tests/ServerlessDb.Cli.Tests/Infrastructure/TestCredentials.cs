namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>Made-up AWS credentials that only the stand-in for API Gateway knows; the secret has characters a careless signer would mangle.</summary>
public static class TestCredentials
{
    public const string AccessKey = "AKIDSERVERLESSDBTEST";
    public const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    public const string SessionToken = "FwoGZXIvYXdzEJr//////////session+token/for=tests";
    public const string Region = "eu-west-3";

    public static Dictionary<string, string?> Environment(string secretKey = SecretKey) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = secretKey,
        ["AWS_SESSION_TOKEN"] = SessionToken,
        ["AWS_REGION"] = Region,
    };
}
