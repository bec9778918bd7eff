using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Amazon.S3.Model;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// Runs moto_server on 127.0.0.1 and a free port for the tests of the "moto" collection, through our
/// launcher (tools/atomic_moto_server.py, copied beside the tests) that makes S3's conditional writes
/// atomic, as S3's are and moto 5.2's alone are not. It never skips: if python3, moto or the launcher is
/// missing, or the server does not answer, every test of the collection fails with a message saying why.
/// </summary>
public sealed class MotoServerFixture : IAsyncLifetime
{
    public const string AccessKeyId = "testing";
    public const string SecretAccessKey = "testing";
    public const string Region = "us-east-1";

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CliDeadline = TimeSpan.FromSeconds(60);
    private const int StartAttempts = 3;
    private const int OutputLinesKept = 50;

    /// <summary>The launcher's file name, beside the test binaries (the project copies it from tools/).</summary>
    public const string LauncherFileName = "atomic_moto_server.py";

    private readonly Queue<string> _output = new();
    private Process? _process;
    private AmazonS3Client? _s3;

    /// <summary>The base URL of the running moto_server, such as http://127.0.0.1:41234.</summary>
    public Uri EndpointUrl { get; private set; } = null!;

    /// <summary>An S3 client for moto: path-style addressing, credentials from the environment this fixture set.</summary>
    public IAmazonS3 S3 => _s3 ?? throw new InvalidOperationException("moto_server is not running.");

    public async Task InitializeAsync()
    {
        // Everything in this test process that uses the SDKs' default credential chain (the S3 client
        // below, and CompositionRoot in end-to-end tests) reads these: dummy values that moto accepts,
        // so no test can ever reach a real AWS account with a developer's credentials.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKeyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretAccessKey);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_REGION", Region);
        Environment.SetEnvironmentVariable("AWS_DEFAULT_REGION", Region);

        // The port is free when we look, but another process may take it before moto binds it: try again.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            EndpointUrl = new Uri($"http://127.0.0.1:{port}");
            StartProcess(port);
            if (await WaitUntilAnsweringAsync())
            {
                break;
            }

            int? exitCode = _process!.HasExited ? _process.ExitCode : null;
            await StopProcessAsync();
            if (exitCode is null || attempt == StartAttempts)
            {
                var what = exitCode is null
                    ? $"did not answer HTTP on {EndpointUrl} within {StartDeadline.TotalSeconds:0} s"
                    : $"exited with code {exitCode} before answering HTTP on {EndpointUrl} (attempt {attempt} of {StartAttempts})";
                throw new InvalidOperationException($"moto_server {what}. Its last output:{Environment.NewLine}{Output()}");
            }
        }

        AppDomain.CurrentDomain.ProcessExit += KillOnProcessExit;
        _s3 = new AmazonS3Client(new AmazonS3Config
        {
            ServiceURL = EndpointUrl.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = Region,
        });
    }

    public async Task DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillOnProcessExit;
        _s3?.Dispose();
        _s3 = null;
        await StopProcessAsync();
    }

    /// <summary>Creates a new bucket with a unique name in moto and returns its name.</summary>
    public async Task<string> CreateBucketAsync(CancellationToken cancellationToken = default)
    {
        var name = $"sdb-test-{Guid.NewGuid():N}";
        await S3.PutBucketAsync(new PutBucketRequest { BucketName = name }, cancellationToken);
        return name;
    }

    /// <summary>Creates a fresh bucket with versioning enabled, as the template deploys it, and returns its name.</summary>
    public async Task<string> CreateVersionedBucketAsync(CancellationToken cancellationToken = default)
    {
        var bucket = await CreateBucketAsync(cancellationToken);
        await S3.PutBucketVersioningAsync(
            new PutBucketVersioningRequest { BucketName = bucket, VersioningConfig = new S3BucketVersioningConfig { Status = VersionStatus.Enabled } },
            cancellationToken);
        return bucket;
    }

    /// <summary>
    /// Creates a VPC in moto through the EC2 API and returns its id (vpc-...), for the lock tests.
    /// Uses the aws CLI, so that the fixture does not depend on the EC2 client the tests check.
    /// </summary>
    public async Task<string> CreateVpcAsync(CancellationToken cancellationToken = default)
    {
        var output = await RunAwsCliAsync(
            ["ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", "--query", "Vpc.VpcId", "--output", "text"],
            cancellationToken);
        var vpcId = output.Trim();
        if (!vpcId.StartsWith("vpc-", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"aws ec2 create-vpc answered '{vpcId}', not a VPC id.");
        }

        return vpcId;
    }

    /// <summary>Runs the aws CLI against moto, with the dummy credentials and no user configuration; returns its stdout.</summary>
    public async Task<string> RunAwsCliAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo("aws")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("--endpoint-url");
        startInfo.ArgumentList.Add(EndpointUrl.ToString());
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["AWS_ACCESS_KEY_ID"] = AccessKeyId;
        startInfo.Environment["AWS_SECRET_ACCESS_KEY"] = SecretAccessKey;
        startInfo.Environment["AWS_DEFAULT_REGION"] = Region;
        startInfo.Environment["AWS_REGION"] = Region;
        startInfo.Environment["AWS_CONFIG_FILE"] = "/dev/null";
        startInfo.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
        startInfo.Environment["AWS_PAGER"] = "";
        startInfo.Environment.Remove("AWS_SESSION_TOKEN");
        startInfo.Environment.Remove("AWS_PROFILE");

        using var process = StartOrExplain(startInfo, "the aws CLI ('aws')");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CliDeadline);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"aws {string.Join(' ', arguments)} did not finish within {CliDeadline.TotalSeconds:0} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"aws {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {await stderr}");
        }

        return await stdout;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process StartOrExplain(ProcessStartInfo startInfo, string what)
    {
        try
        {
            return Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {what}.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"Could not start {what}: {e.Message}. The integration tests need it on PATH " +
                "(python3 with moto: `pip install \"moto[server]\"`; aws: `pip install awscli`).", e);
        }
    }

    private void StartProcess(int port)
    {
        var launcher = Path.Combine(AppContext.BaseDirectory, LauncherFileName);
        if (!File.Exists(launcher))
        {
            throw new InvalidOperationException($"The moto launcher {launcher} is missing: the test project copies it from tools/{LauncherFileName}.");
        }

        var startInfo = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { launcher, "-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture) })
        {
            startInfo.ArgumentList.Add(argument);
        }

        lock (_output)
        {
            _output.Clear();
        }

        _process = StartOrExplain(startInfo, $"moto_server through {LauncherFileName} ('python3')");
        // moto logs every request; the pipes must be drained or it blocks once they fill.
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private async Task<bool> WaitUntilAnsweringAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartDeadline && !_process!.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(EndpointUrl);
                return true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet: ask again until the deadline.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        return false;
    }

    private async Task StopProcessAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                // The moto_server on PATH may be a shim script whose child is the real server: kill the tree.
                process.Kill(entireProcessTree: true);
            }

            using var deadline = new CancellationTokenSource(StopDeadline);
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"moto_server (pid {process.Id}) did not exit within {StopDeadline.TotalSeconds:0} s of being killed.");
        }
        finally
        {
            process.Dispose();
        }
    }

    private void KillOnProcessExit(object? sender, EventArgs e)
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > OutputLinesKept)
            {
                _output.Dequeue();
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.Count == 0 ? "(nothing)" : string.Join(Environment.NewLine, _output);
        }
    }
}
