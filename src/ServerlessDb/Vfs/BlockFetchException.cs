namespace ServerlessDb.Vfs;

/// <summary>A fetch of a block brought other than the bytes asked for (too few, too many): nothing of it is cached or served.</summary>
internal sealed class BlockFetchException(string message) : Exception(message);
