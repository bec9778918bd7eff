namespace ServerlessDb.Storage;

/// <summary>
/// The body of an <see cref="ObjectRead"/> as every backend hands it out: read-only, forward only, at most
/// <paramref name="length"/> bytes of <paramref name="inner"/> (all of it when null), disposing the stream and whatever
/// else the read holds (<paramref name="owner"/>: an HTTP response) with it.
/// </summary>
internal sealed class ObjectBodyStream(Stream inner, long? length = null, IDisposable? owner = null) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length ?? inner.Length;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    private int Allowed(int asked) => length is { } limit ? (int)Math.Min(asked, limit - _read) : asked;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer[..Allowed(buffer.Length)]);
        _read += read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken);
        _read += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner?.Dispose();
        }

        base.Dispose(disposing);
    }
}
