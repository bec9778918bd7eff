using System.CommandLine;
using ServerlessDb.Configuration;

namespace LocalServer;

/// <summary>The command line of the local server (<c>--help</c> lists it), on System.CommandLine.</summary>
internal static class LocalServerCommand
{
    private static readonly TimeSpan ProcessTerminationTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> InvokeAsync(string[] args, IEnvironment environment, TextWriter output, TextWriter error)
    {
        var host = new Option<string>("--host")
        {
            Description = "IP address to listen on (only this one); localhost means 127.0.0.1",
            DefaultValueFactory = _ => LocalServerSettings.DefaultHost,
        };
        var port = new Option<int>("--port")
        {
            Description = "TCP port (rqlite's is 4001); 0 picks a free one",
            DefaultValueFactory = _ => LocalServerSettings.DefaultPort,
        };
        port.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                result.AddError("--port must be from 0 to 65535.");
            }
        });
        var data = new Option<string>("--data")
        {
            Description = "Folder holding one NAME.sqlite file per database (created if missing)",
            DefaultValueFactory = _ => LocalServerSettings.DefaultDataDirectory,
        };
        var s3Endpoint = new Option<Uri?>("--s3-endpoint")
        {
            Description = "Store the databases in this S3 (moto_server, a local S3) instead of the folder; default AWS_ENDPOINT_URL",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                {
                    return uri;
                }

                result.AddError($"--s3-endpoint must be an absolute http or https URL; got '{text}'.");
                return null;
            },
        };
        var bucket = new Option<string?>("--bucket")
        {
            Description = "Bucket holding the databases, with S3 storage; default DB_BUCKET",
        };

        var root = new RootCommand(
            "ServerlessDb local server: the QueryRunner's rqlite-compatible HTTP API on this machine, with the databases " +
            "in a local folder (or an S3 endpoint). Other settings come from the environment variables the Lambda reads " +
            "(LOCK_WAIT_SECONDS, REQUEST_TIMEOUT_SECONDS, MAX_REQUEST_BYTES, ...; LOCK_VPC_ID with S3 for the security-group lock).")
        {
            host, port, data, s3Endpoint, bucket,
        };

        root.SetAction(async (parsed, cancellationToken) =>
        {
            var settings = new LocalServerSettings
            {
                Host = parsed.GetValue(host)!,
                Port = parsed.GetValue(port),
                DataDirectory = parsed.GetValue(data)!,
                S3Endpoint = parsed.GetValue(s3Endpoint),
                Bucket = parsed.GetValue(bucket),
            };
            return await ServeAsync(settings, environment, output, error, cancellationToken);
        });

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            ProcessTerminationTimeout = ProcessTerminationTimeout,
        };
        return await root.Parse(args).InvokeAsync(configuration);
    }

    private static async Task<int> ServeAsync(
        LocalServerSettings settings, IEnvironment environment, TextWriter output, TextWriter error, CancellationToken stop)
    {
        LocalServerApp server;
        try
        {
            server = await LocalServerApp.StartAsync(settings, environment, output, error, stop);
        }
        catch (LocalServerStartException e)
        {
            error.WriteLine(e.Message);
            return 1;
        }

        await using (server)
        {
            output.WriteLine("Press Ctrl+C to stop.");
            output.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: the way to stop.
            }

            output.WriteLine("Stopping.");
        }

        output.WriteLine("Stopped.");
        return 0;
    }
}
