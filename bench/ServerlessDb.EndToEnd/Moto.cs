using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Amazon.S3.Model;

namespace ServerlessDb.EndToEnd;

/// <summary>
/// moto_server on 127.0.0.1 and a free port, through tools/atomic_moto_server.py (copied beside this program), which makes
/// S3's conditional writes atomic as S3's are; with an S3 client and the aws CLI for the VPC.
/// </summary>
internal sealed class Moto : IDisposable
{
    private readonly ChildProcess _process;

    private Moto(ChildProcess process, Uri url)
    {
        _process = process;
        Url = url;
        S3 = new AmazonS3Client("testing", "testing", new AmazonS3Config { ServiceURL = url.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
    }

    public Uri Url { get; }

    public AmazonS3Client S3 { get; }

    /// <param name="environment">variables for moto_server (MOTO_S3_DEFAULT_KEY_BUFFER_SIZE, say: objects larger than it are kept in temporary files instead of memory).</param>
    public static async Task<Moto> StartAsync(IReadOnlyDictionary<string, string?>? environment = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var url = new Uri($"http://127.0.0.1:{port}");
        var process = ChildProcess.Start("python3", [Path.Combine(AppContext.BaseDirectory, "atomic_moto_server.py"), "-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], environment ?? new Dictionary<string, string?>());
        using var http = new HttpClient();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await http.GetAsync(url);
                return new Moto(process, url);
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(30) && !process.Process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>The CPU time moto_server has used so far: what serving a request cost it, by difference.</summary>
    public TimeSpan CpuTime() => _process.CpuTime();

    public async Task<string> CreateVpcAsync()
    {
        var info = new ProcessStartInfo("aws", ["--endpoint-url", Url.ToString(), "--region", "us-east-1", "ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", "--query", "Vpc.VpcId", "--output", "text"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in Backend.AwsEnvironment())
        {
            info.Environment[name] = value;
        }

        using var aws = Process.Start(info)!;
        var output = await aws.StandardOutput.ReadToEndAsync();
        var errors = await aws.StandardError.ReadToEndAsync();
        await aws.WaitForExitAsync();
        return aws.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"aws ec2 create-vpc failed: {errors}");
    }

    public async Task CreateBucketAsync(string bucket) => await S3.PutBucketAsync(bucket);

    public async Task UploadAsync(string bucket, string key, string file) =>
        await S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, FilePath = file });

    public async Task EmptyBucketAsync(string bucket)
    {
        var listed = await S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        foreach (var item in listed.S3Objects ?? [])
        {
            await S3.DeleteObjectAsync(bucket, item.Key);
        }
    }

    public void Dispose()
    {
        S3.Dispose();
        _process.Dispose();
    }
}
