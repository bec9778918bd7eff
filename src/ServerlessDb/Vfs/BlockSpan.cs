namespace ServerlessDb.Vfs;

/// <summary>A span of one block: what the block cache is asked to fetch, as pieces.</summary>
/// <param name="OffsetInBlock">Where the span starts in the block.</param>
/// <param name="Length">How many bytes.</param>
internal readonly record struct BlockSpan(int OffsetInBlock, int Length)
{
    /// <summary>Where the span ends in the block (exclusive).</summary>
    public int End => OffsetInBlock + Length;
}
