using System.Net.Http.Headers;
using System.Security.Cryptography;
using Cli.Output;

namespace Cli.Api;

/// <summary>A request body the tool can hash before sending (SigV4 signs the payload's SHA-256): bytes in memory, or a file streamed from disk.</summary>
internal abstract class RequestBody
{
    public abstract string ContentType { get; }

    public abstract long Length { get; }

    public abstract Task<string> Sha256Async(CancellationToken cancellationToken);

    public abstract HttpContent CreateContent(Progress? progress);

    public static RequestBody FromBytes(byte[] bytes, string contentType) => new BytesBody(bytes, contentType);

    public static RequestBody FromFile(string path, string contentType) => new FileBody(path, contentType);

    private sealed class BytesBody(byte[] bytes, string contentType) : RequestBody
    {
        public override string ContentType => contentType;

        public override long Length => bytes.Length;

        public override Task<string> Sha256Async(CancellationToken cancellationToken) =>
            Task.FromResult(Convert.ToHexStringLower(SHA256.HashData(bytes)));

        public override HttpContent CreateContent(Progress? progress)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            return content;
        }
    }

    private sealed class FileBody(string path, string contentType) : RequestBody
    {
        public override string ContentType => contentType;

        public override long Length => new FileInfo(path).Length;

        public override async Task<string> Sha256Async(CancellationToken cancellationToken)
        {
            await using var file = File.OpenRead(path);
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        }

        public override HttpContent CreateContent(Progress? progress)
        {
            Stream file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.SequentialScan);
            var content = new StreamContent(progress is null ? file : new ProgressStream(file, progress), 81920);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            content.Headers.ContentLength = file.Length;
            return content;
        }
    }
}
