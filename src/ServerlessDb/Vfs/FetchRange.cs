namespace ServerlessDb.Vfs;

/// <summary>A span of one block that one fetch asks for, piece-aligned at its start.</summary>
/// <param name="OffsetInBlock">Where the span starts in the block.</param>
/// <param name="Length">How many bytes; the last span of a block ends at the block's end.</param>
internal readonly record struct FetchRange(int OffsetInBlock, int Length)
{
    /// <summary>Where the span ends in the block (exclusive).</summary>
    public int End => OffsetInBlock + Length;
}
