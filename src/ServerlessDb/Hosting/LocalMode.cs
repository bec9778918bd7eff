using ServerlessDb.Api;

namespace ServerlessDb.Hosting;

/// <summary>
/// What <see cref="CompositionRoot.CreateLocalMode"/> built: the API handler, and one line each
/// saying where the databases live and how writers take turns, for the local server to print.
/// </summary>
public sealed record LocalMode(IApiHandler Handler, string Storage, string Lock);
