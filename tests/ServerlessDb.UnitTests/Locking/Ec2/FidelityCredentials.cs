namespace ServerlessDb.UnitTests.Locking.Ec2;

internal static class FidelityCredentials
{
    public const string AccessKey = "AKIDEXAMPLE";
    public const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    public const string Token = "IQoJb3JpZ2luX2VjEXAMPLE/session+token==";
}
