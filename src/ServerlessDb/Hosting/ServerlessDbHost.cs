using ServerlessDb.Api;
using ServerlessDb.Configuration;

namespace ServerlessDb.Hosting;

/// <summary>
/// The composition root: builds the API handler and its clients from the environment, once per
/// process (a Lambda container, the local server, a test).
/// </summary>
public static class ServerlessDbHost
{
    public static IApiHandler CreateApiHandler(IEnvironment environment) =>
        throw new NotImplementedException("composition root is being written on main");
}
