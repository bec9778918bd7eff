namespace ServerlessDb.Vfs;

/// <summary>
/// One stored version of a database file as the lazy reader sees it: its length and the immutable blocks that tile
/// it. Everything a connection opened on it reads comes from these blocks, so a reader never mixes versions. The
/// store implements it (chunks of the chunked layout, or fixed windows of a whole-file object pinned by its ETag);
/// nothing here knows which.
/// </summary>
internal interface IPinnedVersion
{
    /// <summary>The version as messages name it, e.g. <c>s3://bucket/db (ETag "abc")</c>.</summary>
    string Description { get; }

    /// <summary>The file's length in bytes: the size SQLite is told, and where reads stop.</summary>
    long Length { get; }

    /// <summary>
    /// The blocks in file order: the first at offset 0, each starting where the previous one ends, the last ending at
    /// <see cref="Length"/>. A lease checks this when it opens and refuses a version whose blocks do not tile the file.
    /// </summary>
    IReadOnlyList<IPinnedBlock> Blocks { get; }
}
