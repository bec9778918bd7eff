using System.Runtime.CompilerServices;

namespace ServerlessDb.UnitTests.Support;

internal static class DummyAwsCredentials
{
    /// <summary>
    /// AWS SDK clients resolve the default credential chain (AWSSDK.EC2's as it is built, on the first EC2
    /// call). Every unit test runs with these dummy values instead: none can use a developer's real
    /// credentials, and none waits for the instance metadata service to answer.
    /// </summary>
    [ModuleInitializer]
    internal static void Set()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "unit-test-key-id");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "unit-test-secret");
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_PROFILE", null);
    }
}
