using System.CommandLine;
using System.Diagnostics;
using System.Net;
using Cli.Api;
using Cli.Proxy;
using WebConsole;

namespace Cli.Commands;

/// <summary><c>serverlessdb proxy</c> (rqlite clients through a signing proxy) and <c>serverlessdb console</c> (the same, with the web console).</summary>
internal static class ProxyCommands
{
    public const int DefaultPort = 4001;

    private const string ExposeFlag = "--expose-unauthenticated";

    public static IEnumerable<Command> Create(CliOptions options, TextWriter output, TextWriter error, TimeProvider time)
    {
        yield return Create(options, output, error, time, console: false);
        yield return Create(options, output, error, time, console: true);
    }

    private static Command Create(CliOptions options, TextWriter output, TextWriter error, TimeProvider time, bool console)
    {
        var port = new Option<int>("--port") { Description = "TCP port to listen on (rqlite's is 4001); 0 picks a free one", DefaultValueFactory = _ => DefaultPort };
        var listen = new Option<string>("--listen") { Description = "IP address to listen on; only a loopback address unless " + ExposeFlag, DefaultValueFactory = _ => "127.0.0.1" };
        var expose = new Option<bool>(ExposeFlag)
        {
            Description = "Allow a non-loopback --listen address: anyone who can reach it reads and writes your databases with your AWS credentials, no questions asked",
        };
        var noOpen = new Option<bool>("--no-open") { Description = "Do not open a browser" };
        var command = console
            ? new Command("console", "Open the web console: a signing proxy with the console page at /console/ (SQL, databases, schema, version history)") { port, listen, expose, noOpen }
            : new Command("proxy", "Listen on 127.0.0.1:4001 and forward every request to the API, SigV4-signed, for rqlite clients that cannot sign") { port, listen, expose };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, options, output, error, time, cancellationToken, console, port, listen, expose, noOpen));
        return command;
    }

    private static async Task<int> RunAsync(
        ParseResult parsed, CliOptions options, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken,
        bool console, Option<int> port, Option<string> listen, Option<bool> expose, Option<bool> noOpen)
    {
        try
        {
            var text = parsed.GetValue(listen)!;
            if (!IPAddress.TryParse(text == "localhost" ? "127.0.0.1" : text, out var address))
            {
                throw new CliException(ExitCodes.Usage, $"--listen must be an IP address (such as 127.0.0.1); got '{text}'.");
            }

            if (!IPAddress.IsLoopback(address) && !parsed.GetValue(expose))
            {
                throw new CliException(
                    ExitCodes.Usage,
                    $"Refusing to listen on {address}: the proxy signs every request it forwards with your AWS credentials, so anyone who can reach " +
                    $"{address} could read and write your databases. Listen on 127.0.0.1, or pass {ExposeFlag} if that is what you want.");
            }

            var upstream = await CliContext.ResolveTargetAsync(parsed, options, cancellationToken);
            if (ApiTarget.IsLoopback(upstream.BaseUrl) && upstream.BaseUrl.Port == parsed.GetValue(port))
            {
                throw new CliException(
                    ExitCodes.Usage,
                    $"The {(console ? "console" : "proxy")} would forward to {upstream.BaseUrl}, where it listens itself: name the deployed API with --url or --stack " +
                    "(or SERVERLESSDB_URL), or pass another --port.");
            }

            await using var proxy = await SigningProxy.StartAsync(
                new ProxySettings(address, parsed.GetValue(port), upstream, ServeConsole: true), output, time, cancellationToken);
            var url = proxy.Url.ToString().TrimEnd('/');
            output.WriteLine($"serverlessdb {(console ? "console" : "proxy")} listening on {url}");
            output.WriteLine($"forwarding to {upstream.BaseUrl}{(upstream.Sign ? " (signed with SigV4 for execute-api)" : " (unsigned)")}");
            output.WriteLine($"console: {url}{ConsoleAssets.Root}/");
            output.WriteLine("Press Ctrl+C to stop.");
            output.Flush();
            if (console && !parsed.GetValue(noOpen) && !Console.IsOutputRedirected)
            {
                OpenBrowser($"{url}{ConsoleAssets.Root}/");
            }

            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: the way to stop.
            }

            output.WriteLine("Stopped.");
            return ExitCodes.Ok;
        }
        catch (CliException e)
        {
            error.WriteLine($"serverlessdb: {e.Message}");
            return e.ExitCode;
        }
    }

    private static void OpenBrowser(string url)
    {
        foreach (var opener in new[] { "xdg-open", "open" })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(opener, [url]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true });
                return;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not this one; the URL is printed either way.
            }
        }
    }
}
