using System.Runtime.CompilerServices;

namespace ServerlessDb.UnitTests.Support;

internal static class DummyAwsCredentials
{
    /// <summary>
    /// AWSSDK.EC2's client resolves the default credential chain when it is built, so composing a lock or a
    /// reaper does too. Every unit test runs with these dummy values instead: none can use a developer's real
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
