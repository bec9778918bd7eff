using System.Net;
using Cli.Api;

namespace Cli.Proxy;

/// <summary>Where the proxy listens, where it forwards, and whether it serves the console.</summary>
internal sealed record ProxySettings(IPAddress Address, int Port, ApiTarget Upstream, bool ServeConsole);
