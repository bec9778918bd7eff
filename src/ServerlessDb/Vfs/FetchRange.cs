namespace ServerlessDb.Vfs;

/// <summary>A span of the file that the fetch policy asks for: the part in the missed block is waited for, the rest is read ahead.</summary>
/// <param name="Offset">Where the span starts in the file (a piece boundary of its block).</param>
/// <param name="Length">How many bytes.</param>
internal readonly record struct FetchRange(long Offset, int Length)
{
    /// <summary>Where the span ends in the file (exclusive).</summary>
    public long End => Offset + Length;
}
